using System.CommandLine;

namespace LaptopDiff.Cli.Commands.Bench;

/// <summary><c>laptop-diff bench unet|kernels|train|pipeline</c>: benchmarks for performance engineers.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("bench", "Benchmarks: U-Net forward/backward, kernels, distillation training step, text-to-image pipeline");
        command.Subcommands.Add(BenchUNetCommand.Create(context));
        command.Subcommands.Add(BenchKernelsCommand.Create(context));
        command.Subcommands.Add(BenchTrainCommand.Create(context));
        command.Subcommands.Add(BenchPipelineCommand.Create(context));
        return command;
    }
}
