using System.CommandLine;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Cli.Commands;

/// <summary>
/// The training noise schedule options shared by every command that noises clean samples (sweep, additivity,
/// compare, train, distill): one set of names and defaults, so a pipeline passes the same flags everywhere. One instance per
/// command, since an option belongs to one command.
/// </summary>
public sealed class ScheduleOptions
{
    public readonly Option<string> Kind = new("--schedule") { Description = "Training noise schedule: scaled_linear or linear", DefaultValueFactory = _ => "scaled_linear" };
    public readonly Option<double> BetaStart = new("--beta-start") { Description = "First beta of the schedule", DefaultValueFactory = _ => 0.00085 };
    public readonly Option<double> BetaEnd = new("--beta-end") { Description = "Last beta of the schedule", DefaultValueFactory = _ => 0.012 };
    public readonly Option<int> TrainSteps = new("--train-steps") { Description = "Training timesteps T of the schedule", DefaultValueFactory = _ => 1000 };

    public IEnumerable<Option> All => [Kind, BetaStart, BetaEnd, TrainSteps];

    public void AddTo(Command command)
    {
        foreach (var option in All) command.Options.Add(option);
    }

    /// <summary>The schedule the options name, validated (a bad value is an input error, exit 2).</summary>
    public NoiseSchedule Read(ParseResult parse) => OptionValues.Checked(() => new NoiseSchedule
    {
        Kind = NoiseSchedule.ParseKind(parse.GetValue(Kind)!),
        BetaStart = parse.GetValue(BetaStart),
        BetaEnd = parse.GetValue(BetaEnd),
        TrainSteps = parse.GetValue(TrainSteps),
    }.Validate());
}
