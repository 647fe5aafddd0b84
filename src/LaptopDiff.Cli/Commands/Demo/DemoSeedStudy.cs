using System.Text.Json.Nodes;
using MathNet.Numerics.Distributions;

namespace LaptopDiff.Cli.Commands.Demo;

/// <summary>
/// The paper's second claim over training seeds: the same LAPTOP student distilled with normalized and with vanilla
/// feature KD once per seed (the first seed is the main table's run), every student evaluated on the same prompts and
/// noise. Per metric: the mean of the paired differences (normalized - vanilla, seed by seed) and its 95% Student-t
/// interval over seeds; the claim is resolved for a metric when that interval excludes zero.
/// </summary>
public static class DemoSeedStudy
{
    public static DemoMethod Normalized => DemoMethod.All.Single(m => m.Id == "laptop-normalized");
    public static DemoMethod Vanilla => DemoMethod.All.Single(m => m.Id == "laptop-vanilla");

    /// <summary>The metrics compared and whether a higher value is better.</summary>
    private static readonly (string Key, bool HigherIsBetter)[] Metrics =
        [("class_alignment", true), ("heldout_alignment", true), ("frechet_distance", false), ("teacher_mse", false)];

    /// <summary>Every seed of the study, the main run's first.</summary>
    public static IReadOnlyList<long> Seeds(DemoSettings s) => [.. Enumerable.Range(0, s.StudySeeds).Select(i => s.Seed + i)];

    /// <summary>The seeds the study adds to the main run (none when it has one seed).</summary>
    public static IEnumerable<long> ExtraSeeds(DemoSettings s) => Seeds(s).Skip(1);

    /// <summary>The student and evaluation id of <paramref name="m"/> at <paramref name="seed"/>: the main run's id at its own seed.</summary>
    public static string Id(DemoSettings s, DemoMethod m, long seed) => seed == s.Seed ? m.Id : $"{m.Id}-seed{seed}";

    /// <summary>The study as JSON from each seed's evaluation (<paramref name="eval"/>: id to the demo's eval object); null with one seed.</summary>
    public static JsonObject? Summarize(DemoSettings s, Func<string, JsonObject> eval)
    {
        var seeds = Seeds(s);
        if (seeds.Count < 2) return null;
        var metrics = new JsonObject();
        foreach (var (key, higherIsBetter) in Metrics)
        {
            double[] Values(DemoMethod m) => [.. seeds.Select(seed => (double)eval(Id(s, m, seed))[key]!["value"]!)];
            double[] normalized = Values(Normalized), vanilla = Values(Vanilla);
            var (mean, low, high) = PairedDifference(normalized, vanilla);
            string verdict = low > 0 || high < 0
                ? (mean > 0) == higherIsBetter ? "normalized better" : "vanilla better"
                : "not resolved";
            metrics[key] = new JsonObject
            {
                ["normalized"] = new JsonArray([.. normalized.Select(v => (JsonNode?)v)]),
                ["vanilla"] = new JsonArray([.. vanilla.Select(v => (JsonNode?)v)]),
                ["higher_is_better"] = higherIsBetter,
                ["difference"] = new JsonObject { ["value"] = mean, ["low"] = low, ["high"] = high },
                ["verdict"] = verdict,
            };
        }
        return new JsonObject
        {
            ["seeds"] = new JsonArray([.. seeds.Select(seed => (JsonNode?)seed)]),
            ["normalized"] = Normalized.Id,
            ["vanilla"] = Vanilla.Id,
            ["interval"] = "95% Student-t over seeds of the paired difference normalized - vanilla",
            ["metrics"] = metrics,
        };
    }

    /// <summary>Mean of a[i] - b[i] and its two-sided 95% Student-t interval (n - 1 degrees of freedom).</summary>
    public static (double Mean, double Low, double High) PairedDifference(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count || a.Count < 2) throw new ArgumentException("the paired difference needs two equally long lists of at least 2 values");
        var d = a.Zip(b, (x, y) => x - y).ToList();
        double mean = d.Average();
        double sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (d.Count - 1));
        double halfWidth = StudentT.InvCDF(0, 1, d.Count - 1, 0.975) * sd / Math.Sqrt(d.Count);
        return (mean, mean - halfWidth, mean + halfWidth);
    }
}
