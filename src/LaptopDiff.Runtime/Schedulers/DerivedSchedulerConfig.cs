using System.Text.Json.Nodes;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>A folder's scheduler config as one scheduler class takes it (<see cref="SchedulerConfig.For"/>).</summary>
public sealed class DerivedSchedulerConfig
{
    private readonly JsonObject _config;

    internal DerivedSchedulerConfig(SchedulerKind kind, string sourcePath, string? sourceClassName, JsonObject config,
        IReadOnlyList<string> defaultedKeys, SchedulerOptions options)
    {
        Kind = kind;
        SourcePath = sourcePath;
        SourceClassName = sourceClassName;
        _config = config;
        DefaultedKeys = defaultedKeys;
        Options = options;
    }

    public SchedulerKind Kind { get; }
    public string SourcePath { get; }
    /// <summary>The folder's own <c>_class_name</c> (null when it has none).</summary>
    public string? SourceClassName { get; }
    /// <summary>True when the folder ships another class than the one sampling (e.g. PNDMScheduler, sampled with DDIM).</summary>
    public bool ClassDiffers => SourceClassName != Kind.ClassName();
    /// <summary>The target's keys that took the class default (diffusers' <c>_use_default_values</c>), in signature order.</summary>
    public IReadOnlyList<string> DefaultedKeys { get; }
    /// <summary>The typed settings the scheduler runs on.</summary>
    public SchedulerOptions Options { get; }

    /// <summary>diffusers' <c>scheduler.config</c> after <c>from_config</c>, key by key, in its order (a copy).</summary>
    public JsonObject ToJson() => (JsonObject)_config.DeepClone();

    public DiffusionScheduler CreateScheduler() => Options switch
    {
        DdimOptions ddim => new DdimScheduler(ddim),
        EulerDiscreteOptions euler => new EulerDiscreteScheduler(euler),
        _ => throw new InvalidOperationException($"no scheduler for {Options.GetType().Name}"),
    };
}
