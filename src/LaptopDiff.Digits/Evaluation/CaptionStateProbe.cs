using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Digits;
using static TorchSharp.torch;

namespace LaptopDiff.Digits.Evaluation;

/// <summary>
/// How well a text encoder's states tell digits apart, before any image is drawn. Every caption (template x digit x
/// word or numeral) -> its last hidden states [77, D], flattened (everything the U-Net's cross-attention sees). The
/// digit's centroid is the mean over its training-style captions. <see cref="TrainingAccuracy"/> and
/// <see cref="HeldOutAccuracy"/>: the share of captions nearest (Euclidean) to their own digit's centroid;
/// <see cref="SpreadRatio"/>: mean distance of held-out captions to their own centroid over the mean distance between
/// centroids (near 0: captions of a digit are one state; near 1 or more: the text says little about the digit).
/// </summary>
public sealed record CaptionStateProbe(double TrainingAccuracy, double HeldOutAccuracy, double SpreadRatio, int TrainingCaptions, int HeldOutCaptions)
{
    public static CaptionStateProbe Measure(ClipTextModel textEncoder, ClipTokenizer tokenizer)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        textEncoder.eval();
        var (train, trainLabels) = States(textEncoder, tokenizer, CaptionSet.Training);
        var (heldOut, heldOutLabels) = States(textEncoder, tokenizer, CaptionSet.HeldOut);
        var centroids = stack(Enumerable.Range(0, 10).Select(d => train[trainLabels.eq(d)].mean([0])).ToArray());   // [10, 77*D]
        double Accuracy(Tensor x, Tensor labels) => cdist(x, centroids).argmin(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        var own = (heldOut - centroids.index_select(0, heldOutLabels)).norm(1).mean().item<float>();
        var pairs = cdist(centroids, centroids);                                             // [10, 10], zero diagonal
        var between = pairs.sum().item<float>() / (10 * 9);
        return new CaptionStateProbe(Accuracy(train, trainLabels), Accuracy(heldOut, heldOutLabels), own / between, (int)train.shape[0], (int)heldOut.shape[0]);
    }

    private static (Tensor States, Tensor Labels) States(ClipTextModel textEncoder, ClipTokenizer tokenizer, CaptionSet set)
    {
        var captions = new List<string>();
        var labels = new List<long>();
        foreach (var template in DigitCaptions.Templates(set))
            for (int digit = 0; digit < 10; digit++)
                foreach (bool word in (bool[])[true, false])
                {
                    captions.Add(DigitCaptions.Fill(template, digit, word));
                    labels.Add(digit);
                }
        using var ids = tokenizer.EncodeBatch(captions);
        using var output = textEncoder.forward(ids);
        return (HostCopy.Take(output.LastHiddenState.flatten(1)), tensor(labels.ToArray()));  // [N, 77*D] read back from the encoder's device, [N]
    }

    public override string ToString() => FormattableString.Invariant(
        $"nearest digit centroid: {TrainingAccuracy:P1} of {TrainingCaptions} training-style captions, {HeldOutAccuracy:P1} of {HeldOutCaptions} held-out; held-out spread {SpreadRatio:F3} of the distance between digits");
}
