// usage: dotnet run -c Release --project build/bench/ops -- THREADS [--default-malloc] [--vendor-mkl]
// single ops at SD-1.5 shapes, forward (no_grad) and forward+backward; ops.py times PyTorch's.
using System.Diagnostics;
using LaptopDiff.Runtime.Backends;
using TorchSharp;
using static TorchSharp.torch;
if (!args.Contains("--default-malloc")) HostAllocator.Configure();   // as the CLI does
if (!args.Contains("--vendor-mkl")) MklCpuDispatch.Configure();      // as the CLI does
torch.set_num_threads(int.Parse(args.Length > 0 ? args[0] : "2"));
torch.manual_seed(0);
double Med(Action a, int runs = 5, int warm = 2) { for (int i = 0; i < warm; i++) a(); var ts = new List<double>(); for (int i = 0; i < runs; i++) { var sw = Stopwatch.StartNew(); a(); ts.Add(sw.Elapsed.TotalMilliseconds); } ts.Sort(); return ts[ts.Count / 2]; }
void Bench(string name, Func<Tensor[]> mk, Func<Tensor[], Tensor> f)
{
    var ins = mk();
    double fwd = Med(() => { using var s = NewDisposeScope(); using var _ = no_grad(); f(ins); });
    foreach (var t in ins) if (t.is_floating_point()) t.requires_grad_(true);
    double fb = Med(() => { using var s = NewDisposeScope(); foreach (var t in ins) if (t.grad is { } g) g.zero_(); var y = f(ins); y.backward([ones_like(y)]); });
    Console.WriteLine($"{name,-34} fwd {fwd,9:F2} ms   fwd+bwd {fb,9:F2} ms");
}
Bench("linear 4096x320 -> 320", () => [randn(1, 4096, 320), randn(320, 320), randn(320)], t => nn.functional.linear(t[0], t[1], t[2]));
Bench("linear 4096x320 -> 2560", () => [randn(1, 4096, 320), randn(2560, 320), randn(2560)], t => nn.functional.linear(t[0], t[1], t[2]));
Bench("linear 4096x1280 -> 320", () => [randn(1, 4096, 1280), randn(320, 1280), randn(320)], t => nn.functional.linear(t[0], t[1], t[2]));
Bench("conv3x3 320->320 64x64", () => [randn(1, 320, 64, 64), randn(320, 320, 3, 3), randn(320)], t => nn.functional.conv2d(t[0], t[1], t[2], padding: [1, 1]));
Bench("conv3x3 640->640 32x32", () => [randn(1, 640, 32, 32), randn(640, 640, 3, 3), randn(640)], t => nn.functional.conv2d(t[0], t[1], t[2], padding: [1, 1]));
Bench("conv3x3 1280->1280 8x8", () => [randn(1, 1280, 8, 8), randn(1280, 1280, 3, 3), randn(1280)], t => nn.functional.conv2d(t[0], t[1], t[2], padding: [1, 1]));
Bench("group_norm 32 [1,320,64,64]", () => [randn(1, 320, 64, 64), ones(320), zeros(320)], t => nn.functional.group_norm(t[0], 32, t[1], t[2], 1e-5));
Bench("silu [1,320,64,64]", () => [randn(1, 320, 64, 64)], t => nn.functional.silu(t[0]));
Bench("gelu [1,4096,1280]", () => [randn(1, 4096, 1280)], t => nn.functional.gelu(t[0]));
Bench("layer_norm [1,4096,320]", () => [randn(1, 4096, 320), ones(320), zeros(320)], t => nn.functional.layer_norm(t[0], [320], t[1], t[2], 1e-5));
Bench("sdpa self [1,8,4096,40]", () => [randn(1, 8, 4096, 40), randn(1, 8, 4096, 40), randn(1, 8, 4096, 40)], t => nn.functional.scaled_dot_product_attention(t[0], t[1], t[2]));
Bench("sdpa cross [1,8,4096,40]x77", () => [randn(1, 8, 4096, 40), randn(1, 8, 77, 40), randn(1, 8, 77, 40)], t => nn.functional.scaled_dot_product_attention(t[0], t[1], t[2]));
Bench("add [1,320,64,64]", () => [randn(1, 320, 64, 64), randn(1, 320, 64, 64)], t => t[0] + t[1]);
Bench("cat ch [1,320+320,64,64]", () => [randn(1, 320, 64, 64), randn(1, 320, 64, 64)], t => cat([t[0], t[1]], 1));
