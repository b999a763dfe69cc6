#!/usr/bin/env python3
"""MiniMind's DPO stage on real PyTorch: trainer/train_dpo.py and dataset/lm_dataset.py's DPODataset, written for this
repository from reading MiniMind's code (jingyaogong/minimind) at two commits, on the model of scripts/minimind_torch.py:

  minimind2  commit 83e52f6a (the last MiniMind2 one): per sequence, the masked log-probabilities are averaged over the
             reply, mask.sum(1).clamp_min(1e-8) (issue #298); beta 0.1; post_processing_chat's empty_think_ratio 0.05.
  minimind3  current HEAD: per sequence they are summed; beta 0.15; empty_think_ratio 0.2.

Both: the chosen and rejected conversations rendered with the chat template (add_generation_prompt=False, no random
system prompt), the empty think block dropped when random() > empty_think_ratio, tokenized, truncated and padded to
max_seq_len; the loss mask marks every assistant reply (from after bos+"assistant\\n" through eos+"\\n"); x = ids[:-1],
y = ids[1:], mask = mask[1:]; chosen and rejected concatenated on the batch axis; log_softmax gathered at y for the
policy and for a frozen reference copy (no_grad); loss = -logsigmoid(beta * ((pi_c - pi_r) - (ref_c - ref_r))).mean()
+ aux_loss; AdamW (PyTorch defaults, weight_decay 0.01), MiniMind's cosine get_lr set every step, clip_grad_norm_ 1.0,
fp32 (MiniMind trains CPUs without autocast), randperm order after setup_seed(42 + epoch).

usage: minimind_dpo_torch.py DIR
  DIR/config.json  make_config's keyword arguments plus: version (minimind2|minimind3), beta, lr, epochs, batch_size,
                   max_seq_len, empty_think_ratio, tokenizer_dir, bos_ids, eos_ids, pad_id (the tokenizer's ids of
                   bos+"assistant\\n", eos+"\\n" and pad), reduction (optional: mean|sum, overrides the version's)
  DIR/start.pth    the starting weights (a MiniMind state dict)
  DIR/pairs.json   [{"chosen": {"messages", "text", "ids"}, "rejected": {...}}] in file order: the messages as the
                   record has them, and the ids of the rendered text as the project's tokenizer encodes it (whole text,
                   as MiniMind's tokenizer call). The text rendered here with Jinja2 must equal "text".
  lora_rank (optional) with DIR/lora_start.pth: the policy is the starting model with MiniMind's LoRA (model_lora.py:
                   B(A(x)) added to each named Linear; scripts/minimind_lora_torch.py) loaded from that file, and only the
                   adapters train (as train_lora.py: the rest requires_grad False, AdamW and clipping over the adapters);
                   the reference is the starting model without adapters (TRL's rule for a PEFT model).
Writes DIR/torch_after.pth (fp32 weights after training) and prints {"losses": [...], "rewards": [[chosen, rejected,
accuracy, margin], ...]} per step (TRL's rewards: beta * (policy - reference) log-probabilities, means over pairs).
"""
import json
import math
import os
import random
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minimind_torch as mm  # noqa: E402
import render_templates as rt  # noqa: E402
import minimind_lora_torch as ml  # noqa: E402

EMPTY_THINK = '<think>\n\n</think>\n\n'


def get_lr(current_step, total_steps, lr):
    return lr * (0.1 + 0.45 * (1 + math.cos(math.pi * current_step / total_steps)))


def loss_mask(ids, bos_id, eos_id, max_length):
    """DPODataset.generate_loss_mask: 1 from after each reply header through the end marker (or the end)."""
    mask = [0] * len(ids)
    i = 0
    while i < len(ids):
        if ids[i:i + len(bos_id)] == bos_id:
            start = i + len(bos_id)
            end = start
            while end < len(ids) and ids[end:end + len(eos_id)] != eos_id:
                end += 1
            for j in range(start, min(end + len(eos_id), max_length)):
                mask[j] = 1
            i = end + len(eos_id) if end < len(ids) else len(ids)
        else:
            i += 1
    return mask


def dataset(cfg, pairs):
    env = rt.make_environment()
    template, special = rt.load_tokenizer_config(cfg['tokenizer_dir'])
    compiled = env.from_string(template)
    random.seed(0)
    n, L = cfg['max_seq_len'], None
    rows = {k: [] for k in ('x_chosen', 'y_chosen', 'mask_chosen', 'x_rejected', 'y_rejected', 'mask_rejected')}
    for p in pairs:
        for side in ('chosen', 'rejected'):
            s = p[side]
            text = compiled.render(messages=s['messages'], tools=None, documents=None, add_generation_prompt=False, **special)
            if EMPTY_THINK in text and random.random() > cfg['empty_think_ratio']:
                text = text.replace(EMPTY_THINK, '')
            assert text == s['text'], f'rendering differs:\n{text!r}\n{s["text"]!r}'
            ids = s['ids'][:n]
            ids = ids + [cfg['pad_id']] * (n - len(ids))
            m = loss_mask(ids, cfg['bos_ids'], cfg['eos_ids'], n)
            rows['x_' + side].append(ids[:-1])
            rows['y_' + side].append(ids[1:])
            rows['mask_' + side].append(m[1:])
    return {k: torch.tensor(v, dtype=torch.long) for k, v in rows.items()}


def logits_to_log_probs(logits, labels):
    return torch.gather(F.log_softmax(logits, dim=2), dim=2, index=labels.unsqueeze(2)).squeeze(-1)


def dpo_loss(ref_lp, pol_lp, mask, beta, reduction):
    if reduction == 'mean':
        lengths = mask.sum(dim=1, keepdim=True).clamp_min(1e-8)
        ref = (ref_lp * mask).sum(dim=1) / lengths.squeeze()
        pol = (pol_lp * mask).sum(dim=1) / lengths.squeeze()
    else:
        ref = (ref_lp * mask).sum(dim=1)
        pol = (pol_lp * mask).sum(dim=1)
    half = ref.shape[0] // 2
    logits = (pol[:half] - pol[half:]) - (ref[:half] - ref[half:])
    chosen = beta * (pol[:half] - ref[:half]).detach()
    rejected = beta * (pol[half:] - ref[half:]).detach()
    rewards = [chosen.mean().item(), rejected.mean().item(), (chosen > rejected).float().mean().item(), (chosen - rejected).mean().item()]
    return -F.logsigmoid(beta * logits).mean(), rewards


def main(d):
    with open(os.path.join(d, 'config.json')) as f:
        cfg = json.load(f)
    model_keys = ('family', 'hidden_size', 'num_hidden_layers', 'use_moe', 'vocab_size')
    c = mm.make_config(**{k: cfg[k] for k in model_keys if k in cfg})
    reduction = cfg.get('reduction') or ('mean' if cfg['version'] == 'minimind2' else 'sum')
    with open(os.path.join(d, 'pairs.json')) as f:
        pairs = json.load(f)
    data = dataset(cfg, pairs)
    start = {k: v.float() for k, v in mm.load_allow_listed(os.path.join(d, 'start.pth')).items()}
    model, ref = mm.MiniMindLM(c), mm.MiniMindLM(c)
    for m in (model, ref):
        missing, unexpected = m.load_state_dict(start, strict=False)
        assert not unexpected and all(k == 'lm_head.weight' for k in missing), (missing, unexpected)
    params = list(model.parameters())
    if cfg.get('lora_rank'):
        lora_sd = {k: v.float() for k, v in torch.load(os.path.join(d, 'lora_start.pth')).items()}
        ml.apply_lora(model, cfg['lora_rank'], {k.split('.lora.')[0] for k in lora_sd})
        ml.load_lora(model, lora_sd)
        for n, p in model.named_parameters():
            p.requires_grad = 'lora' in n
        params = [p for n, p in model.named_parameters() if 'lora' in n]
    model.train()
    ref.eval()
    ref.requires_grad_(False)
    opt = torch.optim.AdamW(params, lr=cfg['lr'])
    n, bs, epochs = len(pairs), cfg['batch_size'], cfg['epochs']
    losses, rewards = [], []
    for epoch in range(epochs):
        torch.manual_seed(42 + epoch)
        order = torch.randperm(n).tolist()
        batches = [order[i:i + bs] for i in range(0, n, bs)]
        iters = len(batches)
        for step, b in enumerate(batches, start=1):
            for g in opt.param_groups:
                g['lr'] = get_lr(epoch * iters + step, epochs * iters, cfg['lr'])
            x = torch.cat([data['x_chosen'][b], data['x_rejected'][b]], dim=0)
            y = torch.cat([data['y_chosen'][b], data['y_rejected'][b]], dim=0)
            mask = torch.cat([data['mask_chosen'][b], data['mask_rejected'][b]], dim=0)
            with torch.no_grad():
                _, _, ref_logits = ref(x)
            ref_lp = logits_to_log_probs(ref_logits, y)
            _, aux, logits = model(x)
            pol_lp = logits_to_log_probs(logits, y)
            dpo, r = dpo_loss(ref_lp, pol_lp, mask, cfg['beta'], reduction)
            loss = dpo + aux
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
            rewards.append(r)
    torch.save({k: v.detach().float().clone() for k, v in model.state_dict().items()}, os.path.join(d, 'torch_after.pth'))
    print(json.dumps({'losses': losses, 'rewards': rewards}))


if __name__ == '__main__':
    main(sys.argv[1])
