using System.Text.Json.Nodes;
using System.Text.Json;

namespace LaptopDiff.Runtime.Pruning.Additivity;

/// <summary>
/// additivity.json: <c>format</c>, spec, inputs, per criterion its Pearson/Spearman (null when undefined)
/// and single-unit scores, and per subset its ratio, units, real loss and predictions.
/// </summary>
public static class AdditivityJson
{
    public const string Format = "laptopdiff.additivity/1";

    public static JsonObject ToJson(AdditivityReport r) => new()
    {
        ["format"] = Format,
        ["spec"] = new JsonObject { ["name"] = r.SpecName, ["hash"] = r.SpecHash },
        ["weights"] = r.WeightsPath,
        ["criterion_file"] = r.CriterionPath,
        ["inputs"] = new JsonObject { ["source"] = r.InputsSource, ["samples"] = r.Samples },
        ["seed"] = r.Seed,
        ["total_params"] = r.TotalParams,
        ["elapsed_s"] = Math.Round(r.Elapsed.TotalSeconds, 3),
        ["correlations"] = Correlations(r),
        ["criteria"] = new JsonObject(r.Criteria.Select(c => KeyValuePair.Create(c, (JsonNode?)new JsonObject(
            r.Scores[c].Select(kv => KeyValuePair.Create(kv.Key, Number(kv.Value))))))),
        ["subsets"] = new JsonArray(r.Subsets.Select(s => (JsonNode?)new JsonObject
        {
            ["target_ratio"] = s.Subset.TargetRatio,
            ["ratio"] = s.Subset.Ratio,
            ["removed_params"] = s.Subset.RemovedParams,
            ["units"] = new JsonArray(s.Subset.Units.Select(u => (JsonNode?)JsonValue.Create(u)).ToArray()),
            ["real_loss"] = Number(s.RealLoss),
            ["predictions"] = new JsonObject(s.Predictions.Select(kv => KeyValuePair.Create(kv.Key, Number(kv.Value)))),
        }).ToArray()),
    };

    /// <summary>Per criterion <c>{ "pearson": r, "spearman": rho }</c> (what <c>--json</c> prints).</summary>
    public static JsonObject Correlations(AdditivityReport r) => new(r.Correlations.Select(c => KeyValuePair.Create(c.Criterion,
        (JsonNode?)new JsonObject { ["pearson"] = Number(c.Pearson), ["spearman"] = Number(c.Spearman), ["description"] = c.Description })));

    public static string Write(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    /// <summary>JSON has no NaN: an undefined value is null.</summary>
    private static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}
