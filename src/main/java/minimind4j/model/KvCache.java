package minimind4j.model;

import minimind4j.engine.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/** Keys and values of every layer, grown by each forward call; [B, KV, S, D] per layer. */
public final class KvCache implements AutoCloseable {
    private final Tensor[] keys;
    private final Tensor[] values;
    private long length;

    public KvCache(int layers) {
        keys = new Tensor[layers];
        values = new Tensor[layers];
    }

    public long length() { return length; }

    /** Appends a layer's new keys and values; returns everything cached for that layer, the new ones included. */
    Tensor[] append(int layer, Tensor k, Tensor v) {
        Tensor nk = keys[layer] == null ? k : torch.cat(new TensorVector(keys[layer], k), 2);
        Tensor nv = values[layer] == null ? v : torch.cat(new TensorVector(values[layer], v), 2);
        // the cache outlives the caller's per-token PointerScope
        Torch.keep(nk);
        Torch.keep(nv);
        if (keys[layer] != null) Torch.free(keys[layer]);
        if (values[layer] != null) Torch.free(values[layer]);
        keys[layer] = nk;
        values[layer] = nv;
        return new Tensor[]{nk, nv};
    }

    /** Counts {@code t} more positions once every layer has appended them. */
    void advance(long t) { length += t; }

    @Override
    public void close() {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) Torch.free(keys[i]);
            if (values[i] != null) Torch.free(values[i]);
            keys[i] = values[i] = null;
        }
        length = 0;
    }
}
