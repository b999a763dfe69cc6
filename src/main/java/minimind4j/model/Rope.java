package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Rotary position embedding: MiniMind's precompute_freqs_cis tables [maxPositions, headDim] and apply_rotary_pos_emb.
 * Like MiniMind's non-persistent buffers the tables are never saved.
 */
final class Rope implements AutoCloseable {
    /** cos and sin for the positions of one forward, shaped to broadcast over q/k laid out [B, T, heads, D]. */
    record At(Tensor cos, Tensor sin) {
        Tensor apply(Tensor x) { return Rope.apply(x, cos, sin); }
    }

    private Tensor cos;
    private Tensor sin;

    Rope(ModelConfig c) {
        Tensor[] t = tables(c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta());
        cos = Torch.keep(t[0]);
        sin = Torch.keep(t[1]);
    }

    /** The tables as MiniMind computes them (fp32 outer product, cos/sin duplicated): {cos, sin}. */
    static Tensor[] tables(int dim, int end, double theta) {
        Tensor exps = torch.arange(Torch.scalar(0), Torch.scalar(dim), Torch.scalar(2), new TensorOptions(ScalarType.Float)).div(Torch.scalar(dim));
        Tensor freqs = torch.pow(Torch.scalar(theta), exps).reciprocal();
        Tensor t = torch.arange(Torch.scalar(end), new TensorOptions(ScalarType.Float));
        Tensor angles = torch.outer(t, freqs);
        Tensor cos = torch.cat(new TensorVector(angles.cos(), angles.cos()), -1);
        Tensor sin = torch.cat(new TensorVector(angles.sin(), angles.sin()), -1);
        return new Tensor[]{cos, sin};
    }

    /** q or k [B, T, heads, D] rotated: x*cos + rotate_half(x)*sin, in x's type. */
    static Tensor apply(Tensor x, Tensor cos, Tensor sin) {
        return RmsNorm.sameType(x.mul(cos).add(rotateHalf(x).mul(sin)), x);
    }

    private static Tensor rotateHalf(Tensor x) {
        long half = x.size(-1) / 2;
        return torch.cat(new TensorVector(x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)), -1);
    }

    /** Positions past..past+t-1 of every row. */
    At span(long past, long t) { return at(cos.narrow(0, past, t), sin.narrow(0, past, t)); }

    /** The given positions [T] of every row. */
    At at(Tensor positions) { return at(cos.index_select(0, positions), sin.index_select(0, positions)); }

    private static At at(Tensor c, Tensor s) {
        // [.., T, 1, D] broadcasts over heads of q/k laid out [B, T, H, D]
        return new At(c.dim() == 2 ? c.unsqueeze(1) : c.unsqueeze(2), s.dim() == 2 ? s.unsqueeze(1) : s.unsqueeze(2));
    }

    /** Row b of a one-token step at position {@code positions[b]}: [B, 1, 1, D]. */
    At rows(long[] positions) {
        Tensor pos = Torch.longsLike(cos, positions, positions.length);
        long b = positions.length;
        return new At(cos.index_select(0, pos).view(b, 1, 1, -1), sin.index_select(0, pos).view(b, 1, 1, -1));
    }

    void to(Device device) {
        Tensor c = Torch.keep(cos.to(device, ScalarType.Float)), s = Torch.keep(sin.to(device, ScalarType.Float));
        Torch.free(cos);
        Torch.free(sin);
        cos = c;
        sin = s;
    }

    @Override
    public void close() {
        Torch.free(cos);
        Torch.free(sin);
    }
}
