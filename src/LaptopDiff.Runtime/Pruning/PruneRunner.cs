using System.Diagnostics;
using System.Globalization;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning.Baselines;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// One pruned model a run wrote: its output, the student's tensor count, and how its units were chosen: the knapsack's
/// <see cref="Solution"/> (with the time the planning took) or a preset's or the random baseline's <see cref="Selection"/>.
/// </summary>
public sealed record PrunedModel(PrunedOutput Output, int KeptTensors, PruneSolution? Solution, double SolveMs, PresetSelection? Selection);

/// <summary>What a prune did: the full model, each pruned model written, and the teacher's tensor count (0 without weights).</summary>
public sealed record PruneOutcome(UNetLayout Base, IReadOnlyList<PrunedModel> Models, int TeacherTensors);

/// <summary>
/// Pruning from files to files, for every method alike: the full model's spec, the teacher's weights checked against it,
/// the units chosen (the frontier of <see cref="FrontierPlanner"/>, a preset, or the random baseline), each pruned spec
/// named and resolved on its base, and everything written by <see cref="PrunedOutputs"/>. Every check runs before the
/// first file is written.
/// </summary>
public static class PruneRunner
{
    /// <summary>The placeholder an output path or class name holds; it becomes the ratio in percent (<c>30</c> for 0.3).</summary>
    public const string RatioPlaceholder = "{ratio}";

    public static PruneOutcome Run(PruneRequest request)
    {
        var specPath = Path.GetFullPath(request.SpecPath);
        var baseLayout = LoadFullSpec(specPath);
        if ((request.TeacherWeights == null) != (request.StudentWeights == null))
            throw new InputException("the teacher's weights and the student's go together: the teacher's are read to write the student's",
                nameof(PruneRequest.TeacherWeights), nameof(PruneRequest.StudentWeights));
        var teacher = request.TeacherWeights == null ? null : StudentWeights.CheckTeacher(request.TeacherWeights, baseLayout);
        var date = request.Date ?? DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        var baseSpec = new SpecParseResult(specPath, baseLayout.Spec, EquatableArray<SpecDiagnostic>.Empty);
        var models = request.Method switch
        {
            PruneMethod.Knapsack k => PlanFrontier(request, k, specPath, baseLayout, baseSpec, date),
            PruneMethod.Preset p => [PlanSelection(request, p.Name, specPath, baseLayout, baseSpec, date, null,
                PruningPresets.TryApply(p.Name, baseLayout, out var reason) ?? throw new InputException($"preset {p.Name} does not apply to {specPath}: {reason}."))],
            PruneMethod.Random r => [PlanSelection(request, BaselineMethods.Random, specPath, baseLayout, baseSpec, date,
                $"a seeded random selection (seed {r.Seed}) at ratio {r.Ratio.ToString("R", CultureInfo.InvariantCulture)}", Random(baseLayout, r))],
            _ => throw new ArgumentException($"unknown method {request.Method}", nameof(request)),
        };
        var kept = PrunedOutputs.Write(models.Select(m => m.Output).ToList(), specPath, teacher);
        return new PruneOutcome(baseLayout, models.Select((m, i) => m with { KeptTensors = kept[i] }).ToList(), teacher?.Entries.Count ?? 0);
    }

    /// <summary>
    /// The full (unpruned) model's layout from a *.unet.yaml spec or a diffusers config.json (a pipeline folder's
    /// unet/config.json: the pruned spec names it as its base, read at run time, not by the build).
    /// </summary>
    public static UNetLayout LoadFullSpec(string specPath)
    {
        if (!new[] { ".yaml", ".yml", ".json" }.Any(e => specPath.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            throw new InputException($"pruning starts from a *.unet.yaml spec or a diffusers config.json (a pruned spec names it as 'base:'); got {specPath}.");
        var layout = SpecFiles.LoadLayout(specPath);
        if (layout.Spec.Base != null || layout.Removed.Count > 0)
            throw new InputException($"{specPath} is already a pruned spec (base: {layout.Spec.Base}); prune the full model's spec.");
        return layout;
    }

    private static List<PrunedModel> PlanFrontier(PruneRequest request, PruneMethod.Knapsack method, string specPath, UNetLayout baseLayout,
        SpecParseResult baseSpec, string date)
    {
        if (request.Output == null) throw new ArgumentException("the knapsack needs an output path", nameof(request));
        var (criterion, criterionHash) = CriterionFiles.Read(method.CriterionPath, baseLayout);
        var (planner, mismatch) = FrontierPlanner.Create(baseLayout, baseSpec, criterion, criterionHash, date);
        if (planner == null) throw new SpecException(mismatch);

        bool multi = method.Ratios.Count > 1;
        var stem = Stem(specPath);
        var models = new List<PrunedModel>();
        var problems = new List<SpecDiagnostic>();
        foreach (var ratio in method.Ratios)
        {
            var pct = PruneRatios.Percent(ratio).ToString(CultureInfo.InvariantCulture);
            var output = OutputPath(request.Output, pct, multi, nameof(PruneRequest.Output), $"{stem}.pruned{pct}.unet.yaml");
            var point = new FrontierPoint(ratio, ratio.ToString("R", CultureInfo.InvariantCulture), request.Name?.Replace(RatioPlaceholder, pct, StringComparison.Ordinal),
                output, BaseReference(output, specPath));
            var watch = Stopwatch.StartNew();
            var planned = planner.Plan(point);
            double ms = watch.Elapsed.TotalMilliseconds;
            problems.AddRange(planned.Diagnostics);
            if (planned.Spec is not PlannedSpec spec) continue;
            var student = request.StudentWeights == null ? null
                : OutputPath(request.StudentWeights, pct, multi, nameof(PruneRequest.StudentWeights), $"{stem}.pruned{pct}.safetensors");
            var metadata = Metadata(output, request.TeacherWeights, "laptopdiff.criterion", criterionHash);
            models.Add(new PrunedModel(new PrunedOutput(output, spec.Yaml, spec.Layout, student, metadata), 0, spec.Solution, ms, null));
        }
        if (problems.Count > 0) throw new SpecException(problems);
        return models;
    }

    /// <summary>A preset's or the random baseline's selection as a pruned spec; <paramref name="label"/> names the default files.</summary>
    private static PrunedModel PlanSelection(PruneRequest request, string label, string specPath, UNetLayout baseLayout, SpecParseResult baseSpec,
        string date, string? method, PresetSelection selection)
    {
        if (request.Name != null && !SpecParser.IsIdentifier(request.Name))
            throw new InputException($"the class name '{request.Name}' must be a C# identifier (letters, digits, '_'; not starting with a digit).", nameof(PruneRequest.Name));
        var stem = Stem(specPath);
        var output = request.Output == null
            ? Path.Combine(Path.GetDirectoryName(specPath)!, $"{stem}.{label}.unet.yaml")
            : OutputPath(request.Output, label, multi: false, nameof(PruneRequest.Output), $"{stem}.{label}.unet.yaml");
        var yaml = PrunedSpecBuilder.BuildPreset(baseLayout, BaseReference(output, specPath), selection, date, request.Name, method);
        var layout = LayoutBuilder.BuildOrThrow(SpecResolver.Resolve(SpecParser.Parse(output, yaml), _ => baseSpec).GetSpecOrThrow(), output);
        var student = request.StudentWeights == null ? null
            : OutputPath(request.StudentWeights, label, multi: false, nameof(PruneRequest.StudentWeights), $"{stem}.{label}.safetensors");
        var metadata = Metadata(output, request.TeacherWeights, "laptopdiff.preset", label);
        return new PrunedModel(new PrunedOutput(output, yaml, layout, student, metadata), 0, null, 0, selection);
    }

    private static PresetSelection Random(UNetLayout baseLayout, PruneMethod.Random method)
    {
        var random = RandomSelection.Select(baseLayout, method.Ratio, method.Seed);
        return new PresetSelection(BaselineMethods.Random, random.Removed.ToEquatableArray(), null, random.Layout, random.BaseParams);
    }

    /// <summary>An output path: an existing folder (or a path ending in a separator) gets <paramref name="defaultName"/>; else {ratio} is replaced.</summary>
    private static string OutputPath(string arg, string label, bool multi, string setting, string defaultName)
    {
        bool folder = arg.EndsWith('/') || arg.EndsWith(Path.DirectorySeparatorChar) || Directory.Exists(arg);
        if (folder) return Path.GetFullPath(Path.Combine(arg, defaultName));
        if (multi && !arg.Contains(RatioPlaceholder, StringComparison.Ordinal))
            throw new InputException($"{arg}: with several ratios an output path must contain {RatioPlaceholder} (e.g. models/x.pruned{RatioPlaceholder}.unet.yaml) or be an existing folder.", setting);
        return Path.GetFullPath(arg.Replace(RatioPlaceholder, label, StringComparison.Ordinal));
    }

    /// <summary>What the pruned spec's <c>base:</c> says: the full spec relative to the output's folder.</summary>
    private static string BaseReference(string output, string specPath) => Path.GetRelativePath(Path.GetDirectoryName(output)!, specPath).Replace('\\', '/');

    /// <summary>What the student's weights record beside the teacher's metadata: their spec, their teacher and how the units were chosen.</summary>
    private static Dictionary<string, string> Metadata(string output, string? teacher, string key, string value) => teacher == null ? new() : new()
    {
        ["laptopdiff.spec"] = Path.GetFileName(output),
        ["laptopdiff.teacher"] = Path.GetFileName(teacher),
        [key] = value,
    };

    private static string Stem(string specPath)
    {
        var name = Path.GetFileName(specPath);
        foreach (var ext in new[] { ".unet.yaml", ".yaml", ".yml" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return name[..^ext.Length];
        return name;
    }
}
