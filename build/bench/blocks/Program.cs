// usage: dotnet run -c Release --project build/bench/blocks -- THREADS tiny|sd15 [--default-malloc] [--vendor-mkl]
// ResNet and Transformer2D blocks alone, forward (inference mode) and forward+backward; blocks.py times diffusers' own.
using System.Diagnostics;
using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Spec;
using LaptopDiff.Runtime.Backends;
using TorchSharp;
using static TorchSharp.torch;
if (!args.Contains("--default-malloc")) HostAllocator.Configure();   // as the CLI does
if (!args.Contains("--vendor-mkl")) MklCpuDispatch.Configure();      // as the CLI does
torch.set_num_threads(int.Parse(args[0]));
bool sd = args.Length > 1 && args[1] == "sd15";
torch.manual_seed(0);
double Med(Action a, int runs, int warm) { for (int i = 0; i < warm; i++) a(); var ts = new List<double>(); for (int i = 0; i < runs; i++) { var sw = Stopwatch.StartNew(); a(); ts.Add(sw.Elapsed.TotalMilliseconds); } ts.Sort(); return ts[ts.Count / 2]; }
void Bench(string name, nn.Module m, Tensor[] ins, Func<Tensor[], Tensor> f, int runs = 7, int warm = 2)
{
    m.eval();
    double fwd = Med(() => { using var s = NewDisposeScope(); using var _ = inference_mode(); f(ins); }, runs, warm);
    m.train();
    ins[0].requires_grad_(true);
    double fb = Med(() => { using var s = NewDisposeScope(); m.zero_grad(); ins[0].grad?.zero_(); var y = f(ins); y.backward([ones_like(y)]); }, runs, warm);
    ins[0].requires_grad_(false);
    Console.WriteLine($"{name,-40} fwd {fwd,9:F2} ms   fwd+bwd {fb,9:F2} ms");
}
var norms = new NormSpec { Groups = sd ? 32 : 8 };
if (!sd)
{
    var r = new ResnetBlock2D(32, 32, 128, 8, 1e-5);
    Bench("resnet 32->32 b8 16x16", r, [randn(8, 32, 16, 16), randn(8, 128)], t => r.forward(t[0], t[1]), 21, 5);
    var r2 = new ResnetBlock2D(96, 64, 128, 8, 1e-5);
    Bench("resnet 96->64 b8 8x8", r2, [randn(8, 96, 8, 8), randn(8, 128)], t => r2.forward(t[0], t[1]), 21, 5);
    var tr = new Transformer2DModel(32, 8, 1, [0], 32, 8, norms, AttentionProjection.Conv);
    Bench("transformer2d 32ch 8h b8 16x16 ctx77x32", tr, [randn(8, 32, 16, 16), randn(8, 77, 32)], t => tr.forward(t[0], t[1]), 21, 5);
}
else
{
    var r = new ResnetBlock2D(320, 320, 1280, 32, 1e-5);
    Bench("resnet 320->320 b1 64x64", r, [randn(1, 320, 64, 64), randn(1, 1280)], t => r.forward(t[0], t[1]), 5, 2);
    var tr = new Transformer2DModel(320, 8, 1, [0], 768, 32, norms, AttentionProjection.Conv);
    Bench("transformer2d 320ch 8h b1 64x64 ctx77x768", tr, [randn(1, 320, 64, 64), randn(1, 77, 768)], t => tr.forward(t[0], t[1]), 5, 2);
    var r3 = new ResnetBlock2D(1280, 1280, 1280, 32, 1e-5);
    Bench("resnet 1280->1280 b1 8x8", r3, [randn(1, 1280, 8, 8), randn(1, 1280)], t => r3.forward(t[0], t[1]), 7, 2);
}
