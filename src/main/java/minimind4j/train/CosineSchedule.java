package minimind4j.train;

/** MiniMind's learning rate: {@code lr * (0.1 + 0.45 * (1 + cos(pi * t / T)))}, from lr at t=0 down to 0.1*lr at t=T. */
public final class CosineSchedule {
    private CosineSchedule() {}

    public static double lr(long step, long totalSteps, double base) {
        return base * (0.1 + 0.45 * (1 + Math.cos(Math.PI * step / totalSteps)));
    }
}
