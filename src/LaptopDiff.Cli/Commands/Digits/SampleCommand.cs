using LaptopDiff.Digits.Evaluation;
using System.CommandLine;
using System.Diagnostics;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Sampling;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.Digits;

/// <summary><c>laptop-diff sample --spec S --weights W [--conditioner C] --output GRID.png [--per-class 8] [--guidance 3] [--steps 25] [--seed 0]</c>.</summary>
public static class SampleCommand
{
    private static readonly DigitsModelOptions Model = new();
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("The sample grid to write (.png; rows = classes 0-9)");
    private static readonly Option<int> PerClassOption = new("--per-class") { Description = "Samples (columns) per class", DefaultValueFactory = _ => 8 };

    private const string Details = """
        DDIM (eta 0) with classifier-free guidance for every digit class, written as a labelled grid PNG
        (rows = classes). The conditioner defaults to WEIGHTS with .conditioner.safetensors, as train
        writes it.
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("sample", "Generate digits per class with DDIM and classifier-free guidance; write a labelled grid PNG", Details);
        Model.AddTo(command);
        command.Options.Add(OutputOption);
        command.Options.Add(PerClassOption);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            int perClass = parse.GetValue(PerClassOption);
            if (perClass < 1) throw new OptionValueException($"--per-class must be at least 1, got {perClass}");
            var options = new DigitsEvaluationOptions
            {
                SamplesPerClass = Math.Max(2, perClass), GuidanceScale = parse.GetValue(Model.Guidance), Steps = parse.GetValue(Model.Steps),
                Seed = parse.GetValue(Model.Seed), Batch = parse.GetValue(Model.Batch), Schedule = Model.ParseSchedule(parse),
            };
            OptionValues.Checked(() => { options.Validate(); return options; });
            var output = parse.GetValue(OutputOption)!.FullName;
            var dir = Path.GetDirectoryName(output);
            if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");

            var (model, conditioner) = DigitsModelOptions.LoadModel(parse.GetValue(Model.Spec)!.FullName, parse.GetValue(Model.Weights)!.FullName, parse.GetValue(Model.Conditioner)?.FullName, Model.Device.Read(parse));
            using var _ = model;
            using var __ = conditioner;
            using var labels = arange(MnistDigits.ClassCount, ScalarType.Int64).repeat_interleave(perClass);
            var watch = Stopwatch.StartNew();
            using var samples = DigitsEvaluator.Generate(DdimSampler.Predictor(model), conditioner, labels, options,
                new SynchronousProgress<int>(done => context.Error.WriteLine($"[sample] {done}/{labels.shape[0]}")));
            double msPerSample = watch.Elapsed.TotalMilliseconds / labels.shape[0];
            SampleGrid.WritePng(output, samples, labels, MnistDigits.ClassCount, perClass,
                $"{model.Layout.Spec.Name}: DDIM {options.Steps}, guidance {options.GuidanceScale}, seed {options.Seed}");
            context.Out.WriteLine($"wrote {output}: {labels.shape[0]} samples ({msPerSample:F0} ms per sample)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
