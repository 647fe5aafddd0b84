using LaptopDiff.Digits.Evaluation;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Evaluation;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.Digits;

/// <summary><c>laptop-diff train-classifier --mnist FILE --output CLASSIFIER.safetensors [--epochs 8] [--seed 0]</c>.</summary>
public static class TrainClassifierCommand
{
    private static readonly Option<FileInfo> MnistOption = new("--mnist") { Description = "The MNIST file (models/digits/mnist.safetensors)", Required = true };
    private static readonly Option<FileInfo> OutputOption = CommonOptions.Output<FileInfo>("Classifier to write (.safetensors)");
    private static readonly Option<int> EpochsOption = new("--epochs") { Description = "Passes over the training split", DefaultValueFactory = _ => 8 };
    private static readonly Option<long> SeedOption = CommonOptions.Seed("the initial weights, order and shifts");
    private static readonly ThreadsOption ThreadsOption = CommonOptions.Threads();
    private static readonly JsonOption JsonOption = CommonOptions.Json("output, heldout_accuracy, train_accuracy, epochs, seed");

    private const string Details = """
        Trains the evaluation's digit classifier on the MNIST training split and reports its held-out
        accuracy (the shipped models/digits/classifier.safetensors: 98.60%).
        """;

    public static Command Create(CliContext context)
    {
        var command = new VerbCommand("train-classifier", "Train the digit classifier of the evaluation on the training split; report its held-out accuracy", Details)
        {
            MnistOption, OutputOption, EpochsOption, SeedOption, ThreadsOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var options = new DigitClassifierOptions { Epochs = parse.GetValue(EpochsOption), Seed = parse.GetValue(SeedOption) };
            if (options.Epochs < 1) throw new OptionValueException($"--epochs must be at least 1, got {options.Epochs}");
            var mnist = parse.GetValue(MnistOption)!.FullName;
            var output = parse.GetValue(OutputOption)!.FullName;
            bool json = parse.GetValue(JsonOption);
            using var train = MnistDigits.Load(mnist, MnistSplit.Train);
            using var heldOut = MnistDigits.Load(mnist, MnistSplit.HeldOut);
            using var scope = NewDisposeScope();
            var progress = new SynchronousProgress<(int Epoch, double Loss)>(p =>
            {
                if (!json) context.Error.WriteLine($"[train-classifier] epoch {p.Epoch}/{options.Epochs}: loss {p.Loss:F4}");
            });
            var trainInput = train.ToModelInput();
            using var classifier = DigitClassifierTraining.Train(trainInput, train.Labels, options, progress);
            double trainAccuracy = DigitClassifierTraining.Accuracy(classifier, trainInput, train.Labels);
            double heldOutAccuracy = DigitClassifierTraining.Accuracy(classifier, heldOut.ToModelInput(), heldOut.Labels);
            classifier.Save(output, new Dictionary<string, string>
            {
                ["heldout_accuracy"] = heldOutAccuracy.ToString("R", CultureInfo.InvariantCulture),
                ["train_accuracy"] = trainAccuracy.ToString("R", CultureInfo.InvariantCulture),
                ["epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
                ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
                ["data"] = $"{Path.GetFileName(mnist)} {FileDigest.Sha256(mnist)}",
                ["tool"] = "laptop-diff train-classifier",
            });
            if (json)
                context.Out.WriteLine(JsonSerializer.Serialize(new { output, heldout_accuracy = heldOutAccuracy, train_accuracy = trainAccuracy, epochs = options.Epochs, seed = options.Seed }));
            else
                context.Out.WriteLine($"wrote {output}: held-out accuracy {heldOutAccuracy:P2} ({heldOut.Count} digits), train {trainAccuracy:P2}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
