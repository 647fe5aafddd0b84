#:project LaptopDiff.Kernels/LaptopDiff.Kernels.csproj
// Kernel benchmark without the CLI: dotnet run kernels/bench-kernels.cs [-- --json]
// (the same call `laptop-diff bench kernels` wraps). Progress goes to stderr, the report to stdout.
using LaptopDiff.Kernels;

var report = KernelBenchmark.Run(new KernelBenchmarkOptions { Log = line => Console.Error.WriteLine(line) });
Console.WriteLine(args.Contains("--json") ? report.ToJson() : report.ToTable());
