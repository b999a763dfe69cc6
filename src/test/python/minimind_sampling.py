"""The next-token distribution of MiniMind's generate() (model/model_minimind.py, MiniMindForCausalLM.generate), in
torch: temperature, repetition penalty on every token of input_ids, top_k, top_p with the shifted mask, softmax.
Reads JSON cases on stdin ([{"logits": [...], "seen": [...], "temperature", "top_k", "top_p", "repetition_penalty"}])
and prints the probability of every token per case as JSON. Written from MiniMind's lines, independently of
minimind4j's Sampling."""
import json
import sys

import torch

out = []
for case in json.load(sys.stdin):
    logits = torch.tensor([case["logits"]], dtype=torch.float64) / case["temperature"]
    input_ids = torch.tensor([case["seen"]], dtype=torch.long)
    rp, top_k, top_p = case["repetition_penalty"], case["top_k"], case["top_p"]
    if rp != 1.0:
        for i in range(input_ids.shape[0]):
            seen = torch.unique(input_ids[i]); score = logits[i, seen]
            logits[i, seen] = torch.where(score > 0, score / rp, score * rp)
    if top_k > 0:
        logits[logits < torch.topk(logits, top_k)[0][..., -1, None]] = -float('inf')
    if top_p < 1.0:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        mask = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1) > top_p
        mask[..., 1:], mask[..., 0] = mask[..., :-1].clone(), 0
        logits[mask.scatter(1, sorted_indices, mask)] = -float('inf')
    out.append(torch.softmax(logits, dim=-1)[0].tolist())
print(json.dumps(out))
