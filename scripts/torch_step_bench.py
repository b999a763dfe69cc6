#!/usr/bin/env python3
"""Times MiniMind's own SFT training step on real PyTorch, on the batches `minimind bench --vs_torch` hands over.

MiniMind's layout (trainer/train_full_sft.py): every sample padded to max_seq_len, logits on every position, the
masked mean cross-entropy plus the MoE aux loss, backward, clip_grad_norm_(1.0), AdamW step. The model is
scripts/minimind_torch.py (this repository's PyTorch module of MiniMind's published architecture). Modes: fp32 (what
MiniMind does on a CPU) and bf16 autocast (torch.autocast('cpu', torch.bfloat16), MiniMind's CUDA setting forced onto
the CPU), each at the given thread counts. Prints one JSON object on stdout.

    /usr/bin/python3 scripts/torch_step_bench.py BATCHES.json [--threads 1,2] [--dtypes fp32,bf16] [--steps 3]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minimind_torch  # noqa: E402


def loaded_blas():
    """The BLAS library this process mapped (Debian's torch takes whatever libblas.so.3 the alternatives point at)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {os.path.basename(l.split()[-1]) for l in f if 'blas' in l or 'mkl' in l or 'blis' in l}
        return ', '.join(sorted(libs)) or 'none mapped'
    except OSError:
        return 'unknown'


def gemm_rate(spec, dtype):
    """FLOP/s of one [1920 x hidden] x [hidden x intermediate] product, best of 3: the engine's speed at this moment."""
    h = spec['hidden_size']
    i = spec.get('intermediate_size') or 64 * ((int(h * 8 / 3) + 63) // 64)
    t = torch.bfloat16 if dtype == 'bf16' else torch.float32
    a, b = torch.randn(1920, h).to(t), torch.randn(h, i).to(t)
    a @ b
    best = float('inf')
    for _ in range(3):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * 1920 * h * i / best


def run_mode(spec, batches, dtype, threads, steps):
    torch.set_num_threads(threads)
    gemm = gemm_rate(spec, dtype)
    torch.manual_seed(0)
    c = minimind_torch.make_config(spec['family'], hidden_size=spec['hidden_size'], num_hidden_layers=spec['num_hidden_layers'],
                                   use_moe=spec.get('use_moe', False), vocab_size=spec['vocab_size'])
    model = minimind_torch.MiniMindLM(c)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    seq = spec['max_seq_len']
    tensors = []
    for b in batches:
        ids = torch.zeros((len(b['ids']), seq), dtype=torch.long)
        labels = torch.full((len(b['ids']), seq), -100, dtype=torch.long)
        for r, (i, l) in enumerate(zip(b['ids'], b['labels'])):
            ids[r, :len(i)] = torch.tensor(i)
            labels[r, :len(l)] = torch.tensor(l)
        tensors.append((ids, labels))

    def step(ids, labels):
        if dtype == 'bf16':
            with torch.autocast('cpu', dtype=torch.bfloat16):
                loss, aux, _ = model(ids, labels)
        else:
            loss, aux, _ = model(ids, labels)
        (loss + aux).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss)

    step(*tensors[0])  # warm-up: allocator, oneDNN primitive caches
    t0 = time.perf_counter()
    done = tokens = supervised = 0
    losses = []
    while done < steps:
        ids, labels = tensors[done % len(tensors)]
        losses.append(step(ids, labels))
        tokens += ids.numel()
        supervised += int((labels[:, 1:] != -100).sum())
        done += 1
    secs = time.perf_counter() - t0
    return {'dtype': dtype, 'threads': threads, 'steps': done, 's_per_step': secs / done, 'tokens_per_s': tokens / secs,
            'supervised_tokens_per_s': supervised / secs, 'first_loss': losses[0], 'gemm_gflops': gemm / 1e9}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('batches')
    p.add_argument('--threads', default='1')
    p.add_argument('--dtypes', default='fp32,bf16')
    p.add_argument('--steps', type=int, default=3)
    a = p.parse_args()
    with open(a.batches, encoding='utf-8') as f:
        spec = json.load(f)
    modes = []
    for dtype in a.dtypes.split(','):
        for threads in (int(t) for t in a.threads.split(',')):
            modes.append(run_mode(spec, spec['batches'], dtype, threads, a.steps))
    blas = loaded_blas()
    # the process's peak resident memory over all modes (ru_maxrss is in KiB on Linux): MiniMind's largest step
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'torch': torch.__version__, 'blas': blas, 'modes': modes, 'peak_rss_mb': peak}))


if __name__ == '__main__':
    main()
