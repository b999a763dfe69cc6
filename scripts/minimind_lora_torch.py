#!/usr/bin/env python3
"""MiniMind's dense architecture and its LoRA in plain PyTorch, to check minimind4j's files against real torch.

The model is scripts/minimind_torch.py (this project's PyTorch module of MiniMind's published architecture); the LoRA
follows model/model_lora.py's behaviour (a LoRA module holding nn.Linear A [rank, in] and B [out, rank], attached as
`<module>.lora` to every square nn.Linear, forward W x + B(A(x)); load_lora strips a "module." prefix and loads each
module's `<name>.lora.*` entries strictly). Module names equal MiniMind's, so state dict keys do too.

Runs on torch 1.13 (no scaled_dot_product_attention): attention is written out.

  python3 minimind_lora_torch.py --weight BASE.pth [--lora ADAPTER.pth] --samples samples.jsonl [--heads 8]

samples.jsonl: one {"ids": [...], "labels": [...]} per line (labels -100 where not supervised, unshifted).
Prints one JSON object: the token-mean cross-entropy over supervised targets, and the number of targets.
"""
import argparse
import json
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minimind_torch import MiniMindLM, make_config  # noqa: E402  (this repository's PyTorch MiniMind, both families)


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
    return make_config("minimind3" if qk_norm else "minimind2", hidden_size=hidden, num_hidden_layers=layers, vocab_size=vocab,
                       num_attention_heads=sd["model.layers.0.self_attn.q_proj.weight"].shape[0] // head_dim,
                       num_key_value_heads=sd["model.layers.0.self_attn.k_proj.weight"].shape[0] // head_dim,
                       intermediate_size=sd["model.layers.0.mlp.gate_proj.weight"].shape[0], max_position_embeddings=4096)


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
    model = MiniMindLM(config_from(sd, a.heads))
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
            logits = model(ids)[2][0, :-1].float()
            mask = labels != -100
            if mask.any():
                total += F.cross_entropy(logits[mask], labels[mask], reduction="sum").item()
                count += int(mask.sum())
    print(json.dumps({"loss": total / count, "tokens": count}))


if __name__ == "__main__":
    main()
