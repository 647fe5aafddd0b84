#!/usr/bin/python3
"""PyTorch eager baseline for `laptop-diff bench unet`.

A compact, independent re-implementation of the forward pass of diffusers' UNet2DConditionModel
(default attention processor, eager mode) for the configurations LaptopDiff supports:
CrossAttnDownBlock2D / DownBlock2D, CrossAttnUpBlock2D / UpBlock2D, UNetMidBlock2DCrossAttn /
UNetMidBlock2D / no mid block, conv or linear Transformer2D projections, and the SDXL
"text_time" addition embedding. Module and parameter names equal diffusers' state-dict keys.

Modes:
  check  --config C.json --weights W.safetensors --io IO.safetensors
         loads diffusers' weights and inputs, prints the relative L2 error of `out` (and stages).
  bench  --config C.json --batch N --threads T [--tokens 77 --runs 7 --warmup 2 --json]
         seeded random weights/inputs at the config's sample_size; median forward
         (torch.inference_mode) and forward+backward of an MSE loss (grads zeroed each run).

Needs only torch (>= 1.13) and numpy; safetensors files are parsed here with the stdlib.
"""
import argparse
import json
import math
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


# ---------------------------------------------------------------- safetensors (stdlib + numpy)
_DT = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] == "BF16":
            raise ValueError("bf16 not supported by this reader")
        a, b = info["data_offsets"]
        arr = np.frombuffer(blob, dtype=_DT[info["dtype"]], count=(b - a) // np.dtype(_DT[info["dtype"]]).itemsize,
                            offset=base + a).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


# ---------------------------------------------------------------- building blocks
def sinusoid(t, dim, flip_sin_to_cos, shift, max_period=10000.0):
    """diffusers' get_timestep_embedding: exp(-ln(P) * i / (half - shift)), [sin, cos] or [cos, sin]."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / (half - shift))
    arg = t[:, None].float() * freqs[None, :]
    emb = torch.cat([torch.cos(arg), torch.sin(arg)] if flip_sin_to_cos else [torch.sin(arg), torch.cos(arg)], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class TimestepMLP(nn.Module):  # diffusers TimestepEmbedding (linear_1, silu, linear_2)
    def __init__(self, cin, cout):
        super().__init__()
        self.linear_1 = nn.Linear(cin, cout)
        self.linear_2 = nn.Linear(cout, cout)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResBlock(nn.Module):  # ResnetBlock2D, time_embedding_norm "default", output scale 1
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Attention(nn.Module):
    def __init__(self, dim, ctx_dim, heads, head_dim):
        super().__init__()
        inner = heads * head_dim
        self.heads, self.head_dim = heads, head_dim
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(ctx_dim, inner, bias=False)
        self.to_v = nn.Linear(ctx_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(0.0)])

    def forward(self, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, _ = x.shape
        h, d = self.heads, self.head_dim
        q, k, v = self.to_q(x), self.to_k(ctx), self.to_v(ctx)
        if HAS_SDPA:  # AttnProcessor2_0
            q, k, v = (t.view(b, -1, h, d).transpose(1, 2) for t in (q, k, v))
            o = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, h * d)
        else:  # AttnProcessor: (B*h, N, d), baddbmm(beta=0, alpha=scale), softmax, bmm
            q, k, v = (t.reshape(b, -1, h, d).permute(0, 2, 1, 3).reshape(b * h, -1, d) for t in (q, k, v))
            scores = torch.baddbmm(torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype, device=q.device),
                                   q, k.transpose(-1, -2), beta=0, alpha=d ** -0.5)
            o = torch.bmm(scores.softmax(dim=-1), v)
            o = o.reshape(b, h, n, d).permute(0, 2, 1, 3).reshape(b, n, h * d)
        return self.to_out[0](o)


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        a, gate = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(gate)  # exact (erf) gelu


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * 4), nn.Dropout(0.0), nn.Linear(dim * 4, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class TransformerBlock(nn.Module):  # BasicTransformerBlock (self-attn, cross-attn, GEGLU FF), LayerNorm eps 1e-5
    def __init__(self, dim, ctx_dim, heads, head_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn1 = Attention(dim, dim, heads, head_dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.attn2 = Attention(dim, ctx_dim, heads, head_dim)
        self.norm3 = nn.LayerNorm(dim, eps=1e-5)
        self.ff = FeedForward(dim)

    def forward(self, x, ctx):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), ctx) + x
        return self.ff(self.norm3(x)) + x


class Transformer2D(nn.Module):  # continuous-input Transformer2DModel, GroupNorm eps 1e-6
    def __init__(self, channels, heads, ctx_dim, depth, groups, linear):
        super().__init__()
        head_dim = channels // heads
        inner = heads * head_dim
        self.linear = linear
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner) if linear else nn.Conv2d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList([TransformerBlock(inner, ctx_dim, heads, head_dim) for _ in range(depth)])
        self.proj_out = nn.Linear(inner, channels) if linear else nn.Conv2d(inner, channels, 1)

    def forward(self, x, ctx):
        b, c, hh, ww = x.shape
        res = x
        x = self.norm(x)
        if self.linear:
            x = self.proj_in(x.permute(0, 2, 3, 1).reshape(b, hh * ww, c))
        else:
            x = self.proj_in(x)
            x = x.permute(0, 2, 3, 1).reshape(b, hh * ww, x.shape[1])
        for blk in self.transformer_blocks:
            x = blk(x, ctx)
        if self.linear:
            x = self.proj_out(x).reshape(b, hh, ww, c).permute(0, 3, 1, 2).contiguous()
        else:
            x = self.proj_out(x.reshape(b, hh, ww, x.shape[-1]).permute(0, 3, 1, 2).contiguous())
        return x + res


class Downsample(nn.Module):
    def __init__(self, ch, padding):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=padding)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x, size=None):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest") if size is None else F.interpolate(x, size=size, mode="nearest")
        return self.conv(x)


class DownBlock(nn.Module):
    def __init__(self, cin, cout, temb, layers, groups, eps, add_down, pad, attn=None):
        super().__init__()
        self.resnets = nn.ModuleList([ResBlock(cin if i == 0 else cout, cout, temb, groups, eps) for i in range(layers)])
        if attn is not None:  # attn = (heads, ctx_dim, depths list, linear)
            heads, ctx, depths, lin = attn
            self.attentions = nn.ModuleList([Transformer2D(cout, heads, ctx, depths[i], groups, lin) for i in range(layers)])
        else:
            self.attentions = None
        self.downsamplers = nn.ModuleList([Downsample(cout, pad)]) if add_down else None

    def forward(self, x, temb, ctx):
        skips = []
        for i, r in enumerate(self.resnets):
            x = r(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, ctx)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    def __init__(self, cin, prev, cout, temb, layers, groups, eps, add_up, attn=None):
        super().__init__()
        self.resnets = nn.ModuleList([
            ResBlock((prev if j == 0 else cout) + (cin if j == layers - 1 else cout), cout, temb, groups, eps)
            for j in range(layers)])
        if attn is not None:
            heads, ctx, depths, lin = attn
            self.attentions = nn.ModuleList([Transformer2D(cout, heads, ctx, depths[j], groups, lin) for j in range(layers)])
        else:
            self.attentions = None
        self.upsamplers = nn.ModuleList([Upsample(cout)]) if add_up else None

    def forward(self, x, skips, temb, ctx, size=None):
        for j, r in enumerate(self.resnets):
            x = r(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[j](x, ctx)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x, size)
        return x


class MidBlock(nn.Module):
    def __init__(self, ch, temb, groups, eps, attn=None):
        super().__init__()
        if attn is None:  # UNetMidBlock2D as UNet2DConditionModel builds it: num_layers=0 -> one resnet
            self.resnets = nn.ModuleList([ResBlock(ch, ch, temb, groups, eps)])
            self.attentions = None
        else:
            heads, ctx, depth, lin = attn
            self.resnets = nn.ModuleList([ResBlock(ch, ch, temb, groups, eps) for _ in range(2)])
            self.attentions = nn.ModuleList([Transformer2D(ch, heads, ctx, depth, groups, lin)])

    def forward(self, x, temb, ctx):
        x = self.resnets[0](x, temb)
        if self.attentions is not None:
            for a, r in zip(self.attentions, self.resnets[1:]):
                x = r(a(x, ctx), temb)
        return x


def _per_block(v, n):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


class UNet2DCondition(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        unsupported = {"class_embed_type": None, "encoder_hid_dim": None, "time_cond_proj_dim": None,
                       "resnet_time_scale_shift": "default", "center_input_sample": False,
                       "time_embedding_type": "positional", "dual_cross_attention": False,
                       "only_cross_attention": False, "upcast_attention": False}
        for k, v in unsupported.items():
            got = cfg.get(k, v)
            if isinstance(got, list) and isinstance(v, bool):
                got = any(got)
            if got != v:
                raise ValueError(f"unsupported config: {k}={cfg.get(k)}")
        if cfg.get("resnet_out_scale_factor", 1.0) != 1.0 or cfg.get("mid_block_scale_factor", 1) != 1:
            raise ValueError("unsupported output scale factor")
        self.cfg = cfg
        boc = cfg["block_out_channels"]
        nb = len(boc)
        groups, eps = cfg["norm_num_groups"], cfg["norm_eps"]
        heads = _per_block(cfg.get("num_attention_heads") or cfg["attention_head_dim"], nb)
        lpb = _per_block(cfg["layers_per_block"], nb)
        ctx = _per_block(cfg["cross_attention_dim"], nb)
        tlpb = _per_block(cfg.get("transformer_layers_per_block", 1), nb)
        rev_tlpb = cfg.get("reverse_transformer_layers_per_block")
        lin = cfg.get("use_linear_projection", False)
        self.flip, self.shift = cfg.get("flip_sin_to_cos", True), cfg.get("freq_shift", 0)
        k_in, k_out = cfg.get("conv_in_kernel", 3), cfg.get("conv_out_kernel", 3)
        temb = cfg.get("time_embedding_dim") or boc[0] * 4

        self.conv_in = nn.Conv2d(cfg["in_channels"], boc[0], k_in, padding=(k_in - 1) // 2)
        self.time_dim = boc[0]
        self.time_embedding = TimestepMLP(boc[0], temb)
        self.add_type = cfg.get("addition_embed_type")
        if self.add_type == "text_time":
            self.add_time_dim = cfg["addition_time_embed_dim"]
            self.add_embedding = TimestepMLP(cfg["projection_class_embeddings_input_dim"], temb)
        elif self.add_type is not None:
            raise ValueError(f"unsupported addition_embed_type {self.add_type}")

        self.down_blocks = nn.ModuleList()
        cout = boc[0]
        for i, kind in enumerate(cfg["down_block_types"]):
            cin, cout = cout, boc[i]
            attn = (heads[i], ctx[i], [tlpb[i]] * lpb[i], lin) if kind == "CrossAttnDownBlock2D" else None
            if kind not in ("CrossAttnDownBlock2D", "DownBlock2D"):
                raise ValueError(f"unsupported down block {kind}")
            self.down_blocks.append(DownBlock(cin, cout, temb, lpb[i], groups, eps, i < nb - 1,
                                              cfg.get("downsample_padding", 1), attn))

        mid = cfg.get("mid_block_type", "UNetMidBlock2DCrossAttn")
        if mid == "UNetMidBlock2DCrossAttn":
            self.mid_block = MidBlock(boc[-1], temb, groups, eps, (heads[-1], ctx[-1], tlpb[-1], lin))
        elif mid == "UNetMidBlock2D":
            self.mid_block = MidBlock(boc[-1], temb, groups, eps, None)
        elif mid is None:
            self.mid_block = None
        else:
            raise ValueError(f"unsupported mid block {mid}")

        rboc, rheads, rlpb, rctx = boc[::-1], heads[::-1], lpb[::-1], ctx[::-1]
        rt = rev_tlpb if rev_tlpb is not None else tlpb[::-1]
        self.up_blocks = nn.ModuleList()
        cout = rboc[0]
        for i, kind in enumerate(cfg["up_block_types"]):
            prev, cout, cin = cout, rboc[i], rboc[min(i + 1, nb - 1)]
            layers = rlpb[i] + 1
            if kind == "CrossAttnUpBlock2D":
                attn = (rheads[i], rctx[i], _per_block(rt[i], layers), lin)
            elif kind == "UpBlock2D":
                attn = None
            else:
                raise ValueError(f"unsupported up block {kind}")
            self.up_blocks.append(UpBlock(cin, prev, cout, temb, layers, groups, eps, i < nb - 1, attn))

        self.conv_norm_out = nn.GroupNorm(groups, boc[0], eps=eps)
        self.conv_out = nn.Conv2d(boc[0], cfg["out_channels"], k_out, padding=(k_out - 1) // 2)

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds=None, time_ids=None, inter=None):
        b = sample.shape[0]
        t = timestep if torch.is_tensor(timestep) else torch.tensor([timestep])
        t = t.expand(b) if t.dim() == 1 and t.shape[0] == 1 else t
        tp = sinusoid(t, self.time_dim, self.flip, self.shift).to(sample.dtype)
        emb = self.time_embedding(tp)
        if inter is not None:
            inter["time_proj"], inter["time_embedding"] = tp, emb
        if self.add_type == "text_time":
            tid = sinusoid(time_ids.flatten(), self.add_time_dim, self.flip, self.shift).reshape(b, -1)
            add = self.add_embedding(torch.cat([text_embeds, tid.to(text_embeds.dtype)], dim=-1).to(emb.dtype))
            if inter is not None:
                inter["add_embedding"] = add
            emb = emb + add

        x = self.conv_in(sample)
        if inter is not None:
            inter["conv_in"] = x
        skips = [x]
        for i, blk in enumerate(self.down_blocks):
            x, s = blk(x, emb, encoder_hidden_states)
            skips.extend(s)
            if inter is not None:
                inter[f"down_blocks.{i}"] = x
        if self.mid_block is not None:
            x = self.mid_block(x, emb, encoder_hidden_states)
            if inter is not None:
                inter["mid_block"] = x
        for i, blk in enumerate(self.up_blocks):
            n = len(blk.resnets)
            mine, skips = skips[-n:], skips[:-n]
            size = skips[-1].shape[2:] if (i < len(self.up_blocks) - 1 and skips) else None
            x = blk(x, mine, emb, encoder_hidden_states, size)
            if inter is not None:
                inter[f"up_blocks.{i}"] = x
        return self.conv_out(F.silu(self.conv_norm_out(x)))


# ---------------------------------------------------------------- modes
def rel_l2(a, b):
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm()).item()


def cmd_check(args):
    cfg = json.load(open(args.config))
    torch.set_num_threads(args.threads)
    model = UNet2DCondition(cfg).eval()
    sd = read_safetensors(args.weights)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        print(f"state dict mismatch: missing {missing[:5]}... ({len(missing)}), unexpected {unexpected[:5]}... ({len(unexpected)})")
        return 1
    io = read_safetensors(args.io)
    inter = {}
    with torch.inference_mode():
        out = model(io["sample"], io["timestep"], io["encoder_hidden_states"], io.get("text_embeds"), io.get("time_ids"), inter=inter)
    for k in sorted(inter):
        if "inter." + k in io:
            print(f"  inter.{k:20s} rel_l2 {rel_l2(inter[k], io['inter.' + k]):.3e}")
    err = rel_l2(out, io["out"])
    maxabs = (out.double() - io["out"].double()).abs().max().item()
    print(json.dumps({"config": args.config, "torch": torch.__version__, "sdpa": HAS_SDPA,
                      "params": sum(p.numel() for p in model.parameters()),
                      "out_rel_l2": err, "out_max_abs": maxabs, "pass": err <= 1e-5 and maxabs <= 5e-5}))
    return 0 if err <= 1e-5 and maxabs <= 5e-5 else 1


def cmd_bench(args):
    cfg = json.load(open(args.config))
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)
    model = UNet2DCondition(cfg)
    size = args.sample_size or cfg["sample_size"]
    b = args.batch
    ctx_dim = _per_block(cfg["cross_attention_dim"], 1)[0]
    sample = torch.randn(b, cfg["in_channels"], size, size)
    timestep = torch.randint(0, 1000, (b,), dtype=torch.int64)
    ctx = torch.randn(b, args.tokens, ctx_dim)
    te = tid = None
    if model.add_type == "text_time":
        te = torch.randn(b, cfg["projection_class_embeddings_input_dim"] - 6 * cfg["addition_time_embed_dim"])
        tid = torch.tensor([size * 8.0, size * 8.0, 0, 0, size * 8.0, size * 8.0]).repeat(b, 1)
    target = torch.randn(b, cfg["out_channels"], size, size)

    def measure(what, fn):
        for _ in range(args.warmup):
            fn()
        ts = []
        for i in range(args.runs):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1000)
            if not args.json:
                print(f"[bench] {what} run {i + 1}/{args.runs}: {ts[-1]:.1f} ms", file=sys.stderr)
        return ts

    def fwd():
        with torch.inference_mode():
            model(sample, timestep, ctx, te, tid)

    def fwd_bwd():
        model.zero_grad(set_to_none=False)
        F.mse_loss(model(sample, timestep, ctx, te, tid), target).backward()

    model.eval()
    f = measure("forward", fwd) if not args.skip_forward else []
    model.train()
    fb = measure("forward+backward", fwd_bwd) if not args.skip_backward else []
    med = lambda v: statistics.median(v) if v else None
    rep = {"baseline": "pytorch-eager", "torch": torch.__version__, "config": args.config,
           "params": sum(p.numel() for p in model.parameters()), "batch": b, "threads": torch.get_num_threads(),
           "interop_threads": torch.get_num_interop_threads(), "sample_size": size, "tokens": args.tokens,
           "forward_ms": med(f), "forward_backward_ms": med(fb), "forward_runs_ms": f, "forward_backward_runs_ms": fb}
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(f"{args.config} ({rep['params']:,} params), batch {b}, {rep['threads']} threads, {size}x{size}: "
              f"forward {rep['forward_ms']} ms, forward+backward {rep['forward_backward_ms']} ms (median of {args.runs})")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("check")
    c.add_argument("--config", required=True)
    c.add_argument("--weights", required=True)
    c.add_argument("--io", required=True)
    c.add_argument("--threads", type=int, default=2)
    bch = sub.add_parser("bench")
    bch.add_argument("--config", required=True)
    bch.add_argument("--batch", type=int, default=1)
    bch.add_argument("--threads", type=int, default=2)
    bch.add_argument("--tokens", type=int, default=77)
    bch.add_argument("--runs", type=int, default=7)
    bch.add_argument("--warmup", type=int, default=2)
    bch.add_argument("--seed", type=int, default=0)
    bch.add_argument("--sample-size", type=int, default=None)
    bch.add_argument("--skip-forward", action="store_true")
    bch.add_argument("--skip-backward", action="store_true")
    bch.add_argument("--json", action="store_true")
    a = p.parse_args()
    return cmd_check(a) if a.mode == "check" else cmd_bench(a)


if __name__ == "__main__":
    sys.exit(main())
