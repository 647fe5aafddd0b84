using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Tests.Pruning.Additivity;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Cli;

public class AdditivityCommandTests
{
    /// <summary>A valid criterion file for tiny-sd15 (losses from masked forwards on a few synthetic inputs).</summary>
    private static string WriteCriterion(TempFolder temp, string? hash = null)
    {
        using var model = TinyAdditivity.LoadModel();
        using var inputs = AdditivityInputs.Synthetic(model.Layout, samples: 2, seed: 9, batchSize: 2, tokens: 8);
        var path = temp.File("criterion.json");
        File.WriteAllText(path, CriterionWriter.Write(TinyAdditivity.Criterion(model.Layout, TinyAdditivity.NaiveOutputLosses(model, inputs), hash)));
        return path;
    }

    /// <summary>The verb's arguments; 6 synthetic samples unless <paramref name="extra"/> names --calibration, 5 subsets unless it names --subsets.</summary>
    private static string[] Args(string criterion, string output, params string[] extra) => new[]
    {
        "additivity", "--spec", TinyAdditivity.SpecPath, "--weights", TinyAdditivity.WeightsPath, "--criterion", criterion,
        "--seed", "3", "--output", output,
    }.Concat(extra.Contains("--calibration") ? Array.Empty<string>() : new[] { "--synthetic", "6" })
     .Concat(extra.Contains("--subsets") ? Array.Empty<string>() : new[] { "--subsets", "5" })
     .Concat(extra).ToArray();

    [Fact]
    public void WritesJsonPlotAndSummaryAndPrintsCorrelations()
    {
        using var temp = new TempFolder();
        var output = temp.File("out");
        var (code, stdout, stderr) = CliRunner.Run(Args(WriteCriterion(temp), output));

        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "additivity.json")))!;
        Assert.Equal(AdditivityJson.Format, (string?)json["format"]);
        Assert.Equal(5, json["subsets"]!.AsArray().Count);
        var png = File.ReadAllBytes(Path.Combine(output, "additivity.png"));
        Assert.True(TinyAdditivity.IsPng(png));
        Assert.Contains("additivity.png", File.ReadAllText(Path.Combine(output, "additivity.md")));
        Assert.Contains("output_loss", stdout);
        Assert.Contains("feature_loss", stdout);
        Assert.Contains("magnitude", stdout);
        Assert.Contains("subset 5/5", stderr);
    }

    [Fact]
    public void CalibrationFileWithJsonFlagPrintsPearsonAndSpearmanPerCriterion()
    {
        using var temp = new TempFolder();
        var calibration = temp.File("calib.safetensors");
        SyntheticCalibration.Write(calibration, Runtime.Specs.SpecFiles.LoadLayout(TinyAdditivity.SpecPath),
            new SyntheticCalibrationOptions { Samples = 4, Seed = 1, Tokens = 8 });
        var (code, stdout, stderr) = CliRunner.Run(Args(WriteCriterion(temp), temp.File("out"), "--calibration", calibration, "--json", "--subsets", "3"));
        Assert.True(code == 0, stderr);
        Assert.Contains("calibration", File.ReadAllText(temp.File("out/additivity.md")));
        var json = JsonNode.Parse(stdout)!.AsObject();
        foreach (var c in new[] { AdditivityCriteria.OutputLoss, AdditivityCriteria.FeatureLoss, AdditivityCriteria.Magnitude })
            Assert.True(json[c]!.AsObject().ContainsKey("pearson") && json[c]!.AsObject().ContainsKey("spearman"), c);
    }

    [Fact]
    public void CriterionOfAnotherSpecIsExit2AndWritesNothing()
    {
        using var temp = new TempFolder();
        var criterion = WriteCriterion(temp, hash: SpecHash.Prefix + new string('0', 64));
        var output = temp.File("out");
        var (code, _, stderr) = CliRunner.Run(Args(criterion, output));
        Assert.Equal(2, code);
        Assert.Contains("hash", stderr);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void CalibrationAndSyntheticTogetherIsAUsageError()
    {
        using var temp = new TempFolder();
        var (code, _, stderr) = CliRunner.Run(Args(temp.File("missing.json"), temp.File("out"), "--calibration", temp.File("c.safetensors"), "--synthetic", "6"));
        Assert.Equal(1, code);
        Assert.Contains("exactly one", stderr);
    }
}
