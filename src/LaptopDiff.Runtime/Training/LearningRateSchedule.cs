namespace LaptopDiff.Runtime.Training;

/// <summary>Linear warmup from 0 to the peak, then constant or half-cosine to 0 at the last step.</summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public static double At(TrainingOptions o, int step)
    {
        if (step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        if (o.Decay == LearningRateDecay.Constant) return o.LearningRate;
        int span = Math.Max(1, o.Steps - o.WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - o.WarmupSteps) / span);
        return o.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
