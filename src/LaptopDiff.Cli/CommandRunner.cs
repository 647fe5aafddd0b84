using System.CommandLine;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Diffusers;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli;

/// <summary>
/// Runs a verb's body after applying the shared options (<see cref="ThreadsOption.Apply"/>, <see cref="DeviceOption.Check"/>), and maps failures to
/// one clear message on stderr and the exit code of <see cref="ExitCodes"/>: a command line that does not parse or
/// whose options do not go together is exit 1; a value or file the command cannot use (an option value out of range,
/// named by its flag, or a bad spec, config, weights or data file) exit 2; anything else exit 3. Verbs write outputs
/// atomically, so a failure leaves none.
/// </summary>
public static class CommandRunner
{
    public static int Run(CliContext context, ParseResult parse, Func<int> body)
    {
        int code = RunBody(context, parse.CommandResult.Command, () =>
        {
            // a command that computes with libtorch: MKL's kernels by CPU features before its first product (the
            // others, --help included, neither load libtorch nor pay for the lookup)
            if (ThreadsOption.IsOn(parse)) MklCpuDispatch.Configure();
            ThreadsOption.Apply(parse);
            DeviceOption.Check(parse);
            return body();
        });
        if (ConvolutionBackend.Checked is { OneDnnCorrect: false } check)
            context.Error.WriteLine($"warning: libtorch's oneDNN convolutions compute wrong values on this CPU ({check.Detail}); " + (
                check.ShapesWithoutCorrectForm == 0 ? $"{check.ShapesPadded} of the {check.ShapesChecked} convolution shapes of this run used a channel-padded form instead, each checked against float64."
                : check.FallbackApplied ? $"{check.ShapesWithoutCorrectForm} convolution shape(s) had no correct form, so this run used libtorch's native convolution (correct, slower)."
                : $"{check.ShapesWithoutCorrectForm} convolution shape(s) had no correct form and oneDNN could not be switched off; results of this run may be wrong."));
        return code;
    }

    private static int RunBody(CliContext context, Command command, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (SettingException e)
        {
            context.Error.WriteLine($"error: {SettingFlags.Describe(e, command)}");
            return ExitCodes.InputError;
        }
        catch (OptionValueException e)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InputError;
        }
        catch (InputException e)
        {
            context.Error.WriteLine($"error: {SettingFlags.Describe(e, command)}");
            return ExitCodes.InputError;
        }
        catch (Exception e) when (IsInputError(e))
        {
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InputError;
        }
        catch (Exception e)
        {
            context.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            return ExitCodes.RuntimeFailure;
        }
    }

    private static bool IsInputError(Exception e) => e is SpecException or DiffusersConfigException or WeightsException
        or FileNotFoundException or DirectoryNotFoundException or PipelineException;
}

/// <summary>The options do not go together (conflicting, or one missing that another needs): exit 1.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>An option value the command cannot use (out of range, not one of the choices, the wrong kind of file): exit 2, as bad input files.</summary>
public sealed class OptionValueException(string message) : Exception(message);
