using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Digits;
using LaptopDiff.Runtime.Evaluation;
using static TorchSharp.torch;

namespace LaptopDiff.Cli.Commands.Digits;

/// <summary><c>laptop-diff train-classifier --mnist FILE --output CLASSIFIER.safetensors [--epochs 8] [--seed 0]</c>.</summary>
public static class TrainClassifierCommand
{
    private static readonly Option<FileInfo> MnistOption = new("--mnist") { Description = "The MNIST file (models/digits/mnist.safetensors)", Required = true };
    private static readonly Option<FileInfo> OutputOption = new("--output") { Description = "Classifier to write (.safetensors)", Required = true };
    private static readonly Option<int> EpochsOption = new("--epochs") { Description = "Passes over the training split", DefaultValueFactory = _ => 8 };
    private static readonly Option<long> SeedOption = new("--seed") { Description = "Seed of the initial weights, order and shifts", DefaultValueFactory = _ => 0 };
    private static readonly Option<int?> ThreadsOption = new("--threads") { Description = "Intra-op threads (default: libtorch's choice)" };
    private static readonly Option<bool> JsonOption = new("--json") { Description = "Print one JSON object" };

    public static Command Create(CliContext context)
    {
        var command = new Command("train-classifier", "Train the digit classifier of the evaluation on the training split; report its held-out accuracy")
        {
            MnistOption, OutputOption, EpochsOption, SeedOption, ThreadsOption, JsonOption,
        };
        command.SetAction(parse => CommandRunner.Run(context, () =>
        {
            if (parse.GetValue(ThreadsOption) is int threads) set_num_threads(threads);
            var options = new DigitClassifierOptions { Epochs = parse.GetValue(EpochsOption), Seed = parse.GetValue(SeedOption) };
            if (options.Epochs < 1) throw new UsageException($"--epochs must be at least 1, got {options.Epochs}");
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
