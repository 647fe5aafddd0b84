using System;
using System.Globalization;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>Turns a knapsack solution into a pruned spec: an overlay on its base file (<see cref="SpecWriter.WritePruned"/>).</summary>
    public static class PrunedSpecBuilder
    {
        /// <summary>
        /// The YAML of the pruned spec. <paramref name="name"/> defaults to <c>&lt;BaseName&gt;Pruned&lt;percent&gt;</c>
        /// (<c>Sd15UNetPruned50</c> at ratio 0.5; the percent is truncated). Provenance records the method
        /// (<c>laptop output-loss knapsack</c>, or the criterion's name for other criteria), the criterion file's hash,
        /// the ratio asked for and <paramref name="date"/>. A header comment gives the predicted loss and sizes.
        /// </summary>
        /// <param name="baseLayout">Layout of the full model the solution was computed on.</param>
        /// <param name="baseFileName">What <c>base:</c> names, e.g. <c>sd15.unet.yaml</c>.</param>
        /// <param name="criterionHash">Hash of the criterion file (<see cref="SpecHash.OfText"/> of its text).</param>
        /// <param name="criterion">The criterion's name (<see cref="CriterionFile.Criterion"/>).</param>
        /// <exception cref="ArgumentException">The solution does not fit the layout, or the name is not a C# identifier.</exception>
        public static string Build(UNetLayout baseLayout, string baseFileName, PruneSolution solution, string criterionHash, double ratio, string date,
            string? name = null, string criterion = CriterionFile.OutputLoss)
        {
            if (!(ratio >= 0 && ratio <= 1))
                throw new ArgumentOutOfRangeException(nameof(ratio), $"the ratio must be between 0 and 1, got {ratio.ToString("R", CultureInfo.InvariantCulture)}");
            if (baseLayout.Removed.Count > 0)
                throw new ArgumentException($"{baseLayout.Spec.Name} is already pruned; build from the full model's layout", nameof(baseLayout));
            var byId = baseLayout.Components.ToDictionary(c => c.Id, StringComparer.Ordinal);
            long removedParams = 0;
            foreach (var id in solution.Removed)
            {
                if (!byId.TryGetValue(id, out var c) || !c.Prunable)
                    throw new ArgumentException($"'{id}' is not a prunable unit of {baseLayout.Spec.Name}; was the solution computed on another spec?", nameof(solution));
                removedParams += c.ParamCount;
            }
            if (removedParams != solution.RemovedParams)
                throw new ArgumentException($"the solution says {solution.RemovedParams} removed parameters, but its units hold {removedParams} in {baseLayout.Spec.Name}", nameof(solution));

            name ??= baseLayout.Spec.Name + "Pruned" + PruneRatios.Percent(ratio).ToString(CultureInfo.InvariantCulture);
            RequireIdentifier(name);

            var provenance = new ProvenanceSpec
            {
                Method = criterion == CriterionFile.OutputLoss ? "laptop output-loss knapsack" : $"laptop {criterion.Replace('_', '-')} knapsack",
                Criterion = criterionHash,
                Ratio = ratio,
                Date = date,
            };
            long total = baseLayout.BaseParamCount;
            string I(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
            var header =
                $"{name}: {baseLayout.Spec.Name} without {solution.Removed.Count} of its {baseLayout.PrunableUnits.Count()} prunable units (exact knapsack, {criterion}).\n" +
                $"Removed {I(solution.RemovedParams)} of {I(total)} parameters (ratio {solution.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)}, " +
                $"asked {ratio.ToString("R", CultureInfo.InvariantCulture)}); {I(total - solution.RemovedParams)} remain.\n" +
                $"Predicted loss (sum of single-unit losses): {CriterionWriter.Number(solution.PredictedLoss)}.";
            return SpecWriter.WritePruned(baseFileName, name, solution.Removed, provenance, header);
        }

        /// <summary>
        /// The YAML of a handcrafted preset's pruned spec (<see cref="PruningPresets"/>): the same overlay, plus
        /// <c>mid:</c> when the preset cuts the mid block down; provenance names the preset and the achieved ratio.
        /// <paramref name="name"/> defaults to <c>&lt;BaseName&gt;&lt;Preset&gt;</c> (<c>Sd15UNetBkSdmBase</c>).
        /// </summary>
        /// <param name="method">How the units were chosen, when not by the preset <see cref="PresetSelection.Preset"/> names (the random baseline).</param>
        public static string BuildPreset(UNetLayout baseLayout, string baseFileName, PresetSelection selection, string date, string? name = null, string? method = null)
        {
            name ??= baseLayout.Spec.Name + string.Concat(selection.Preset.Split('-').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p.Substring(1)));
            RequireIdentifier(name);
            var provenance = new ProvenanceSpec { Method = method ?? "preset " + selection.Preset, Ratio = Math.Round(selection.AchievedRatio, 6), Date = date };
            string I(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
            var mid = selection.MidReduction == null ? "" : $" and its mid block cut down to {(selection.MidReduction == MidKind.Resnet ? "the first ResNet" : "nothing")}";
            var header =
                $"{name}: {baseLayout.Spec.Name} pruned by {method ?? "the handcrafted preset " + selection.Preset}: {selection.Removed.Count} units removed{mid}.\n" +
                $"Removed {I(selection.RemovedParams)} of {I(selection.BaseParams)} parameters (ratio {selection.AchievedRatio.ToString("0.0000", CultureInfo.InvariantCulture)}); " +
                $"{I(selection.RemainingParams)} remain.";
            return SpecWriter.WritePruned(baseFileName, name, selection.Removed, provenance, header, selection.MidReduction);
        }

        private static void RequireIdentifier(string name)
        {
            if (name.Length == 0 || !SpecParser.IsIdentifier(name))
                throw new ArgumentException($"name '{name}' must be a C# identifier; it names the generated class", nameof(name));
        }
    }
}
