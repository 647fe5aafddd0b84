# usage: /usr/bin/python3 build/bench/ops/ops.py THREADS  (PyTorch ops at SD-1.5 shapes; Program.cs times TorchSharp's)
import sys, time, statistics, torch, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2); torch.manual_seed(0)
def med(fn, runs=5, warm=2):
    for _ in range(warm): fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)
def bench(name, mk, f):
    ins = mk()
    def fw():
        with torch.no_grad(): f(ins)
    fwd = med(fw)
    for t in ins: t.requires_grad_(True)
    def fb():
        for t in ins: t.grad = None
        y = f(ins); y.backward(torch.ones_like(y))
    print(f"{name:<34} fwd {fwd:9.2f} ms   fwd+bwd {med(fb):9.2f} ms")
r = torch.randn
bench("linear 4096x320 -> 320", lambda: [r(1,4096,320), r(320,320), r(320)], lambda t: F.linear(*t))
bench("linear 4096x320 -> 2560", lambda: [r(1,4096,320), r(2560,320), r(2560)], lambda t: F.linear(*t))
bench("linear 4096x1280 -> 320", lambda: [r(1,4096,1280), r(320,1280), r(320)], lambda t: F.linear(*t))
bench("conv3x3 320->320 64x64", lambda: [r(1,320,64,64), r(320,320,3,3), r(320)], lambda t: F.conv2d(*t, padding=1))
bench("conv3x3 640->640 32x32", lambda: [r(1,640,32,32), r(640,640,3,3), r(640)], lambda t: F.conv2d(*t, padding=1))
bench("conv3x3 1280->1280 8x8", lambda: [r(1,1280,8,8), r(1280,1280,3,3), r(1280)], lambda t: F.conv2d(*t, padding=1))
bench("group_norm 32 [1,320,64,64]", lambda: [r(1,320,64,64), torch.ones(320), torch.zeros(320)], lambda t: F.group_norm(t[0], 32, t[1], t[2], 1e-5))
bench("silu [1,320,64,64]", lambda: [r(1,320,64,64)], lambda t: F.silu(t[0]))
bench("gelu [1,4096,1280]", lambda: [r(1,4096,1280)], lambda t: F.gelu(t[0]))
bench("layer_norm [1,4096,320]", lambda: [r(1,4096,320), torch.ones(320), torch.zeros(320)], lambda t: F.layer_norm(t[0], [320], t[1], t[2], 1e-5))
bench("sdpa self [1,8,4096,40]", lambda: [r(1,8,4096,40), r(1,8,4096,40), r(1,8,4096,40)], lambda t: F.scaled_dot_product_attention(*t))
bench("sdpa cross [1,8,4096,40]x77", lambda: [r(1,8,4096,40), r(1,8,77,40), r(1,8,77,40)], lambda t: F.scaled_dot_product_attention(*t))
bench("add [1,320,64,64]", lambda: [r(1,320,64,64), r(1,320,64,64)], lambda t: t[0] + t[1])
bench("cat ch [1,320+320,64,64]", lambda: [r(1,320,64,64), r(1,320,64,64)], lambda t: torch.cat([t[0], t[1]], 1))
