using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Schedulers;
using LaptopDiff.Runtime.Vae;

namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// One component as <see cref="PipelineInspection"/> sees it: its class, the parameter count its config builds
/// (models only), its weight files' dtypes and a one-line summary of them or of the tokenizer or scheduler.
/// </summary>
public sealed record ComponentSummary(
    string Name, ComponentKind Kind, string Library, string ClassName, long? ParamCount, IReadOnlyDictionary<string, int> DTypes, string Detail);

/// <summary>A pipeline folder's components, what samples by default, and the total parameters of its models.</summary>
public sealed record PipelineSummary(
    string Directory, string ClassName, PipelineKind Kind, string? DiffusersVersion, string? Variant,
    IReadOnlyList<ComponentSummary> Components, IReadOnlyList<UnusedComponent> Unused, SchedulerKind DefaultScheduler)
{
    public long TotalParamCount => Components.Sum(c => c.ParamCount ?? 0);
}

/// <summary>
/// Describes a pipeline folder without allocating any weight: parameter counts come from the configs (the U-Net's
/// layout, <see cref="VaeConfig.ParamCount"/>, <see cref="ClipTextConfig.ParamCount"/>), dtypes from the safetensors
/// headers. Works on structure-only folders (no weights, no tokenizers).
/// </summary>
public static class PipelineInspection
{
    public static PipelineSummary Inspect(PipelineFolder folder)
    {
        var components = folder.Components.Select(c => c.Kind switch
        {
            ComponentKind.UNet => Model(c, folder.BuildUNetLayout().TotalParamCount),
            ComponentKind.Vae => Model(c, VaeConfigReader.ReadFile(c.ConfigPath!).ParamCount()),
            ComponentKind.TextEncoder or ComponentKind.TextEncoderWithProjection =>
                Model(c, ClipTextConfig.Load(c.ConfigPath!, withProjection: c.Kind == ComponentKind.TextEncoderWithProjection).ParamCount),
            ComponentKind.Tokenizer => Other(c, c.FolderExists ? "vocab.json + merges.txt" : "absent (structure-only folder)"),
            _ => Other(c, SchedulerDetail(SchedulerConfig.Load(c.ConfigPath!))),
        }).ToList();
        var scheduler = SchedulerConfig.Load(folder.Scheduler.ConfigPath!);
        return new PipelineSummary(folder.Directory, folder.ClassName, folder.Kind, folder.DiffusersVersion, folder.Variant,
            components, folder.Unused, scheduler.DefaultKind);
    }

    private static ComponentSummary Model(PipelineComponent c, long paramCount) =>
        new(c.Name, c.Kind, c.Library, c.ClassName, paramCount, c.Weights!.DTypes, c.Weights.Describe());

    private static ComponentSummary Other(PipelineComponent c, string detail) =>
        new(c.Name, c.Kind, c.Library, c.ClassName, null, new Dictionary<string, int>(), detail);

    private static string SchedulerDetail(SchedulerConfig config) => config.Kind is not null
        ? $"samples with {config.DefaultKind.ClassName()}"
        : $"not implemented: samples with {config.DefaultKind.ClassName()} from its config";
}
