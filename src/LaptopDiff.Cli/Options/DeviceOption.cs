using System.CommandLine;
using TorchSharp;

namespace LaptopDiff.Cli.Options;

/// <summary>
/// <c>--device</c>: where a command's models and tensors live, <c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c>. CUDA
/// needs the CUDA build of TorchSharp (docs/setup.md: <c>-p:TorchBackendPackage=TorchSharp-cuda-linux</c>); on the CPU
/// build, or with N past the GPUs present, the value is an input error (exit 2). libtorch's <c>meta</c> device is for
/// tests of the runtime (no data: nothing could be written), so the command line refuses it.
/// </summary>
public sealed class DeviceOption : Option<string>
{
    public const string OptionName = "--device";

    public DeviceOption(string what) : base(OptionName)
    {
        Description = $"Where {what} run: cpu, cuda or cuda:N (a CUDA build of TorchSharp)";
        DefaultValueFactory = _ => "cpu";
    }

    /// <summary>Checks the parsed command's <c>--device</c>, if it has one, before the command runs (<see cref="CommandRunner"/>).</summary>
    public static void Check(ParseResult parse)
    {
        if (parse.CommandResult.Command.Options.OfType<DeviceOption>().SingleOrDefault() is { } option) option.Read(parse);
    }

    /// <summary>The parsed device, checked against this process's libtorch.</summary>
    public torch.Device Read(ParseResult parse) => Parse(parse.GetValue(this) ?? "cpu");

    public static torch.Device Parse(string text)
    {
        var value = text.Trim().ToLowerInvariant();
        if (value == "cpu") return torch.CPU;
        if (value == "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (value.Length > 4 && (!int.TryParse(value[5..], out index) || index < 0))
                throw new OptionValueException($"{OptionName} '{text}': expected cuda:N with N a GPU index (0, 1, ...)");
            if (!torch.cuda.is_available())
                throw new OptionValueException($"{OptionName} {text}: this build's TorchSharp has no usable CUDA (the CPU package, or no GPU); " +
                                               "build with -p:TorchBackendPackage=TorchSharp-cuda-linux on a machine with a GPU (docs/setup.md)");
            if (index >= torch.cuda.device_count())
                throw new OptionValueException($"{OptionName} {text}: there are {torch.cuda.device_count()} GPU(s)");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new OptionValueException($"{OptionName} '{text}': expected cpu, cuda or cuda:N" + (value == "meta" ? " (meta is for tests of the runtime: it holds no data)" : ""));
    }
}
