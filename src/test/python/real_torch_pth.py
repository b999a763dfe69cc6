"""Real PyTorch (Debian's python3-torch) on the .pth files: the other side of minimind4j's reader and writer.
  save PATH  torch.save a MiniMind-named state dict (float16, bfloat16, float32; a tied lm_head; a transposed,
             non-contiguous view; an OrderedDict as model.state_dict() gives) and print its values as JSON
  load PATH  torch.load(PATH, weights_only=True) (the restricted unpickler) and print every tensor's dtype, shape and
             values as JSON
  load-full PATH  the same with weights_only=False: torch 1.13's restricted unpickler has no opcode for Python floats
             (BINFLOAT), which a resume file's optimizer settings are; torch 2.x's accepts them
"""
import collections
import json
import sys

import torch


def describe(obj):
    if isinstance(obj, torch.Tensor):
        return {"dtype": str(obj.dtype).replace("torch.", ""), "shape": list(obj.shape),
                "values": obj.detach().to(torch.float64).flatten().tolist()}
    if isinstance(obj, dict):
        return {str(k): describe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [describe(v) for v in obj]
    if isinstance(obj, bytes):
        return {"bytes": len(obj)}
    return obj


mode, path = sys.argv[1], sys.argv[2]
if mode == "save":
    g = torch.Generator().manual_seed(7)
    embed = (torch.randn(16, 8, generator=g) * 3).half()
    sd = collections.OrderedDict()
    sd["model.embed_tokens.weight"] = embed
    sd["model.layers.0.self_attn.q_proj.weight"] = torch.randn(8, 8, generator=g).to(torch.bfloat16)
    sd["model.layers.0.mlp.down_proj.weight"] = torch.randn(4, 8, generator=g).t()  # float32, non-contiguous view
    sd["model.norm.weight"] = torch.tensor([1.0, -0.0, 65504.0, 6e-8, float("inf"), -2.5, 0.1, 3.0]).half()
    sd["lm_head.weight"] = embed  # tied: one storage, two keys
    torch.save(sd, path)
    print(json.dumps(describe(sd)))
elif mode == "load":
    print(json.dumps(describe(torch.load(path, weights_only=True))))
elif mode == "load-full":
    print(json.dumps(describe(torch.load(path, weights_only=False))))
else:
    sys.exit("unknown mode " + mode)
