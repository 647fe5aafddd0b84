namespace LaptopDiff.Runtime.Schedulers;

/// <summary>The diffusers scheduler classes LaptopDiff samples with.</summary>
public enum SchedulerKind
{
    /// <summary><c>DDIMScheduler</c>: the DDIM paper's deterministic sampler (eta = 0).</summary>
    Ddim,
    /// <summary><c>EulerDiscreteScheduler</c>: Euler steps over sigma = sqrt((1 - acp) / acp) (SDXL's default).</summary>
    EulerDiscrete,
}

public static class SchedulerKinds
{
    /// <summary>diffusers' class name, as <c>_class_name</c> spells it.</summary>
    public static string ClassName(this SchedulerKind kind) => kind switch
    {
        SchedulerKind.Ddim => "DDIMScheduler",
        _ => "EulerDiscreteScheduler",
    };

    /// <summary>The kind whose class is <paramref name="className"/>; null for a class LaptopDiff does not implement.</summary>
    public static SchedulerKind? FromClassName(string? className) =>
        Enum.GetValues<SchedulerKind>().Cast<SchedulerKind?>().FirstOrDefault(k => k!.Value.ClassName() == className);
}
