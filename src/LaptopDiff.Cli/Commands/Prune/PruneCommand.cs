using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.IO;
using LaptopDiff.Cli.Options;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.Prune;

/// <summary>
/// <c>laptop-diff prune --spec SPEC --criterion C.json --ratio R --output PRUNED.unet.yaml [--weights W --student-weights S]</c>:
/// the exact knapsack over a criterion file, written as a pruned spec (an overlay on SPEC) and, with weights,
/// the student's initial weights. Everything is solved and checked before the first file is written.
/// <c>--preset NAME</c> instead applies a handcrafted baseline (<see cref="PresetPrune"/>).
/// </summary>
public static class PruneCommand
{
    /// <summary>The placeholder a multi-ratio output path holds; it becomes the ratio in percent (<c>30</c> for 0.3).</summary>
    public const string RatioPlaceholder = "{ratio}";

    private static readonly Option<FileInfo> SpecOption = CommonOptions.Spec("The full model's spec (*.unet.yaml, or a diffusers config.json such as a pipeline folder's unet/config.json: the pruned spec then names it as base:, read at run time, not by the build) the criterion was measured on");
    private static readonly Option<FileInfo?> CriterionOption = new("--criterion") { Description = "The criterion file (JSON) from `laptop-diff sweep` (with --ratio; or give --preset)" };
    private static readonly Option<long?> RandomOption = new("--random")
    {
        Description = "The random baseline: remove prunable units in an order seeded by this value until --ratio is reached (no --criterion)",
    };
    private static readonly Option<string?> PresetOption = new("--preset")
    {
        Description = $"Apply a handcrafted preset instead of the knapsack: {string.Join(", ", PruningPresets.Names)} (no --criterion/--ratio; --output defaults to <spec>.<preset>.unet.yaml beside SPEC)",
    };
    private static readonly Option<string[]> RatioOption = new("--ratio")
    {
        Description = "Fraction of the U-Net's parameters to remove, in (0,1). Repeat it or give a comma list (0.3,0.5) for the Pareto frontier: " +
                      "one pruned spec per ratio, and OUTPUT must then contain {ratio} (replaced by the percent, e.g. 30) or be a folder",
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<string> OutputOption = CommonOptions.Output<string>(
        "The pruned spec to write (*.unet.yaml). {ratio} becomes the percent. An existing folder (or a path ending in /) gets " +
        "<spec>.pruned<percent>.unet.yaml. Put it next to SPEC; elsewhere 'base:' is written as a path relative to the output's folder", required: false);
    private static readonly UNetModelOptions Model = new(SpecOption, weightsDescription: "The teacher's weights (.safetensors, diffusers keys); with --student-weights");
    private static readonly Option<string?> StudentWeightsOption = new("--student-weights")
    {
        Description = "Where to write the student's initial weights: the teacher's tensors minus the removed units' (same key names). " +
                      "With several ratios it must contain {ratio} or be a folder (<spec>.pruned<percent>.safetensors)",
    };
    private static readonly Option<string?> NameOption = new("--name") { Description = "Class name of the pruned model (default <BaseName>Pruned<percent>); with several ratios it must contain {ratio}" };
    private static readonly JsonOption JsonOption = CommonOptions.Json("one ratio: its figures; several: total_params and a 'solutions' list");

    private const string Details = """
        Three ways to choose the units, each written as a pruned spec (base: SPEC relative to the output's
        folder, removed: and provenance) and, with --weights and --student-weights, the student's initial
        weights: the teacher's tensors minus the removed units', copied from the file. Everything is
        solved and checked before the first file is written.

        The knapsack (--criterion C --ratio R): removes the units of least summed loss with removed params
        >= R x total, exactly. Several ratios (--ratio 0.3 --ratio 0.5, or 0.3,0.5) print the Pareto
        frontier and write one spec each. A bad criterion (LD0014, LD0015) or ratio (LD0016) is exit 2.

        A preset (--preset NAME), a handcrafted baseline with provenance method "preset NAME": bk-sdm-base
        (the second ResNet+attention pair of each down stage, the middle pair of each up stage; SD-1.5:
        579,384,964 params), bk-sdm-small (also the mid block; 482,346,884), ssd-1b (SSD-1B's transformer
        depths and ResNet-only mid; SDXL: 1,331,334,404, SSD-1B's exact keys). Rules over the structure,
        so they fit any spec of that shape; one that does not fit is exit 2 saying why. --json: preset,
        ratio, removed, mid, removed_params, total_params, remaining_params. More in docs/pruning.md.

        The random baseline (--random SEED --ratio R): prunable units in an order seeded by SEED until the
        removed parameters reach ceil(R x P), the selection compare scores as random; --json as for
        --preset.
        """;

    public static Command Create(CliContext context)
    {
        PresetOption.AcceptOnlyFromAmong(PruningPresets.Names.ToArray());
        var command = new VerbCommand("prune", "Choose the units to remove by the exact knapsack over a criterion file (or a handcrafted preset) and write the pruned spec (and student weights)", Details)
        {
            CriterionOption, RatioOption, PresetOption, RandomOption, OutputOption, StudentWeightsOption, NameOption, JsonOption,
        };
        Model.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(context, parse, () =>
        {
            var unet = Model.Resolve(parse, weightsRequired: false);
            var spec = unet.SpecPath;
            var criterion = parse.GetValue(CriterionOption)?.FullName;
            var ratios = parse.GetValue(RatioOption);
            var preset = parse.GetValue(PresetOption);
            var output = parse.GetValue(OutputOption);
            var student = parse.GetValue(StudentWeightsOption);
            var weights = unet.Folder is null || student is not null ? unet.WeightsPath : null;   // a folder's weights are read only to write a student
            var name = parse.GetValue(NameOption);
            bool json = parse.GetValue(JsonOption);
            if (preset != null)
            {
                if (criterion != null || ratios is { Length: > 0 })
                    throw new UsageException("--preset chooses the units itself; give either --preset or --criterion with --ratio, not both.");
                return PresetPrune.Execute(context, spec, preset, output, weights, student, name, json);
            }
            if (parse.GetValue(RandomOption) is long seed)
            {
                var randomRatios = ratios is { Length: > 0 } ? ParseRatios(ratios) : [];
                if (criterion != null || randomRatios.Count != 1)
                    throw new UsageException("--random SEED takes one --ratio and no --criterion: the seeded order chooses the units.");
                return PresetPrune.ExecuteRandom(context, spec, randomRatios[0], seed, output, weights, student, name, json);
            }
            if (criterion == null || ratios is not { Length: > 0 } || output == null)
                throw new UsageException("prune needs --criterion, --ratio and --output (or --preset NAME for a handcrafted baseline, or --random SEED --ratio R).");
            return Execute(context, spec, criterion, ratios, output, weights, student, name, json);
        }));
        return command;
    }

    private sealed record Planned(PruneSolution Solution, string Output, string Name, string Yaml, UNetLayout Layout, string? StudentPath,
        IReadOnlyList<SafetensorsEntry>? Kept, double SolveMs);

    private static int Execute(CliContext context, string specPath, string criterionPath, string[] ratioArgs, string outputArg,
        string? weightsPath, string? studentArg, string? nameArg, bool json)
    {
        // 1. inputs: the base spec, the criterion, the ratios (all checked before anything is written)
        var baseLayout = LoadFullSpec(specPath, " with a criterion measured on it");
        if (!File.Exists(criterionPath)) throw new FileNotFoundException($"criterion file not found: {criterionPath}", criterionPath);
        var criterionText = File.ReadAllText(criterionPath);
        var (criterion, parseDiagnostics) = CriterionReader.Parse(criterionPath, criterionText);
        if (criterion == null) throw new SpecException(parseDiagnostics);
        var mismatch = criterion.CheckAgainst(baseLayout);
        if (mismatch.Count > 0) throw new SpecException(mismatch);
        var ratios = ParseRatios(ratioArgs);
        bool multi = ratios.Count > 1;

        if ((weightsPath == null) != (studentArg == null))
            throw new InputException("--weights and --student-weights go together: the teacher's weights are read to write the student's.");
        SafetensorsHeader? teacher = weightsPath == null ? null : StudentWeights.CheckTeacher(weightsPath, baseLayout);
        if (multi && nameArg != null && !nameArg.Contains(RatioPlaceholder, StringComparison.Ordinal))
            throw new InputException($"--name '{nameArg}' would name every pruned class the same; with several ratios it must contain {RatioPlaceholder}.");

        // 2. solve every ratio and build every output in memory
        var criterionHash = SpecHash.OfText(criterionText);
        var date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var specFull = Path.GetFullPath(specPath);
        var stem = Stem(specFull);
        var planned = new List<Planned>();
        foreach (var ratio in ratios)
        {
            var watch = Stopwatch.StartNew();
            var (solution, diagnostics) = KnapsackSolver.TrySolve(baseLayout, criterion, ratio, ratioPath: "--ratio");
            double ms = watch.Elapsed.TotalMilliseconds;
            if (solution == null) throw new SpecException(diagnostics);
            var pct = Percent(ratio);
            var output = Resolve(outputArg, pct, multi, "--output", $"{stem}.pruned{pct}.unet.yaml");
            if (!output.EndsWith(".unet.yaml", StringComparison.OrdinalIgnoreCase))
                throw new InputException($"--output {output} must end in .unet.yaml (the generator and SpecFiles pick specs up by that extension).");
            if (string.Equals(output, specFull, StringComparison.OrdinalIgnoreCase))
                throw new InputException($"--output {output} is the base spec itself; choose another file.");
            var name = nameArg?.Replace(RatioPlaceholder, pct, StringComparison.Ordinal);
            if (name != null && !IsIdentifier(name))
                throw new InputException($"--name '{name}' must be a C# identifier (letters, digits, '_'; not starting with a digit): it names the generated class.");
            var outputDir = Path.GetDirectoryName(output)!;
            var baseRef = Path.GetRelativePath(outputDir, specFull).Replace('\\', '/');
            var yaml = PrunedSpecBuilder.Build(baseLayout, baseRef, solution, criterionHash, ratio, date, name, criterion.Criterion,
                criterion.Units.ToDictionary(u => u.Id, u => u.Loss, StringComparer.Ordinal));
            var layout = ResolveLayout(output, yaml);
            string? student = null;
            IReadOnlyList<SafetensorsEntry>? kept = null;
            if (teacher != null)
            {
                student = Resolve(studentArg!, pct, multi, "--student-weights", $"{stem}.pruned{pct}.safetensors");
                if (string.Equals(student, Path.GetFullPath(weightsPath!), StringComparison.OrdinalIgnoreCase))
                    throw new InputException($"--student-weights {student} is the teacher's file; choose another file.");
                kept = StudentWeights.Kept(teacher, layout);
            }
            planned.Add(new Planned(solution, output, layout.Spec.Name, yaml, layout, student, kept, ms));
        }
        var duplicate = planned.SelectMany(p => new[] { p.Output, p.StudentPath }).Where(p => p != null)
            .GroupBy(p => p!, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new InputException($"two ratios would write {duplicate.Key} (ratios are named by their truncated percent); give ratios with distinct percents.");
        foreach (var p in planned)
        {
            RequireFolder(p.Output);
            if (p.StudentPath != null) RequireFolder(p.StudentPath);
        }

        // 3. write: specs, then weights; a failure removes what this run created
        var created = new List<string>();
        try
        {
            foreach (var p in planned)
            {
                bool existed = File.Exists(p.Output);
                TextOutputs.Write(p.Output, p.Yaml);
                if (!existed) created.Add(p.Output);
                if (p.StudentPath != null)
                {
                    existed = File.Exists(p.StudentPath);
                    StudentWeights.Write(p.StudentPath, teacher!, p.Kept!, new Dictionary<string, string>
                    {
                        ["laptopdiff.spec"] = Path.GetFileName(p.Output),
                        ["laptopdiff.teacher"] = Path.GetFileName(weightsPath!),
                        ["laptopdiff.criterion"] = criterionHash,
                    });
                    if (!existed) created.Add(p.StudentPath);
                }
            }
        }
        catch
        {
            foreach (var f in created)
                try { File.Delete(f); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }

        // 4. report
        long total = baseLayout.TotalParamCount;
        if (json)
        {
            var objects = planned.Select(p => new PruneJson(p.Solution.Ratio, p.Solution.AchievedRatio, p.Solution.Removed.ToArray(), p.Solution.RemovedParams,
                p.Solution.RequiredParams, p.Solution.PredictedLoss, total, total - p.Solution.RemovedParams, p.Solution.NodesExplored, Math.Round(p.SolveMs, 3),
                p.Name, p.Output, p.StudentPath)).ToList();
            context.Out.WriteLine(multi
                ? JsonSerializer.Serialize(new FrontierJson(baseLayout.Spec.Name, total, objects), JsonOptions.Indented)
                : JsonSerializer.Serialize(objects[0], JsonOptions.Indented));
            return ExitCodes.Ok;
        }
        int prunable = baseLayout.PrunableUnits.Count();
        if (multi)
        {
            context.Out.WriteLine($"Pareto frontier of {baseLayout.Spec.Name} ({total:N0} parameters, {prunable} prunable units), exact knapsack over {Path.GetFileName(criterionPath)}:");
            context.Out.WriteLine($"{"ratio",7} {"achieved",9} {"removed params",15} {"units",6} {"predicted loss",16} {"nodes",8}  spec");
            foreach (var p in planned)
                context.Out.WriteLine($"{R(p.Solution.Ratio),7} {p.Solution.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture),9} {p.Solution.RemovedParams,15:N0} " +
                                      $"{p.Solution.Removed.Count,6} {CriterionWriter.Number(p.Solution.PredictedLoss),16} {p.Solution.NodesExplored,8}  {p.Output}");
        }
        foreach (var p in planned)
        {
            if (!multi)
                context.Out.WriteLine($"{baseLayout.Spec.Name} at ratio {R(p.Solution.Ratio)}: removed {p.Solution.Removed.Count} of {prunable} prunable units, " +
                                      $"{p.Solution.RemovedParams:N0} of {total:N0} parameters (achieved {p.Solution.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)}), " +
                                      $"predicted loss {CriterionWriter.Number(p.Solution.PredictedLoss)}; exact knapsack: {p.Solution.NodesExplored} nodes, {p.SolveMs:0.###} ms");
            context.Out.WriteLine($"wrote {p.Output}: {p.Name}, {p.Layout.TotalParamCount:N0} parameters");
            if (p.StudentPath != null)
                context.Out.WriteLine($"wrote {p.StudentPath}: {p.Kept!.Count} of {teacher!.Entries.Count} teacher tensors");
        }
        return ExitCodes.Ok;
    }

    private sealed record PruneJson(
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("achieved_ratio")] double AchievedRatio,
        [property: JsonPropertyName("removed")] string[] Removed,
        [property: JsonPropertyName("removed_params")] long RemovedParams,
        [property: JsonPropertyName("required_params")] long RequiredParams,
        [property: JsonPropertyName("predicted_loss")] double PredictedLoss,
        [property: JsonPropertyName("total_params")] long TotalParams,
        [property: JsonPropertyName("remaining_params")] long RemainingParams,
        [property: JsonPropertyName("nodes")] long Nodes,
        [property: JsonPropertyName("solve_ms")] double SolveMs,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("output")] string Output,
        [property: JsonPropertyName("student_weights")] string? StudentWeights);

    private sealed record FrontierJson(
        [property: JsonPropertyName("spec")] string Spec,
        [property: JsonPropertyName("total_params")] long TotalParams,
        [property: JsonPropertyName("solutions")] IReadOnlyList<PruneJson> Solutions);

    /// <summary>The full (unpruned) model's layout from a *.unet.yaml spec.</summary>
    internal static UNetLayout LoadFullSpec(string specPath, string what)
    {
        if (!SpecFile(specPath))
            throw new InputException($"--spec must be a *.unet.yaml spec or a diffusers config.json (a pruned spec names it as 'base:'); got {specPath}.");
        var baseLayout = SpecFiles.LoadLayout(specPath);
        if (baseLayout.Spec.Base != null || baseLayout.Removed.Count > 0)
            throw new InputException($"{specPath} is already a pruned spec (base: {baseLayout.Spec.Base}); prune the full model's spec{what}.");
        return baseLayout;
    }

    /// <summary>Every --ratio value, comma lists split, in the order given; duplicates and values outside (0,1) are errors.</summary>
    internal static IReadOnlyList<double> ParseRatios(IEnumerable<string> args)
    {
        var result = new List<double>();
        foreach (var text in args.SelectMany(a => a.Split(',')).Select(t => t.Trim()))
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || double.IsNaN(r) || double.IsInfinity(r))
                throw Ratio($"--ratio '{text}' is not a number; give a fraction such as 0.5 (or a list 0.3,0.5)");
            if (!(r > 0 && r < 1))
                throw Ratio($"pruning ratio {R(r)} must be between 0 and 1, exclusive (the fraction of the U-Net's parameters to remove)");
            if (result.Contains(r)) throw Ratio($"--ratio {R(r)} is given twice");
            result.Add(r);
        }
        if (result.Count == 0) throw Ratio("--ratio needs at least one value");
        return result;
    }

    private static SpecException Ratio(string message) =>
        new(new[] { new SpecDiagnostic(SpecDiagnosticIds.InfeasibleRatio, message, "--ratio", default) });

    /// <summary>An output path: {ratio} replaced, or a file named <paramref name="defaultName"/> in a folder.</summary>
    internal static string Resolve(string arg, string pct, bool multi, string option, string defaultName)
    {
        bool folder = arg.EndsWith('/') || arg.EndsWith(Path.DirectorySeparatorChar) || Directory.Exists(arg);
        if (folder) return Path.GetFullPath(Path.Combine(arg, defaultName));
        if (multi && !arg.Contains(RatioPlaceholder, StringComparison.Ordinal))
            throw new InputException($"{option} {arg}: with several ratios it must contain {RatioPlaceholder} (e.g. models/x.pruned{RatioPlaceholder}.unet.yaml) or be an existing folder.");
        return Path.GetFullPath(arg.Replace(RatioPlaceholder, pct, StringComparison.Ordinal));
    }

    /// <summary>The pruned spec as SpecFiles will load it once written: 'base:' (YAML or a diffusers config.json) resolved next to the output.</summary>
    internal static UNetLayout ResolveLayout(string output, string yaml) => LayoutBuilder.BuildOrThrow(SpecFiles.Parse(output, yaml), output);

    internal static void RequireFolder(string path)
    {
        var dir = Path.GetDirectoryName(path);
        if (dir != null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
    }

    // A config.json base (e.g. a pipeline folder's unet/config.json) is resolved at run time; builds compile YAML bases only.
    private static bool SpecFile(string path) => path.EndsWith(".unet.yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)
                                                 || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    internal static string Stem(string specPath)
    {
        var name = Path.GetFileName(specPath);
        foreach (var ext in new[] { ".unet.yaml", ".yaml", ".yml" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return name[..^ext.Length];
        return name;
    }

    /// <summary>ratio * 100 truncated, in decimal (as PrunedSpecBuilder names classes: 0.29 gives 29).</summary>
    internal static string Percent(double ratio) =>
        ((int)decimal.Truncate(decimal.Parse(ratio.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture) * 100))
        .ToString(CultureInfo.InvariantCulture);

    internal static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(ch => char.IsLetterOrDigit(ch) || ch == '_');

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
