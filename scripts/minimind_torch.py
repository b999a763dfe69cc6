#!/usr/bin/env python3
"""MiniMind's model (MiniMindForCausalLM) in plain PyTorch, written for this repository from the published
architecture, so that minimind4j's files and numbers can be checked against real PyTorch without transformers (Debian's
python3-torch 1.13 has neither transformers nor scaled_dot_product_attention; the attention is the explicit softmax
path MiniMind falls back to).

Two families, as --model_family in minimind4j:
  minimind2  MiniMind2 (jingyaogong/minimind before the minimind-3 commit): 8 heads / 2 KV heads, no q/k norm,
             FFN 64*ceil(int(h*8/3)/64), RMSNorm eps 1e-5, MoE = 4 routed + 1 shared expert, top-2, MoEGate with a
             sequence-level aux loss (alpha 0.01); no post_init, so PyTorch's own init (the tied embedding keeps
             lm_head's kaiming-uniform values).
  minimind3  minimind-3 (current model/model_minimind.py): 8 / 4 heads, per-head q/k RMSNorm, FFN ceil(h*pi/64)*64,
             eps 1e-6, MoE = 4 routed experts, top-1, no shared expert, weights renormalised (norm_topk_prob) and
             aux = sum(load * mean score) * E * 5e-4; post_init, so transformers' _init_weights: every Linear and the
             embedding N(0, 0.02), norms ones.

Module registration order follows MiniMind's exactly: model.parameters() order (the index space of
optimizer.state_dict()) and state_dict() names are MiniMind's.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_config(family='minimind2', hidden_size=512, num_hidden_layers=8, use_moe=False, vocab_size=6400, **kw):
    """The hyper-parameters of one family; keyword arguments override (e.g. num_attention_heads)."""
    if family == 'minimind2':
        inter = int(hidden_size * 8 / 3)
        c = dict(num_attention_heads=8, num_key_value_heads=2, intermediate_size=64 * ((inter + 63) // 64),
                 rms_norm_eps=1e-5, qk_norm=False, num_experts=4, num_experts_per_tok=2, n_shared_experts=1,
                 aux_loss_alpha=0.01, seq_aux=True, norm_topk_prob=True)
    elif family == 'minimind3':
        c = dict(num_attention_heads=8, num_key_value_heads=4, intermediate_size=math.ceil(hidden_size * math.pi / 64) * 64,
                 rms_norm_eps=1e-6, qk_norm=True, num_experts=4, num_experts_per_tok=1, n_shared_experts=0,
                 aux_loss_alpha=5e-4, seq_aux=False, norm_topk_prob=True)
    else:
        raise ValueError(family)
    c.update(family=family, hidden_size=hidden_size, num_hidden_layers=num_hidden_layers, use_moe=bool(use_moe),
             vocab_size=vocab_size, rope_theta=1e6, max_position_embeddings=32768)
    c.update(kw)
    c.setdefault('moe_intermediate_size', c['intermediate_size'])
    return c


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        f = x.float()
        return (self.weight * (f * torch.rsqrt(f.pow(2).mean(-1, keepdim=True) + self.eps))).type_as(x)


def rotary_tables(dim, end, theta):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: dim // 2].float() / dim))
    angles = torch.outer(torch.arange(end).float(), freqs)
    return torch.cat([angles.cos(), angles.cos()], -1), torch.cat([angles.sin(), angles.sin()], -1)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.kv, self.d = c['num_attention_heads'], c['num_key_value_heads'], c['hidden_size'] // c['num_attention_heads']
        hs = c['hidden_size']
        self.q_proj = nn.Linear(hs, self.h * self.d, bias=False)
        self.k_proj = nn.Linear(hs, self.kv * self.d, bias=False)
        self.v_proj = nn.Linear(hs, self.kv * self.d, bias=False)
        self.o_proj = nn.Linear(self.h * self.d, hs, bias=False)
        self.qk_norm = c['qk_norm']
        if self.qk_norm:
            self.q_norm = RMSNorm(self.d, c['rms_norm_eps'])
            self.k_norm = RMSNorm(self.d, c['rms_norm_eps'])

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.h, self.d)
        k = self.k_proj(x).view(b, t, self.kv, self.d)
        v = self.v_proj(x).view(b, t, self.kv, self.d)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q = (q * cos + rotate_half(q) * sin).to(q.dtype)
        k = (k * cos + rotate_half(k) * sin).to(k.dtype)
        rep = self.h // self.kv
        k = k[:, :, :, None, :].expand(b, t, self.kv, rep, self.d).reshape(b, t, self.h, self.d)
        v = v[:, :, :, None, :].expand(b, t, self.kv, rep, self.d).reshape(b, t, self.h, self.d)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.d)
        scores = scores + torch.full((t, t), float('-inf')).triu(1)
        o = F.softmax(scores.float(), dim=-1).type_as(q) @ v
        return self.o_proj(o.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, c, inter=None):
        super().__init__()
        inter = inter or c['intermediate_size']
        self.gate_proj = nn.Linear(c['hidden_size'], inter, bias=False)
        self.down_proj = nn.Linear(inter, c['hidden_size'], bias=False)
        self.up_proj = nn.Linear(c['hidden_size'], inter, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class MoEGate2(nn.Module):
    """MiniMind2's MoEGate: its own weight parameter (kaiming-uniform like a Linear), softmax, top-k, seq aux loss."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.weight = nn.Parameter(torch.empty(c['num_experts'], c['hidden_size']))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x):
        c = self.c
        b, t, h = x.shape
        scores = F.linear(x.view(-1, h), self.weight).softmax(-1)
        w, idx = torch.topk(scores, k=c['num_experts_per_tok'], dim=-1, sorted=False)
        if c['num_experts_per_tok'] > 1 and c['norm_topk_prob']:
            w = w / (w.sum(-1, keepdim=True) + 1e-20)
        if self.training and c['aux_loss_alpha'] > 0:
            k, e = c['num_experts_per_tok'], c['num_experts']
            if c['seq_aux']:
                ce = torch.zeros(b, e).scatter_add_(1, idx.view(b, -1), torch.ones(b, t * k)).div_(t * k / e)
                aux = (ce * scores.view(b, t, -1).mean(1)).sum(1).mean() * c['aux_loss_alpha']
            else:
                ce = F.one_hot(idx.view(-1), e).float().mean(0)
                aux = (scores.mean(0) * ce * e).sum() * c['aux_loss_alpha']
        else:
            aux = scores.new_zeros(()).squeeze()
        return idx, w, aux


class MOEFeedForward2(nn.Module):
    """MiniMind2's MOEFeedForward (registration order: experts, gate, shared_experts), training path."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.experts = nn.ModuleList([FeedForward(c) for _ in range(c['num_experts'])])
        self.gate = MoEGate2(c)
        if c['n_shared_experts'] > 0:
            self.shared_experts = nn.ModuleList([FeedForward(c) for _ in range(c['n_shared_experts'])])

    def forward(self, x):
        identity, shape = x, x.shape
        idx, w, aux = self.gate(x)
        flat = x.view(-1, x.shape[-1]).repeat_interleave(self.c['num_experts_per_tok'], dim=0)
        fi = idx.view(-1)
        y = torch.empty_like(flat)
        for i, expert in enumerate(self.experts):
            out = expert(flat[fi == i])
            if out.shape[0] > 0:
                y[fi == i] = out
            else:
                y[fi == i] = out + 0 * sum(p.sum() for p in expert.parameters())
        y = (y.view(*w.shape, -1) * w.unsqueeze(-1)).sum(1).view(*shape)
        for expert in getattr(self, 'shared_experts', []):
            y = y + expert(identity)
        self.aux_loss = aux
        return y


class MOEFeedForward3(nn.Module):
    """minimind-3's MOEFeedForward (registration order: gate, experts)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.gate = nn.Linear(c['hidden_size'], c['num_experts'], bias=False)
        self.experts = nn.ModuleList([FeedForward(c, c['moe_intermediate_size']) for _ in range(c['num_experts'])])

    def forward(self, x):
        c = self.c
        b, t, h = x.shape
        flat = x.view(-1, h)
        scores = F.softmax(self.gate(flat), dim=-1)
        w, idx = torch.topk(scores, k=c['num_experts_per_tok'], dim=-1, sorted=False)
        if c['norm_topk_prob']:
            w = w / (w.sum(-1, keepdim=True) + 1e-20)
        y = torch.zeros_like(flat)
        for i, expert in enumerate(self.experts):
            mask = idx == i
            if mask.any():
                tokens = mask.any(-1).nonzero().flatten()
                y.index_add_(0, tokens, expert(flat[tokens]) * w[mask].view(-1, 1))
            elif self.training:
                y[0, 0] += 0 * sum(p.sum() for p in expert.parameters())
        if self.training and c['aux_loss_alpha'] > 0:
            load = F.one_hot(idx, c['num_experts']).float().mean(0)
            self.aux_loss = (load * scores.mean(0)).sum() * c['num_experts'] * c['aux_loss_alpha']
        else:
            self.aux_loss = scores.new_zeros(()).squeeze()
        return y.view(b, t, h)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.input_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        if not c['use_moe']:
            self.mlp = FeedForward(c)
        else:
            self.mlp = MOEFeedForward3(c) if c['family'] == 'minimind3' else MOEFeedForward2(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c['vocab_size'], c['hidden_size'])
        self.layers = nn.ModuleList([Block(c) for _ in range(c['num_hidden_layers'])])
        self.norm = RMSNorm(c['hidden_size'], c['rms_norm_eps'])
        d = c['hidden_size'] // c['num_attention_heads']
        cos, sin = rotary_tables(d, c['max_position_embeddings'], c['rope_theta'])
        self.register_buffer('freqs_cos', cos, persistent=False)
        self.register_buffer('freqs_sin', sin, persistent=False)


class MiniMindLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Decoder(c)
        self.lm_head = nn.Linear(c['hidden_size'], c['vocab_size'], bias=False)
        self.model.embed_tokens.weight = self.lm_head.weight
        if c['family'] == 'minimind3':
            self._post_init()

    def _post_init(self):
        """transformers' PreTrainedModel.post_init -> _init_weights (4.57), children before parents."""
        def init(m):
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.data.normal_(mean=0.0, std=0.02)
            elif isinstance(m, RMSNorm):
                m.weight.data.fill_(1.0)
        with torch.no_grad():
            self.apply(init)

    def forward(self, ids, labels=None):
        t = ids.shape[1]
        x = self.model.embed_tokens(ids)
        cos, sin = self.model.freqs_cos[:t], self.model.freqs_sin[:t]
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        x = self.model.norm(x)
        aux = sum([l.mlp.aux_loss for l in self.model.layers if hasattr(l.mlp, 'aux_loss')], x.new_zeros(()))
        logits = self.lm_head(x)
        loss = None
        if labels is not None:
            lg, y = logits[:, :-1, :].contiguous(), labels[:, 1:].contiguous()
            loss = F.cross_entropy(lg.view(-1, lg.size(-1)), y.view(-1), ignore_index=-100)
        return loss, aux, logits


def lm_checkpoint_layout(model, optimizer, epoch, step, scaler_state=None):
    """What MiniMind's trainer_utils.lm_checkpoint saves as {weight}_{hidden}[_moe]_resume.pth."""
    return {
        'model': {k: v.half().cpu() for k, v in model.state_dict().items()},
        'optimizer': optimizer.state_dict(),
        'epoch': epoch,
        'step': step,
        'world_size': 1,
        'wandb_id': None,
        'scaler': scaler_state if scaler_state is not None else {},
    }


# The globals a resume/weights file may reference (storages are resolved by torch.load itself, never through
# find_class). torch 1.13's weights_only=True cannot unpickle Python floats (lr, betas, eps), so files holding them
# are loaded with this allow-list instead.
ALLOWED_GLOBALS = {('collections', 'OrderedDict'), ('torch._utils', '_rebuild_tensor_v2'),
                   ('torch._utils', '_rebuild_parameter'), ('torch', 'float32'), ('torch', 'float16'),
                   ('torch', 'bfloat16')}


class _AllowListUnpickler:
    import pickle as _pickle

    class Unpickler(_pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) not in ALLOWED_GLOBALS:
                raise _AllowListUnpickler._pickle.UnpicklingError(f'global {module}.{name} is not on the allow-list')
            return super().find_class(module, name)

    load = _pickle.load
    dumps = _pickle.dumps


def load_allow_listed(path):
    return torch.load(path, map_location='cpu', pickle_module=_AllowListUnpickler, weights_only=False)
