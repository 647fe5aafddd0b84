using LaptopDiff.Kernels.CudaCheck;

// usage: LaptopDiff.Kernels.CudaCheck [--json PATH] [--emulator] [--no-torch] [--no-benchmark] [--seed N]
// exit: 0 all checks passed, 1 a check failed or the GPU could not be initialised, 2 no CUDA device, 3 bad arguments
string? jsonPath = null;
var options = new DeviceCheckOptions { Log = Console.WriteLine };
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--json" when i + 1 < args.Length: jsonPath = args[++i]; break;
        case "--emulator": options = options with { UseCpuEmulator = true }; break;
        case "--no-torch": options = options with { IncludeTensorChecks = false, IncludeBenchmark = false }; break;
        case "--no-benchmark": options = options with { IncludeBenchmark = false }; break;
        case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], out int seed): options = options with { Seed = seed }; i++; break;
        default:
            Console.Error.WriteLine($"error: unknown argument '{args[i]}'");
            Console.Error.WriteLine("usage: LaptopDiff.Kernels.CudaCheck [--json PATH] [--emulator] [--no-torch] [--no-benchmark] [--seed N]");
            return 3;
    }
}

DeviceCheckReport? report;
try
{
    report = DeviceCheck.Run(options);
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: the check could not run: {e}");
    return 1;
}
if (report is null)
{
    Console.Error.WriteLine("error: no CUDA device found by ILGPU (is the NVIDIA driver's libcuda.so installed and visible?)");
    return 2;
}
Console.WriteLine();
Console.WriteLine(report.ToText());
if (jsonPath is not null)
{
    File.WriteAllText(jsonPath, report.ToJson());
    Console.WriteLine($"wrote {jsonPath}");
}
return report.Passed ? 0 : 1;
