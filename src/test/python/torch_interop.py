#!/usr/bin/env python3
"""Real-PyTorch side of minimind4j's interop tests (resume files both ways, MoE numerics), on scripts/minimind_torch.py.

Every command works in a directory DIR holding config.json (make_config's keyword arguments plus 'lr'/'lrs'/'seed')
and writes its results there as .pth files, which the Java test reads back:

  continue DIR  DIR/resume.pth was written by minimind4j. Check its layout as MiniMind's lm_checkpoint writes it, load
                it as MiniMind's --from_resume 1 does (model.load_state_dict strict, optim.AdamW(model.parameters())
                .load_state_dict(ckp['optimizer']), GradScaler's state), take one training step on DIR/batch.pth
                and save the weights to DIR/torch_after.pth (fp32).
  make DIR      Train len(lrs) - 1 steps on DIR/batches.pth from a fresh model (torch.manual_seed(seed)), save
                DIR/resume.pth exactly as lm_checkpoint does (fp16 model, optimizer.state_dict(), ...), then resume
                from that file as MiniMind does and take the last step: DIR/torch_after.pth.
  init DIR      A fresh model as MiniMind builds it for the family (MiniMind2: PyTorch's defaults; minimind-3:
                post_init's N(0, 0.02)): prints each parameter's mean, std and largest |value| as JSON.
  grads DIR     Forward (train mode) + backward on DIR/batch.pth with the weights in DIR/weights.pth: DIR/torch_grads.pth
                holds every parameter's gradient plus 'loss' and 'aux_loss' as 0-dim tensors, and eval-mode logits.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'scripts'))
import minimind_torch as mm  # noqa: E402


def load_config(d):
    with open(os.path.join(d, 'config.json')) as f:
        raw = json.load(f)
    extra = {k: raw.pop(k) for k in ('lr', 'lrs', 'seed') if k in raw}
    return mm.make_config(**raw), extra


def train_step(model, opt, ids, labels, lr):
    """One step of MiniMind's train_epoch with accumulation_steps 1, fp32, grad_clip 1.0."""
    for g in opt.param_groups:
        g['lr'] = lr
    loss, aux, _ = model(ids, labels)
    (loss + aux).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return float(loss + aux)


def fp32(model):
    return {k: v.detach().float().clone() for k, v in model.state_dict().items()}


def cmd_continue(d):
    c, extra = load_config(d)
    ckp = mm.load_allow_listed(os.path.join(d, 'resume.pth'))
    report = {}
    for key in ('model', 'optimizer', 'epoch', 'step', 'world_size', 'wandb_id', 'scaler'):
        assert key in ckp, f'lm_checkpoint key {key!r} missing'
    assert isinstance(ckp['epoch'], int) and isinstance(ckp['step'], int) and ckp['world_size'] == 1 and ckp['wandb_id'] is None
    opt_sd = ckp['optimizer']
    group = opt_sd['param_groups'][0]
    for key in ('lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'maximize', 'foreach', 'capturable', 'differentiable', 'fused', 'params'):
        assert key in group, f'param_groups[0] has no {key!r}'
    assert isinstance(group['betas'], tuple), type(group['betas'])
    for i, s in opt_sd['state'].items():
        assert isinstance(i, int) and set(s) == {'step', 'exp_avg', 'exp_avg_sq'}, (i, sorted(s))
        assert torch.is_tensor(s['step']) and s['step'].dim() == 0 and s['step'].dtype == torch.float32
    model = mm.MiniMindLM(c)
    model.train()
    missing, unexpected = model.load_state_dict(ckp['model'], strict=True)
    opt = torch.optim.AdamW(model.parameters(), lr=extra['lr'])
    opt.load_state_dict(opt_sd)
    # MiniMind: scaler = GradScaler(enabled=(dtype == 'float16')); scaler.load_state_dict(ckp['scaler'])
    torch.cuda.amp.GradScaler(enabled=False).load_state_dict(ckp['scaler'])
    names = [n for n, _ in model.named_parameters()]
    report['steps'] = {names[i]: float(s['step']) for i, s in opt_sd['state'].items()}
    report['state_count'] = len(opt_sd['state'])
    report['param_count'] = len(list(model.parameters()))
    batch = torch.load(os.path.join(d, 'batch.pth'))
    report['loss'] = train_step(model, opt, batch['ids'], batch['labels'], extra['lr'])
    torch.save(fp32(model), os.path.join(d, 'torch_after.pth'))
    print(json.dumps(report))


def cmd_make(d):
    c, extra = load_config(d)
    torch.manual_seed(extra.get('seed', 0))
    model = mm.MiniMindLM(c)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=extra['lrs'][0])
    batches = torch.load(os.path.join(d, 'batches.pth'))
    lrs = extra['lrs']
    for s in range(len(lrs) - 1):
        train_step(model, opt, batches['ids'][s], batches['labels'][s], lrs[s])
    torch.save(mm.lm_checkpoint_layout(model, opt, epoch=0, step=len(lrs) - 1), os.path.join(d, 'resume.pth'))
    # MiniMind's --from_resume 1: a fresh model and optimizer, then the file's states
    ckp = torch.load(os.path.join(d, 'resume.pth'), map_location='cpu')
    resumed = mm.MiniMindLM(c)
    resumed.train()
    resumed.load_state_dict(ckp['model'])
    opt2 = torch.optim.AdamW(resumed.parameters(), lr=lrs[0])
    opt2.load_state_dict(ckp['optimizer'])
    torch.save(fp32(resumed), os.path.join(d, 'torch_before.pth'))
    train_step(resumed, opt2, batches['ids'][-1], batches['labels'][-1], lrs[-1])
    torch.save(fp32(resumed), os.path.join(d, 'torch_after.pth'))
    print(json.dumps({'params': [n for n, _ in resumed.named_parameters()]}))


def cmd_grads(d):
    c, _ = load_config(d)
    model = mm.MiniMindLM(c)
    # a weights file holds only tensors: torch 1.13's weights_only=True must read it
    model.load_state_dict(torch.load(os.path.join(d, 'weights.pth'), map_location='cpu', weights_only=True), strict=True)
    batch = torch.load(os.path.join(d, 'batch.pth'))
    model.train()
    loss, aux, _ = model(batch['ids'], batch['labels'])
    (loss + aux).backward()
    out = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    out['loss'] = loss.detach().clone()
    out['aux_loss'] = aux.detach().clone()
    model.eval()
    with torch.no_grad():
        _, eval_aux, logits = model(batch['ids'])
    out['eval_logits'] = logits.clone()
    out['eval_aux_loss'] = eval_aux.detach().clone()
    torch.save(out, os.path.join(d, 'torch_grads.pth'))
    print(json.dumps({'loss': float(loss), 'aux_loss': float(aux)}))


def cmd_init(d):
    c, extra = load_config(d)
    torch.manual_seed(extra.get('seed', 0))
    model = mm.MiniMindLM(c)
    stats = {n: {'mean': float(p.mean()), 'std': float(p.std()), 'max_abs': float(p.abs().max())} for n, p in model.named_parameters()}
    print(json.dumps(stats))


if __name__ == '__main__':
    {'continue': cmd_continue, 'make': cmd_make, 'grads': cmd_grads, 'init': cmd_init}[sys.argv[1]](sys.argv[2])
