using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LaptopDiff.Cli.IO;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning.Baselines;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.Prune;

/// <summary>
/// <c>laptop-diff prune --preset NAME --spec SPEC [--output PRUNED.unet.yaml] [--weights W --student-weights S]</c>: a
/// handcrafted baseline (<see cref="PruningPresets"/>) written exactly like the knapsack's pruned spec, with the
/// preset named in its provenance. A spec the preset does not fit is an input error saying why; nothing is written.
/// <c>--random SEED --ratio R</c> (the random baseline) goes the same way: a fixed selection, no criterion.
/// </summary>
internal static class PresetPrune
{
    public static int Execute(CliContext context, string specPath, string preset, string? outputArg, string? weightsPath, string? studentArg,
        string? nameArg, bool json) =>
        Write(context, specPath, preset, method: null, layout => PruningPresets.TryApply(preset, layout, out var reason)
            ?? throw new InputException($"preset {preset} does not apply to {specPath}: {reason}."), outputArg, weightsPath, studentArg, nameArg, json);

    public static int ExecuteRandom(CliContext context, string specPath, double ratio, long seed, string? outputArg, string? weightsPath,
        string? studentArg, string? nameArg, bool json) =>
        Write(context, specPath, BaselineMethods.Random, $"a seeded random selection (seed {seed}) at ratio {ratio.ToString("R", CultureInfo.InvariantCulture)}", layout =>
        {
            var random = RandomSelection.Select(layout, ratio, seed);
            return new PresetSelection(BaselineMethods.Random, random.Removed.ToEquatableArray(), null, random.Layout, random.BaseParams);
        }, outputArg, weightsPath, studentArg, nameArg, json);

    private static int Write(CliContext context, string specPath, string preset, string? method, Func<UNetLayout, PresetSelection> select,
        string? outputArg, string? weightsPath, string? studentArg, string? nameArg, bool json)
    {
        // 1. inputs and the selection, all checked before anything is written
        var baseLayout = PruneCommand.LoadFullSpec(specPath, "");
        var selection = select(baseLayout);
        if ((weightsPath == null) != (studentArg == null))
            throw new InputException("--weights and --student-weights go together: the teacher's weights are read to write the student's.");
        if (nameArg != null && !PruneCommand.IsIdentifier(nameArg))
            throw new InputException($"--name '{nameArg}' must be a C# identifier (letters, digits, '_'; not starting with a digit): it names the generated class.");
        SafetensorsHeader? teacher = weightsPath == null ? null : StudentWeights.CheckTeacher(weightsPath, baseLayout);

        var specFull = Path.GetFullPath(specPath);
        var stem = PruneCommand.Stem(specFull);
        var output = outputArg == null
            ? Path.Combine(Path.GetDirectoryName(specFull)!, $"{stem}.{preset}.unet.yaml")
            : PruneCommand.Resolve(outputArg, preset, multi: false, "--output", $"{stem}.{preset}.unet.yaml");
        if (!output.EndsWith(".unet.yaml", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"--output {output} must end in .unet.yaml (the generator and SpecFiles pick specs up by that extension).");
        if (string.Equals(output, specFull, StringComparison.OrdinalIgnoreCase))
            throw new InputException($"--output {output} is the base spec itself; choose another file.");
        var outputDir = Path.GetDirectoryName(output)!;
        var baseRef = Path.GetRelativePath(outputDir, specFull).Replace('\\', '/');
        var date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var yaml = PrunedSpecBuilder.BuildPreset(baseLayout, baseRef, selection, date, nameArg, method);
        var layout = PruneCommand.ResolveLayout(output, yaml);
        string? student = null;
        IReadOnlyList<SafetensorsEntry>? kept = null;
        if (teacher != null)
        {
            student = PruneCommand.Resolve(studentArg!, preset, multi: false, "--student-weights", $"{stem}.{preset}.safetensors");
            if (string.Equals(student, Path.GetFullPath(weightsPath!), StringComparison.OrdinalIgnoreCase))
                throw new InputException($"--student-weights {student} is the teacher's file; choose another file.");
            kept = StudentWeights.Kept(teacher, layout);
            PruneCommand.RequireFolder(student);
        }
        PruneCommand.RequireFolder(output);

        // 2. write the spec, then the weights; a failure removes the spec this run created
        bool existed = File.Exists(output);
        TextOutputs.Write(output, yaml);
        if (teacher != null)
        {
            try
            {
                StudentWeights.Write(student!, teacher, kept!, new Dictionary<string, string>
                {
                    ["laptopdiff.spec"] = Path.GetFileName(output),
                    ["laptopdiff.teacher"] = Path.GetFileName(weightsPath!),
                    ["laptopdiff.preset"] = preset,
                });
            }
            catch
            {
                if (!existed)
                    try { File.Delete(output); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                throw;
            }
        }

        // 3. report
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new PresetJson(preset, selection.AchievedRatio, selection.Removed.ToArray(),
                selection.MidReduction?.ToString().ToLowerInvariant(), selection.RemovedParams, selection.BaseParams, selection.RemainingParams,
                layout.Spec.Name, output, student), JsonOptions.Indented));
            return ExitCodes.Ok;
        }
        var mid = selection.MidReduction == null ? "" : $", mid block cut down to {(selection.MidReduction == MidKind.Resnet ? "its first ResNet" : "nothing")}";
        context.Out.WriteLine($"{baseLayout.Spec.Name} by {method ?? "preset " + preset}: removed {selection.Removed.Count} of {baseLayout.PrunableUnits.Count()} prunable units{mid}; " +
                              $"{selection.RemovedParams:N0} of {selection.BaseParams:N0} parameters (ratio {selection.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)})");
        context.Out.WriteLine($"wrote {output}: {layout.Spec.Name}, {layout.TotalParamCount:N0} parameters");
        if (student != null) context.Out.WriteLine($"wrote {student}: {kept!.Count} of {teacher!.Entries.Count} teacher tensors");
        return ExitCodes.Ok;
    }

    private sealed record PresetJson(
        [property: JsonPropertyName("preset")] string Preset,
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("removed")] string[] Removed,
        [property: JsonPropertyName("mid")] string? Mid,
        [property: JsonPropertyName("removed_params")] long RemovedParams,
        [property: JsonPropertyName("total_params")] long TotalParams,
        [property: JsonPropertyName("remaining_params")] long RemainingParams,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("output")] string Output,
        [property: JsonPropertyName("student_weights")] string? StudentWeights);
}
