package minimind4j.model;

import java.util.Map;

/**
 * An independent, deliberately naive double-precision MiniMind forward written from the Python model's definition
 * (model_minimind.py), used to check the libtorch model. No libtorch call is involved.
 */
public final class ReferenceForward {
    private ReferenceForward() {}

    public static double[][] logits(ModelConfig c, Map<String, float[]> w, long[] ids) {
        int T = ids.length, H = c.hiddenSize(), nh = c.numAttentionHeads(), nkv = c.numKeyValueHeads(), D = c.headDim();
        double[][] x = new double[T][H];
        float[] emb = w.get("model.embed_tokens.weight");
        for (int t = 0; t < T; t++) for (int i = 0; i < H; i++) x[t][i] = emb[(int) ids[t] * H + i];
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] a = norm(x, w.get(p + "input_layernorm.weight"), c.rmsNormEps());
            double[][] q = mm(a, w.get(p + "self_attn.q_proj.weight"), nh * D);
            double[][] k = mm(a, w.get(p + "self_attn.k_proj.weight"), nkv * D);
            double[][] v = mm(a, w.get(p + "self_attn.v_proj.weight"), nkv * D);
            if (c.qkNorm()) {
                q = headNorm(q, w.get(p + "self_attn.q_norm.weight"), nh, D, c.rmsNormEps());
                k = headNorm(k, w.get(p + "self_attn.k_norm.weight"), nkv, D, c.rmsNormEps());
            }
            rope(q, nh, D, c.ropeTheta());
            rope(k, nkv, D, c.ropeTheta());
            double[][] o = new double[T][nh * D];
            int rep = nh / nkv;
            for (int hh = 0; hh < nh; hh++) {
                int kh = hh / rep; // repeat_kv: each KV head serves rep consecutive query heads
                for (int t = 0; t < T; t++) {
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double dot = 0;
                        for (int d = 0; d < D; d++) dot += q[t][hh * D + d] * k[u][kh * D + d];
                        s[u] = dot / Math.sqrt(D);
                        max = Math.max(max, s[u]);
                    }
                    double z = 0;
                    for (int u = 0; u <= t; u++) { s[u] = Math.exp(s[u] - max); z += s[u]; }
                    for (int u = 0; u <= t; u++)
                        for (int d = 0; d < D; d++) o[t][hh * D + d] += s[u] / z * v[u][kh * D + d];
                }
            }
            add(x, mm(o, w.get(p + "self_attn.o_proj.weight"), H));
            double[][] m = norm(x, w.get(p + "post_attention_layernorm.weight"), c.rmsNormEps());
            if (!c.useMoe()) {
                add(x, ffn(m, w, p + "mlp.", c));
            } else {
                add(x, moe(m, w, p + "mlp.", c));
            }
        }
        double[][] hN = norm(x, w.get("model.norm.weight"), c.rmsNormEps());
        return mm(hN, emb, c.vocabSize());
    }

    public static double loss(double[][] logits, long[] labels) {
        double sum = 0;
        int n = 0;
        for (int t = 0; t + 1 < labels.length; t++) {
            long y = labels[t + 1];
            if (y == -100) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits[t]) max = Math.max(max, v);
            double z = 0;
            for (double v : logits[t]) z += Math.exp(v - max);
            sum += -(logits[t][(int) y] - max - Math.log(z));
            n++;
        }
        return sum / n;
    }

    private static double[][] ffn(double[][] x, Map<String, float[]> w, String p, ModelConfig c) {
        int I = c.intermediateSize();
        double[][] g = mm(x, w.get(p + "gate_proj.weight"), I), u = mm(x, w.get(p + "up_proj.weight"), I);
        for (int t = 0; t < g.length; t++)
            for (int i = 0; i < I; i++) g[t][i] = g[t][i] / (1 + Math.exp(-g[t][i])) * u[t][i];
        return mm(g, w.get(p + "down_proj.weight"), c.hiddenSize());
    }

    private static double[][] moe(double[][] x, Map<String, float[]> w, String p, ModelConfig c) {
        int E = c.nRoutedExperts(), K = c.numExpertsPerTok(), H = c.hiddenSize();
        double[][] scores = mm(x, w.get(p + "gate.weight"), E);
        double[][] y = new double[x.length][H];
        for (int t = 0; t < x.length; t++) {
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (double s : scores[t]) max = Math.max(max, s);
            double[] pr = new double[E];
            for (int e = 0; e < E; e++) { pr[e] = Math.exp(scores[t][e] - max); z += pr[e]; }
            for (int e = 0; e < E; e++) pr[e] /= z;
            boolean[] taken = new boolean[E];
            int[] top = new int[K];
            double wsum = 0;
            for (int j = 0; j < K; j++) {
                int best = -1;
                for (int e = 0; e < E; e++) if (!taken[e] && (best < 0 || pr[e] > pr[best])) best = e;
                taken[best] = true;
                top[j] = best;
                wsum += pr[best];
            }
            for (int j = 0; j < K; j++) {
                double weight = (K > 1 && c.normTopkProb()) ? pr[top[j]] / (wsum + 1e-20) : pr[top[j]];
                double[][] out = ffn(new double[][]{x[t]}, w, p + "experts." + top[j] + ".", c);
                for (int i = 0; i < H; i++) y[t][i] += weight * out[0][i];
            }
        }
        for (int s = 0; s < c.nSharedExperts(); s++) add(y, ffn(x, w, p + "shared_experts." + s + ".", c));
        return y;
    }

    private static void rope(double[][] x, int heads, int D, double theta) {
        for (int t = 0; t < x.length; t++)
            for (int h = 0; h < heads; h++) {
                double[] r = new double[D];
                for (int d = 0; d < D; d++) {
                    int i = d % (D / 2);
                    double f = t / Math.pow(theta, (2.0 * i) / D);
                    double rot = d < D / 2 ? -x[t][h * D + d + D / 2] : x[t][h * D + d - D / 2];
                    r[d] = x[t][h * D + d] * Math.cos(f) + rot * Math.sin(f);
                }
                System.arraycopy(r, 0, x[t], h * D, D);
            }
    }

    private static double[][] headNorm(double[][] x, float[] wt, int heads, int D, double eps) {
        double[][] out = new double[x.length][heads * D];
        for (int t = 0; t < x.length; t++)
            for (int h = 0; h < heads; h++) {
                double ms = 0;
                for (int d = 0; d < D; d++) ms += x[t][h * D + d] * x[t][h * D + d];
                double r = 1 / Math.sqrt(ms / D + eps);
                for (int d = 0; d < D; d++) out[t][h * D + d] = x[t][h * D + d] * r * wt[d];
            }
        return out;
    }

    private static double[][] norm(double[][] x, float[] wt, double eps) {
        return headNorm(x, wt, 1, x[0].length, eps);
    }

    /** x [T, in] times W^T where W is [out, in] row-major (a PyTorch Linear weight). */
    private static double[][] mm(double[][] x, float[] wt, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++)
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += x[t][i] * wt[o * in + i];
                y[t][o] = s;
            }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int t = 0; t < x.length; t++) for (int i = 0; i < x[t].length; i++) x[t][i] += y[t][i];
    }
}
