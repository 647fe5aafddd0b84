using System.CommandLine;
using TorchSharp;

namespace LaptopDiff.Cli.Options;

/// <summary>
/// <c>--threads</c>: CPU threads for libtorch's intra-op work and the fused kernels. A value below 1 is an input
/// error (exit 2) in every command; <see cref="Apply"/>, called by <see cref="CommandRunner"/> before any command
/// runs, hands the value to libtorch. Commands read it again only to size the fused kernels.
/// </summary>
public sealed class ThreadsOption : Option<int?>
{
    public const string OptionName = "--threads";

    public ThreadsOption() : base(OptionName)
    {
        Description = "CPU threads for libtorch and the fused kernels, at least 1 (default: libtorch's choice)";
    }

    public static string TooFew(int threads) => $"{OptionName} must be at least 1, got {threads}";

    /// <summary>Whether the parsed command has <c>--threads</c>: every command that computes with libtorch has.</summary>
    public static bool IsOn(ParseResult parse) => Of(parse) != null;

    /// <summary>Sets libtorch's intra-op threads when the parsed command has <c>--threads</c> and it was given; returns it.</summary>
    public static int? Apply(ParseResult parse)
    {
        var option = Of(parse);
        if (option == null || parse.GetValue(option) is not int threads) return null;
        if (threads < 1) throw new OptionValueException(TooFew(threads));
        torch.set_num_threads(threads);
        return threads;
    }

    private static ThreadsOption? Of(ParseResult parse) => parse.CommandResult.Command.Options.OfType<ThreadsOption>().SingleOrDefault();
}
