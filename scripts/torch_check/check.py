#!/usr/bin/env python3
"""Checks minimind4j's files with real PyTorch and transformers: torch.load of the .pth files this project writes,
the Hugging Face export loaded by AutoModelForCausalLM, MiniMind's state-dict names loading strictly into
transformers' Llama, and greedy continuations equal to minimind4j's. Inputs come from scripts/torch_check/prepare.sh.

usage: python3 scripts/torch_check/check.py out/device-check   (prints PASS/FAIL lines; exit 1 on any FAIL)
"""
import json
import re
import sys
import traceback

import torch

results = []


def check(name, fn):
    try:
        ok, detail = fn()
    except Exception:  # a check that crashes is a failure with its reason, and the others still run
        ok, detail = False, traceback.format_exc(limit=3).strip().splitlines()[-1]
    results.append({"check": name, "ok": bool(ok), "detail": detail})
    print(("PASS  " if ok else "FAIL  ") + name + (f"  [{detail}]" if detail else ""), flush=True)


d = sys.argv[1] if len(sys.argv) > 1 else "out/device-check"
sd = torch.load(f"{d}/pretrain_128.pth", map_location="cpu", weights_only=True)


def fp16_state_dict():
    dtypes = {str(t.dtype) for t in sd.values()}
    return dtypes == {"torch.float16"}, f"{len(sd)} tensors, dtypes {sorted(dtypes)}"


def tied_keys():
    return torch.equal(sd["model.embed_tokens.weight"], sd["lm_head.weight"]), ""


def resume_file():
    r = torch.load(f"{d}/sft/full_sft_128_resume.pth", map_location="cpu", weights_only=True)
    fp32 = all(t.dtype == torch.float32 for t in r["model"].values())
    keys = {"model", "optimizer", "epoch", "step", "world_size", "seed", "config"} <= set(r)
    half = torch.load(f"{d}/sft/full_sft_128.pth", map_location="cpu", weights_only=True)
    rounded = all(torch.equal(r["model"][k].half(), half[k]) for k in half if k in r["model"])
    return fp32 and keys and rounded, f"epoch {r['epoch']}, step {r['step']}, config {r['config'].get('hidden_size')}"


check("pth: torch.load(weights_only=True) reads the fp16 state dict", fp16_state_dict)
check("pth: the tied embedding is saved as lm_head.weight too, equal", tied_keys)
check("resume: weights_only load; fp32 model whose fp16 rounding is the saved weights", resume_file)

from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

state = {}


def export_loads():
    try:
        m = AutoModelForCausalLM.from_pretrained(f"{d}/hf", dtype=torch.float32)
    except TypeError:  # transformers 4 spells it torch_dtype
        m = AutoModelForCausalLM.from_pretrained(f"{d}/hf", torch_dtype=torch.float32)
    state["model"] = m.eval()
    return type(m).__name__ == "LlamaForCausalLM", type(m).__name__


def export_tensors():
    st = load_file(f"{d}/hf/model.safetensors")
    return all(torch.equal(st[k], sd[k]) for k in st) and "lm_head.weight" not in st, f"{len(st)} tensors"


def strict_llama_load():
    m = state["model"]
    m.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    return True, "no missing or unexpected keys"


def greedy_equal_in(hf_dir, greedy_file):
    m, tok = state["model"], AutoTokenizer.from_pretrained(hf_dir)
    text = open(greedy_file, encoding="utf-8").read()
    pairs = re.findall(r"💬: (.*?)\n🧠: (.*?)\n\n(?=💬|\Z)", text, re.S)
    same = 0
    for q, a in pairs:
        ids = tok(tok.bos_token + q, add_special_tokens=False, return_tensors="pt").input_ids
        with torch.no_grad():
            out = m.generate(ids, do_sample=False, max_new_tokens=24, eos_token_id=tok.eos_token_id,
                             pad_token_id=tok.pad_token_id)
        hf = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        same += hf == a
        if hf != a:
            print(f"   differs for {q!r}:\n     minimind4j: {a!r}\n     transformers: {hf!r}")
    return len(pairs) > 0 and same == len(pairs), f"{same}/{len(pairs)} prompts"


def greedy_equal():
    return greedy_equal_in(f"{d}/hf", f"{d}/greedy.txt")


check("export: AutoModelForCausalLM.from_pretrained loads it as LlamaForCausalLM", export_loads)
if "model" in state:
    check("export: model.safetensors holds the .pth's tensors (lm_head left to the tie)", export_tensors)
    check("pth: MiniMind's names load strictly into transformers' Llama", strict_llama_load)
    check("greedy continuations: transformers' Llama == minimind4j's model", greedy_equal)

def resume_into_torch_adamw():
    """The resume file as MiniMind's --from_resume 1 reads it: strict load into the PyTorch module, AdamW state."""
    sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), ".."))
    import minimind_torch as mm
    r = torch.load(f"{d}/moe/full_sft_64_moe_resume.pth", map_location="cpu", weights_only=True)
    c = mm.make_config("minimind3", 64, 2, True, vocab_size=r["config"]["vocab_size"])
    model = mm.MiniMindLM(c)
    model.load_state_dict(r["model"], strict=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    opt.load_state_dict(r["optimizer"])
    n = sum(1 for _ in model.parameters())
    return len(opt.state) == n, f"{len(opt.state)}/{n} parameters with AdamW state, torch {torch.__version__}"


def moe_greedy_equal():
    try:
        m = AutoModelForCausalLM.from_pretrained(f"{d}/hf_moe", dtype=torch.float32)
    except TypeError:
        m = AutoModelForCausalLM.from_pretrained(f"{d}/hf_moe", torch_dtype=torch.float32)
    if type(m).__name__ != "Qwen3MoeForCausalLM":
        return False, type(m).__name__
    state["model"], saved = m.eval(), state.get("model")
    try:
        ok, detail = greedy_equal_in(f"{d}/hf_moe", f"{d}/greedy_moe.txt")
    finally:
        state["model"] = saved
    return ok, detail


check("resume: minimind-3 MoE file loads strictly into the PyTorch module and torch.optim.AdamW", resume_into_torch_adamw)
check("export: minimind-3 MoE as Qwen3MoeForCausalLM, greedy continuations == minimind4j's", moe_greedy_equal)

json.dump(results, open(f"{d}/torch_check.json", "w"), indent=1, ensure_ascii=False)
sys.exit(0 if all(r["ok"] for r in results) else 1)
