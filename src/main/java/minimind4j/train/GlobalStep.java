package minimind4j.train;

/**
 * What a log line reports, over all ranks: the micro-step's loss as the update sees it (batches: the mean of the
 * ranks' losses; tokens: their supervised-token-weighted mean) and the tokens every rank processed since the last
 * log line. One small allreduce, made only at log steps (every rank logs at the same steps).
 */
record GlobalStep(double loss, double logitsLoss, double auxLoss, double tokens, double supervised) {
    static GlobalStep of(Distributed dist, double weight, double loss, double logitsLoss, double auxLoss, long tokens, long supervised) {
        double[] s = dist.sum(new double[]{loss * weight, logitsLoss * weight, auxLoss * weight, weight, tokens, supervised});
        double w = s[3];
        // a window whose micro-batches all lacked targets has weight 0 under tokens: its loss is not defined
        return new GlobalStep(w > 0 ? s[0] / w : Double.NaN, w > 0 ? s[1] / w : Double.NaN, w > 0 ? s[2] / w : Double.NaN, s[4], s[5]);
    }
}
