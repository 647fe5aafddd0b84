using System.CommandLine;
using System.CommandLine.Help;
using LaptopDiff.Cli.Commands.Bench;
using LaptopDiff.Cli.Commands.Calibration;
using LaptopDiff.Cli.Commands.Docs;
using LaptopDiff.Cli.Commands.Forward;
using LaptopDiff.Cli.Commands.ImportDiffusers;
using LaptopDiff.Cli.Commands.Inspect;
using LaptopDiff.Cli.Commands.Merge;
using LaptopDiff.Cli.Commands.Sweep;
using LaptopDiff.Cli.Help;

namespace LaptopDiff.Cli;

/// <summary>The <c>laptop-diff</c> command tree. Each verb lives in Commands/&lt;Verb&gt;/, its shared options in Options/.</summary>
public static class CliApp
{
    public const string Name = "laptop-diff";

    /// <summary>
    /// The root is a plain command named <see cref="Name"/> with RootCommand's help and version options, so that
    /// help reads the same however the process was started (RootCommand takes the host's executable name).
    /// </summary>
    public static Command Create(CliContext context)
    {
        var root = new Command(Name, "LaptopDiff: layer pruning and normalized distillation for diffusion U-Nets.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(ForwardCommand.Create(context));
        root.Subcommands.Add(ImportDiffusersCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.ExportDiffusers.ExportDiffusersCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.ExportOnnx.ExportOnnxCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Export.ExportCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Score.ScoreCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(CalibrationCommand.Create(context));
        root.Subcommands.Add(SweepCommand.Create(context));
        root.Subcommands.Add(MergeCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Profile.ProfileCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Prune.PruneCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Additivity.AdditivityCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Train.TrainCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Compare.CompareCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Distill.DistillCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Digits.TrainClassifierCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Digits.SampleCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Digits.EvalCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Train.PlotLossCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Demo.DemoCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Plot.PlotCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Digits.DigitsImagesCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.TextToImage.TrainVaeCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.TextToImage.InitPipelineCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.TextToImage.DatasetCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.TextToImage.EvalDigitsCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Generate.GenerateCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.Tokenize.TokenizeCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.EncodePrompt.EncodePromptCommand.Create(context));
        root.Subcommands.Add(DocsCommand.Create(context));
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new DetailedHelpAction((HelpAction)help.Action!);
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var context = new CliContext(stdout, stderr);
        var parsed = Create(context).Parse(args);
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }
}
