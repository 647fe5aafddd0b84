using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Evaluation;
using LaptopDiff.Runtime.Inputs;
using System.Diagnostics;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Sampling;
using LaptopDiff.Runtime.Vae;
using static TorchSharp.torch;

namespace LaptopDiff.Digits.Evaluation;

/// <summary>
/// One caption set's figures for a text-to-image digits pipeline, and the prompts behind them. Against a teacher, also
/// the teacher's sampling time per sample measured in the same run (same prompts, noise and batches).
/// </summary>
public sealed record CaptionAlignmentReport(CaptionSet Captions, DigitsEvaluationReport Report, IReadOnlyList<string> Prompts, double? TeacherMsPerSample = null);

/// <summary>
/// How well the VAE reproduces the held-out digits: MSE of pixel values in [0, 1] (and the PSNR it gives, peak 1), and
/// the digit classifier's accuracy on the reconstructions next to its accuracy on the originals.
/// </summary>
public sealed record VaeReconstructionReport(double Mse, double PsnrDb, double ReconstructedAccuracy, double OriginalAccuracy, int Images);

/// <summary>
/// Scores a text-to-image pipeline trained on digits with the digit classifier: samples for captions of each digit
/// (<see cref="DigitCaptions.ForEvaluation"/>: training-style or held-out phrasings) are decoded, turned into the
/// classifier's input (grayscale: the mean of R, G, B; [N,1,32,32] in [-1,1]) and scored as
/// <see cref="DigitsEvaluator.Score"/> does (alignment and Frechet distance against the held-out digits, with bootstrap
/// intervals). Sample j of digit c uses prompt k = j mod SamplesPerClass and noise stream (seed, c x SamplesPerClass + k).
/// With a <paramref name="teacher"/> (the same pipeline with its own U-Net, for a student in place), a caption set
/// evaluated against it is also sampled by the teacher from the same noise: the MSE of the decoded images (pixel values in
/// [0, 1], per sample, with a bootstrap interval) and both sampling times come from one run. Given the teacher's samples
/// of that set from an earlier run, the teacher samples only its first batch again: for its time, and to check that
/// they are its samples for these prompts, noise and settings.
/// </summary>
public sealed class DigitsPipelineEvaluator(DigitsEvaluator evaluator, TextToImageSampler sampler, TextToImageSampler? teacher = null)
{
    /// <summary>Largest pixel difference (of [-1,1] values) by which a re-sampled first batch may differ from given teacher samples: thread counts change float rounding.</summary>
    public const double ReferenceTolerance = 1e-3;

    private readonly HashSet<TextToImageSampler> _warm = [];

    /// <param name="teacherSamples">With <paramref name="againstTeacher"/>: the teacher's decoded samples [N,3,H,W] in [-1,1] of this set, from an earlier run.</param>
    /// <param name="withImages">Sees the decoded images [N,3,H,W] in [-1,1] before they are freed.</param>
    public CaptionAlignmentReport Evaluate(CaptionSet captions, IProgress<int>? progress = null, Action<Tensor, Tensor>? withSamples = null,
        bool againstTeacher = false, Tensor? teacherSamples = null, Action<Tensor>? withImages = null)
    {
        if (againstTeacher && teacher is null) throw new InvalidOperationException("no teacher to evaluate against");
        var options = evaluator.Options;
        using var labels = evaluator.SampleLabels();
        var prompts = labels.data<long>().ToArray().Select((digit, j) => DigitCaptions.ForEvaluation(captions, (int)digit, j % options.SamplesPerClass)).ToList();
        WarmUp(sampler, prompts, options);
        var watch = Stopwatch.StartNew();
        using var images = sampler.Generate(prompts, options.Seed, options.Steps, options.GuidanceScale, options.Batch, progress);
        double msPerSample = watch.Elapsed.TotalMilliseconds / prompts.Count;
        Estimate? teacherMse = null;
        double? teacherMs = null;
        if (againstTeacher)
        {
            if (teacherSamples is not null && !teacherSamples.shape.SequenceEqual(images.shape))
                throw new InputException($"the teacher's samples are [{string.Join(",", teacherSamples.shape)}]; this evaluation samples [{string.Join(",", images.shape)}]");
            int timed = teacherSamples is null ? prompts.Count : Math.Min(options.Batch, prompts.Count);
            WarmUp(teacher!, prompts, options);
            watch.Restart();
            using var sampled = teacher!.Generate(prompts, options.Seed, options.Steps, options.GuidanceScale, options.Batch, first: timed);
            teacherMs = watch.Elapsed.TotalMilliseconds / timed;
            if (teacherSamples is not null)
            {
                double difference = MaxDifference(sampled, teacherSamples.narrow(0, 0, timed));
                if (!(difference <= ReferenceTolerance))
                    throw new InputException($"the given teacher samples are not this teacher's for these prompts and settings: its first {timed} differ by up to {difference:G3}");
            }
            teacherMse = ImageMse(images, teacherSamples ?? sampled, options);
        }
        withImages?.Invoke(images);
        using var digits = ToClassifierInput(images);
        var report = evaluator.Score(digits, labels, msPerSample, teacherMse);
        withSamples?.Invoke(digits, labels);
        return new CaptionAlignmentReport(captions, report, prompts, teacherMs);
    }

    /// <summary>
    /// Once per sampler, one untimed DDIM step on the first batch: the first use of a model's shapes pays for convolution
    /// plans, kernel set-up and fresh memory, which would otherwise fall on the timed run (most on a teacher timed on one batch).
    /// </summary>
    private void WarmUp(TextToImageSampler s, IReadOnlyList<string> prompts, DigitsEvaluationOptions options)
    {
        if (!_warm.Add(s)) return;
        using var _ = s.Generate(prompts, options.Seed, 1, options.GuidanceScale, options.Batch, first: Math.Min(options.Batch, prompts.Count));
    }

    private static double MaxDifference(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.sub(b).abs().max().item<float>();
    }

    /// <summary>Per-sample MSE of two decoded batches [N,3,H,W] in [-1,1], on pixel values in [0, 1], with its bootstrap interval.</summary>
    private static Estimate ImageMse(Tensor images, Tensor reference, DigitsEvaluationOptions options)
    {
        using var scope = NewDisposeScope();
        var perSample = ((images - reference) / 2).square().mean([1, 2, 3]).to_type(ScalarType.Float64).data<double>().ToArray();
        return Bootstrap.Interval(perSample.Length, pick => pick.Average(i => perSample[i]), options.BootstrapResamples, options.Seed);
    }

    /// <summary>Decoded RGB images [N,3,32,32] in [-1,1] -> the classifier's grayscale [N,1,32,32], clamped to [-1,1].</summary>
    public static Tensor ToClassifierInput(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != MnistDigits.ModelSide || images.shape[3] != MnistDigits.ModelSide)
            throw new ArgumentException($"expected decoded images [N,3,{MnistDigits.ModelSide},{MnistDigits.ModelSide}], got [{string.Join(",", images.shape)}]");
        using var scope = NewDisposeScope();
        return images.mean([1], keepdim: true).clamp(-1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>The VAE on the held-out digits (as RGB, R = G = B) on its device: reconstruction error and the classifier (on the CPU) on both.</summary>
    public static VaeReconstructionReport Reconstruction(AutoencoderKL vae, DigitClassifier classifier, MnistDigits heldOut)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var gray = heldOut.ToModelInput();                                                   // [N,1,32,32] in [-1,1]
        var rgb = gray.expand(-1, 3, -1, -1).contiguous();                                  // [N,3,32,32]
        var parts = new List<Tensor>();
        for (long i = 0; i < rgb.shape[0]; i += 200)
        {
            using var posterior = vae.Encode(rgb.narrow(0, i, Math.Min(200, rgb.shape[0] - i)).to(vae.Device));
            parts.Add(HostCopy.Take(vae.Decode(posterior.Mean).clamp(-1, 1)));
        }
        var decoded = cat(parts);
        double mse = ((decoded - rgb) / 2).square().mean().item<float>();                    // pixel values in [0, 1]
        var reconstructed = ToClassifierInput(decoded);
        double Accuracy(Tensor x) => classifier.forward(x).argmax(1).eq(heldOut.Labels).to_type(ScalarType.Float64).mean().item<double>();
        return new VaeReconstructionReport(mse, 10 * Math.Log10(1 / mse), Accuracy(reconstructed), Accuracy(gray), heldOut.Count);
    }
}
