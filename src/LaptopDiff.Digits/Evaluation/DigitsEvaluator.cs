using LaptopDiff.Runtime.Evaluation;
using System.Diagnostics;
using LaptopDiff.Runtime.Backends;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Digits;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Randomness;
using LaptopDiff.Runtime.Sampling;
using static TorchSharp.torch;

namespace LaptopDiff.Digits.Evaluation;

/// <summary>
/// Evaluates class-conditional digit models against one fixed reference: the classifier, the held-out digits and
/// the options' seeds and counts. Sample j (j = class x SamplesPerClass + k) always has the same label and noise.
/// </summary>
public sealed class DigitsEvaluator : IDisposable
{
    private readonly DigitClassifier _classifier;
    private readonly MnistDigits _heldOut;
    private readonly Tensor _realFeatures;

    public DigitsEvaluator(DigitClassifier classifier, MnistDigits heldOut, DigitsEvaluationOptions options)
    {
        options.Validate();
        _classifier = classifier;
        _heldOut = heldOut;
        Options = options;
        using var real = heldOut.ToModelInput();
        _realFeatures = FeaturesOf(real);
    }

    public DigitsEvaluationOptions Options { get; }

    /// <summary>The labels of the generated samples: SamplesPerClass of each class, in class order.</summary>
    public Tensor SampleLabels() =>
        arange(MnistDigits.ClassCount, ScalarType.Int64).repeat_interleave(Options.SamplesPerClass);

    /// <summary>Generates every evaluation sample [N,1,32,32] (DDIM with guidance); progress reports samples done.</summary>
    public Tensor Generate(NoisePredictor predict, ClassConditioner conditioner, IProgress<int>? progress = null)
    {
        using var labels = SampleLabels();
        return Generate(predict, conditioner, labels, Options, progress);
    }

    /// <summary>
    /// Samples for the given labels; sample j's noise comes from stream (seed, j), drawn on the CPU. The chain runs on the conditioner's
    /// device (the model's); the samples come back on the CPU.
    /// </summary>
    public static Tensor Generate(NoisePredictor predict, ClassConditioner conditioner, Tensor labels, DigitsEvaluationOptions options, IProgress<int>? progress = null)
    {
        using var noGrad = no_grad();
        var sampler = new DdimSampler(options.Schedule, options.Steps);
        int n = (int)labels.shape[0];
        var parts = new List<Tensor>();
        var device = conditioner.Device;
        using var nullLabel = tensor(new[] { conditioner.NullLabel });
        using var uncond = conditioner.forward(nullLabel);
        for (int start = 0; start < n; start += options.Batch)
        {
            int count = Math.Min(options.Batch, n - start);
            using var scope = NewDisposeScope();
            var cond = conditioner.forward(labels.narrow(0, start, count));
            var noise = DdimSampler.InitialNoise(options.Seed, start, count, 1, MnistDigits.ModelSide).to(device);
            parts.Add(HostCopy.Take(sampler.Sample(predict, noise, cond, uncond, options.GuidanceScale)).MoveToOuterDisposeScope());
            progress?.Report(start + count);
        }
        var all = cat(parts);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// <summary>
    /// Generates and scores a model; with a teacher, also the output MSE to it on held-out noised digits.
    /// <paramref name="withSamples"/> sees the samples and their labels before they are freed (e.g. for a grid).
    /// </summary>
    public DigitsEvaluationReport Evaluate(NoisePredictor model, ClassConditioner conditioner,
        NoisePredictor? teacher = null, ClassConditioner? teacherConditioner = null, IProgress<int>? progress = null,
        Action<Tensor, Tensor>? withSamples = null)
    {
        using var labels = SampleLabels();
        var watch = Stopwatch.StartNew();
        using var samples = Generate(model, conditioner, labels, Options, progress);
        double msPerSample = watch.Elapsed.TotalMilliseconds / samples.shape[0];
        var report = Score(samples, labels, msPerSample, teacher is null ? null : TeacherMse(model, conditioner, teacher, teacherConditioner ?? conditioner));
        withSamples?.Invoke(samples, labels);
        return report;
    }

    /// <summary>Alignment and Frechet distance of given samples (and their labels), with bootstrap intervals over the samples.</summary>
    public DigitsEvaluationReport Score(Tensor samples, Tensor labels, double msPerSample, Estimate? teacherMse)
    {
        using var features = FeaturesOf(samples);
        using var predicted = _classifier.Logits(features).argmax(1);
        var correct = predicted.eq(labels).to_type(ScalarType.Float64).data<double>().ToArray();
        var labelArray = labels.data<long>().ToArray();
        var alignment = Bootstrap.Interval(correct.Length, pick => pick.Average(i => correct[i]), Options.BootstrapResamples, Options.Seed);
        var perClass = Enumerable.Range(0, MnistDigits.ClassCount)
            .Select(c => Enumerable.Range(0, correct.Length).Where(i => labelArray[i] == c).Select(i => correct[i]).DefaultIfEmpty(double.NaN).Average())
            .ToArray();
        var frechet = Bootstrap.Interval((int)features.shape[0], pick =>
        {
            using var idx = tensor(pick);
            using var picked = features.index_select(0, idx);
            return FrechetDistance.Compute(picked, _realFeatures);
        }, Options.BootstrapResamples, Options.Seed, correctBias: true);
        return new DigitsEvaluationReport(alignment, perClass, frechet, teacherMse, correct.Length, msPerSample);
    }

    /// <summary>Classifier features [N,64] of images [N,1,32,32].</summary>
    public Tensor FeaturesOf(Tensor images)
    {
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        for (long i = 0; i < images.shape[0]; i += 500)
            parts.Add(_classifier.Features(images.narrow(0, i, Math.Min(500, images.shape[0] - i))));
        var all = cat(parts);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    /// <summary>
    /// Mean over the first MseSamples held-out digits of the per-sample MSE between the two models' eps at the same
    /// x_t = sqrt(acp_t) x_0 + sqrt(1 - acp_t) eps (stratified seeded t, seeded noise; each model's own conditioner).
    /// </summary>
    public Estimate TeacherMse(NoisePredictor model, ClassConditioner conditioner, NoisePredictor teacher, ClassConditioner teacherConditioner)
    {
        using var noGrad = no_grad();
        int n = Math.Min(Options.MseSamples, _heldOut.Count);
        var timesteps = new CalibrationNoising(n, new NoisingSettings { Seed = Options.Seed, Schedule = Options.Schedule }).Timesteps;
        using var x0All = _heldOut.ToModelInput();
        var perSample = new double[n];
        for (int j = 0; j < n; j++)
        {
            // one timestep per forward: the noise predictor takes a single t
            using var scope = NewDisposeScope();
            var noise = new float[MnistDigits.ModelSide * MnistDigits.ModelSide];
            new SeededRandom(Options.Seed, RandomPurpose.Noise, j).FillNormal(noise);
            long t = timesteps[j];
            var xt = Options.Schedule.AddNoise(x0All.narrow(0, j, 1), tensor(noise).reshape(1, 1, MnistDigits.ModelSide, MnistDigits.ModelSide), tensor(new[] { t }));
            var label = _heldOut.Labels.narrow(0, j, 1);
            var diff = model(xt, t, conditioner.forward(label)) - teacher(xt, t, teacherConditioner.forward(label));
            perSample[j] = diff.square().mean().item<float>();
        }
        return Bootstrap.Interval(n, pick => pick.Average(i => perSample[i]), Options.BootstrapResamples, Options.Seed);
    }

    public void Dispose() => _realFeatures.Dispose();
}
