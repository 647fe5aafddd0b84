using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Randomness;
using static TorchSharp.torch;

namespace LaptopDiff.Digits.Evaluation;

/// <summary>Options of <see cref="DigitClassifierTraining.Train"/>.</summary>
public sealed record DigitClassifierOptions
{
    public int Epochs { get; init; } = 8;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 2e-3;
    public long Seed { get; init; }
    /// <summary>Random shifts of up to this many pixels (augmentation; the 32x32 frame's border is background).</summary>
    public int MaxShift { get; init; } = 2;
}

/// <summary>Trains the digit classifier with Adam and cross-entropy, seeded (init, order, shifts); measures accuracy.</summary>
public static class DigitClassifierTraining
{
    private const ulong OrderPurpose = 51;
    private const ulong ShiftPurpose = 52;

    /// <param name="images">float32 [N,1,32,32] in [-1,1].</param>
    /// <param name="labels">int64 [N].</param>
    /// <param name="progress">Reports (epoch, mean training loss) after each epoch.</param>
    public static DigitClassifier Train(Tensor images, Tensor labels, DigitClassifierOptions options, IProgress<(int Epoch, double Loss)>? progress = null)
    {
        if (options.Epochs < 1 || options.BatchSize < 1) throw new ArgumentException("epochs and batch size must be at least 1");
        var model = new DigitClassifier();
        LaptopDiff.Runtime.Training.SeededInitialization.Apply(model, options.Seed);
        var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        int n = (int)images.shape[0];
        int batches = (n + options.BatchSize - 1) / options.BatchSize;
        model.train();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            // cosine decay over the whole run: a stable end point without a validation split
            double lr = options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * epoch / options.Epochs));
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var order = new SeededRandom(options.Seed, OrderPurpose, epoch).Permutation(n);
            double lossSum = 0;
            for (int b = 0; b < batches; b++)
            {
                using var scope = NewDisposeScope();
                var idx = tensor(order.Skip(b * options.BatchSize).Take(options.BatchSize).Select(i => (long)i).ToArray());
                var x = Shift(images.index_select(0, idx), options, epoch, b);
                var loss = nn.functional.cross_entropy(model.forward(x), labels.index_select(0, idx));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
            }
            progress?.Report((epoch + 1, lossSum / batches));
        }
        model.eval();
        return model;
    }

    /// <summary>Fraction of <paramref name="images"/> classified as <paramref name="labels"/>.</summary>
    public static double Accuracy(DigitClassifier model, Tensor images, Tensor labels, int batchSize = 500)
    {
        using var noGrad = no_grad();
        long correct = 0, n = images.shape[0];
        for (long i = 0; i < n; i += batchSize)
        {
            using var scope = NewDisposeScope();
            long end = Math.Min(n, i + batchSize);
            correct += model.forward(images.narrow(0, i, end - i)).argmax(1).eq(labels.narrow(0, i, end - i)).sum().item<long>();
        }
        return (double)correct / n;
    }

    /// <summary>Each image rolled by its own seeded offset in [-MaxShift, MaxShift]^2 (background wraps onto background).</summary>
    private static Tensor Shift(Tensor x, DigitClassifierOptions options, int epoch, int batch)
    {
        if (options.MaxShift == 0) return x;
        var random = new SeededRandom(options.Seed, ShiftPurpose, (long)epoch * 1_000_000 + batch);
        int span = 2 * options.MaxShift + 1;
        var rows = new Tensor[x.shape[0]];
        for (int i = 0; i < rows.Length; i++)
        {
            long dy = (long)(random.Uniform(2 * i) * span) - options.MaxShift, dx = (long)(random.Uniform(2 * i + 1) * span) - options.MaxShift;
            rows[i] = x[i].roll([dy, dx], [1, 2]);
        }
        return stack(rows);
    }
}
