#!/usr/bin/env python3
"""MiniMind's dense architecture and its LoRA in plain PyTorch, to check minimind4j's files against real torch.

Written for this project from MiniMind's published architecture (model/model_minimind.py: RMSNorm, rotary
embeddings with rotate_half, grouped-query attention, SwiGLU feed-forward, lm_head tied to the embedding) and
model/model_lora.py's behaviour (a LoRA module holding nn.Linear A [rank, in] and B [out, rank], attached as
`<module>.lora` to every square nn.Linear, forward W x + B(A(x)); load_lora strips a "module." prefix and loads each
module's `<name>.lora.*` entries strictly). Module names equal MiniMind's, so state dict keys do too.

Runs on torch 1.13 (no scaled_dot_product_attention): attention is written out.

  python3 minimind_lora_torch.py --weight BASE.pth [--lora ADAPTER.pth] --samples samples.jsonl [--heads 8]

samples.jsonl: one {"ids": [...], "labels": [...]} per line (labels -100 where not supervised, unshifted).
Prints one JSON object: the token-mean cross-entropy over supervised targets, and the number of targets.
"""
import argparse
import json
import math

import torch
from torch import nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        normed = x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.type_as(x)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = c["heads"], c["kv_heads"], c["head_dim"]
        h = c["hidden"]
        self.q_proj = nn.Linear(h, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(h, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(h, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, h, bias=False)
        self.qk_norm = c["qk_norm"]
        if self.qk_norm:
            self.q_norm = RMSNorm(self.head_dim, c["eps"])
            self.k_norm = RMSNorm(self.head_dim, c["eps"])

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        cos, sin = cos[:t].unsqueeze(1), sin[:t].unsqueeze(1)  # [T, 1, D] over [B, T, H, D]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        rep = self.heads // self.kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        scores = scores.masked_fill(causal, float("-inf"))
        out = F.softmax(scores.float(), dim=-1).type_as(q) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["hidden"], c["intermediate"], bias=False)
        self.down_proj = nn.Linear(c["intermediate"], c["hidden"], bias=False)
        self.up_proj = nn.Linear(c["hidden"], c["intermediate"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.input_layernorm = RMSNorm(c["hidden"], c["eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden"], c["eps"])
        self.mlp = FeedForward(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab"], c["hidden"])
        self.layers = nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["hidden"], c["eps"])
        d = c["head_dim"]
        inv = 1.0 / (c["theta"] ** (torch.arange(0, d, 2)[: d // 2].float() / d))
        ang = torch.outer(torch.arange(c["positions"]).float(), inv)
        self.register_buffer("cos", torch.cat([ang.cos(), ang.cos()], dim=-1), persistent=False)
        self.register_buffer("sin", torch.cat([ang.sin(), ang.sin()], dim=-1), persistent=False)

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin)
        return self.norm(x)


class MiniMindCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = Decoder(c)
        self.lm_head = nn.Linear(c["hidden"], c["vocab"], bias=False)
        self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, ids):
        return self.lm_head(self.model(ids))


def config_from(sd, heads):
    """MiniMind2 / minimind-3 dense hyper-parameters from a state dict's shapes (MoE is not covered here)."""
    if "model.layers.0.mlp.gate.weight" in sd:
        raise SystemExit("MoE weights are not covered by this reference module")
    vocab, hidden = sd["model.embed_tokens.weight"].shape
    layers = 0
    while f"model.layers.{layers}.input_layernorm.weight" in sd:
        layers += 1
    qk_norm = "model.layers.0.self_attn.q_norm.weight" in sd
    head_dim = sd["model.layers.0.self_attn.q_norm.weight"].shape[0] if qk_norm else hidden // heads
    return dict(vocab=vocab, hidden=hidden, layers=layers, qk_norm=qk_norm, head_dim=head_dim,
                heads=sd["model.layers.0.self_attn.q_proj.weight"].shape[0] // head_dim,
                kv_heads=sd["model.layers.0.self_attn.k_proj.weight"].shape[0] // head_dim,
                intermediate=sd["model.layers.0.mlp.gate_proj.weight"].shape[0],
                eps=1e-6 if qk_norm else 1e-5, theta=1e6, positions=4096)


class LoRA(nn.Module):
    """model_lora.py's adapter: two bias-free Linear layers, output B(A(x))."""

    def __init__(self, in_features, out_features, rank):
        super().__init__()
        self.A = nn.Linear(in_features, rank, bias=False)
        self.B = nn.Linear(rank, out_features, bias=False)
        nn.init.normal_(self.A.weight, std=0.02)
        nn.init.zeros_(self.B.weight)

    def forward(self, x):
        return self.B(self.A(x))


def apply_lora(model, rank, wanted=None):
    """Attaches a LoRA to every square nn.Linear (MiniMind's rule), or to the modules named in `wanted`."""
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear):
            continue
        if wanted is None and module.in_features != module.out_features:
            continue
        if wanted is not None and name not in wanted:
            continue
        module.lora = LoRA(module.in_features, module.out_features, rank)
        module.forward = (lambda base, extra: (lambda x: base(x) + extra(x)))(module.forward, module.lora)


def load_lora(model, sd):
    """model_lora.py's load_lora semantics: drop a "module." prefix, load each adapted module's entries strictly."""
    sd = {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}
    used = set()
    for name, module in model.named_modules():
        if hasattr(module, "lora"):
            part = {k.replace(f"{name}.lora.", ""): v for k, v in sd.items() if f"{name}.lora." in k}
            module.lora.load_state_dict(part)  # strict: a missing or extra A/B key raises
            used.update(k for k in sd if f"{name}.lora." in k)
    unused = sorted(set(sd) - used)
    if unused:
        raise SystemExit(f"adapter keys no module took: {unused[:4]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weight", required=True)
    ap.add_argument("--lora")
    ap.add_argument("--lora_modules", choices=["square", "file"], default="square",
                    help="square: MiniMind's apply_lora rule; file: the modules the adapter file names")
    ap.add_argument("--samples", required=True)
    ap.add_argument("--heads", type=int, default=8)
    a = ap.parse_args()
    torch.manual_seed(0)
    sd = torch.load(a.weight, map_location="cpu")
    sd = {k: v.float() for k, v in sd.items()}
    model = MiniMindCausalLM(config_from(sd, a.heads))
    model.load_state_dict(sd, strict=True)
    if a.lora:
        lora_sd = {k: v.float() for k, v in torch.load(a.lora, map_location="cpu").items()}
        rank = next(v for k, v in lora_sd.items() if k.endswith(".lora.A.weight")).shape[0]
        wanted = None if a.lora_modules == "square" else {k.split(".lora.")[0] for k in lora_sd}
        apply_lora(model, rank, wanted)
        load_lora(model, lora_sd)
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), open(a.samples) as f:
        for line in f:
            s = json.loads(line)
            ids = torch.tensor([s["ids"]])
            labels = torch.tensor(s["labels"][1:])
            logits = model(ids)[0, :-1].float()
            mask = labels != -100
            if mask.any():
                total += F.cross_entropy(logits[mask], labels[mask], reduction="sum").item()
                count += int(mask.sum())
    print(json.dumps({"loss": total / count, "tokens": count}))


if __name__ == "__main__":
    main()
