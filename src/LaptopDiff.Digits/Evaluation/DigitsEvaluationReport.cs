using LaptopDiff.Runtime.Evaluation;
namespace LaptopDiff.Digits.Evaluation;

/// <summary>
/// One model's figures. Class alignment: classifier accuracy on samples generated per class; Frechet distance:
/// classifier features of the samples vs the held-out real digits; teacher MSE: mean over held-out noised inputs
/// of the per-sample MSE between the model's and the teacher's eps. Each with a 95% bootstrap interval.
/// </summary>
public sealed record DigitsEvaluationReport(
    Estimate ClassAlignment,
    IReadOnlyList<double> ClassAccuracy,
    Estimate FrechetDistance,
    Estimate? TeacherMse,
    int Samples,
    double SamplingMsPerSample);
