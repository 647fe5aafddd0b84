# usage: DIFFUSERS_SRC=... STUBS=... /usr/bin/python3 build/bench/blocks/blocks.py THREADS tiny|sd15  (diffusers' blocks; Program.cs times ours)
import os, sys, time, statistics
sys.path[:0] = [os.environ["STUBS"], os.environ["DIFFUSERS_SRC"]]
import torch
from diffusers.models.resnet import ResnetBlock2D
from diffusers.models.transformers.transformer_2d import Transformer2DModel
torch.set_num_threads(int(sys.argv[1])); sd = len(sys.argv) > 2 and sys.argv[2] == "sd15"; torch.manual_seed(0)
def med(fn, runs, warm):
    for _ in range(warm): fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)
def bench(name, m, ins, f, runs=7, warm=2):
    m.eval()
    def fw():
        with torch.no_grad(): f(ins)
    fwd = med(fw, runs, warm)
    m.train(); ins[0].requires_grad_(True)
    def fb():
        m.zero_grad(set_to_none=True); ins[0].grad = None
        y = f(ins); y.backward(torch.ones_like(y))
    b = med(fb, runs, warm); ins[0].requires_grad_(False)
    print(f"{name:<40} fwd {fwd:9.2f} ms   fwd+bwd {b:9.2f} ms")
r = torch.randn
if not sd:
    m = ResnetBlock2D(in_channels=32, out_channels=32, temb_channels=128, groups=8, eps=1e-5)
    bench("resnet 32->32 b8 16x16", m, [r(8,32,16,16), r(8,128)], lambda t: m(t[0], t[1]), 21, 5)
    m2 = ResnetBlock2D(in_channels=96, out_channels=64, temb_channels=128, groups=8, eps=1e-5)
    bench("resnet 96->64 b8 8x8", m2, [r(8,96,8,8), r(8,128)], lambda t: m2(t[0], t[1]), 21, 5)
    tr = Transformer2DModel(num_attention_heads=8, attention_head_dim=4, in_channels=32, num_layers=1, cross_attention_dim=32, norm_num_groups=8)
    bench("transformer2d 32ch 8h b8 16x16 ctx77x32", tr, [r(8,32,16,16), r(8,77,32)], lambda t: tr(t[0], encoder_hidden_states=t[1]).sample, 21, 5)
else:
    m = ResnetBlock2D(in_channels=320, out_channels=320, temb_channels=1280, groups=32, eps=1e-5)
    bench("resnet 320->320 b1 64x64", m, [r(1,320,64,64), r(1,1280)], lambda t: m(t[0], t[1]), 5, 2)
    tr = Transformer2DModel(num_attention_heads=8, attention_head_dim=40, in_channels=320, num_layers=1, cross_attention_dim=768, norm_num_groups=32)
    bench("transformer2d 320ch 8h b1 64x64 ctx77x768", tr, [r(1,320,64,64), r(1,77,768)], lambda t: tr(t[0], encoder_hidden_states=t[1]).sample, 5, 2)
    m3 = ResnetBlock2D(in_channels=1280, out_channels=1280, temb_channels=1280, groups=32, eps=1e-5)
    bench("resnet 1280->1280 b1 8x8", m3, [r(1,1280,8,8), r(1,1280)], lambda t: m3(t[0], t[1]), 7, 2)
