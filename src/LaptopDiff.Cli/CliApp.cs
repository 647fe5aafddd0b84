using System.CommandLine;
using LaptopDiff.Cli.Commands.Bench;
using LaptopDiff.Cli.Commands.Calibration;
using LaptopDiff.Cli.Commands.Forward;
using LaptopDiff.Cli.Commands.ImportDiffusers;
using LaptopDiff.Cli.Commands.Inspect;
using LaptopDiff.Cli.Commands.Merge;
using LaptopDiff.Cli.Commands.Sweep;

namespace LaptopDiff.Cli;

/// <summary>The <c>laptop-diff</c> command tree. Each verb lives in Commands/&lt;Verb&gt;/.</summary>
public static class CliApp
{
    public static RootCommand Create(CliContext context)
    {
        var root = new RootCommand("LaptopDiff: layer pruning and normalized distillation for diffusion U-Nets.");
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(ForwardCommand.Create(context));
        root.Subcommands.Add(ImportDiffusersCommand.Create(context));
        root.Subcommands.Add(LaptopDiff.Cli.Commands.ExportDiffusers.ExportDiffusersCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(CalibrationCommand.Create(context));
        root.Subcommands.Add(SweepCommand.Create(context));
        root.Subcommands.Add(MergeCommand.Create(context));
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
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var context = new CliContext(stdout, stderr);
        var parsed = Create(context).Parse(args);
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }
}
