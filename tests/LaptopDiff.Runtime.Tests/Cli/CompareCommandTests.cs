using System.Text.Json.Nodes;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Pruning.Additivity;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>compare</c> on tiny-sd15 with its fixture weights and the shipped criterion, on a held-out synthetic set.</summary>
public class CompareCommandTests
{
    private static string Criterion => Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.criterion.json");

    private static string HeldOut(TempFolder temp)
    {
        var path = temp.File("held.safetensors");
        SyntheticCalibration.Write(path, SpecFiles.LoadLayout(TinyAdditivity.SpecPath), new SyntheticCalibrationOptions { Samples = 8, Seed = 11, Tokens = 8 });
        return path;
    }

    private static string[] Args(string calibration, params string[] extra) => new[]
    {
        "compare", "--spec", TinyAdditivity.SpecPath, "--weights", TinyAdditivity.WeightsPath, "--calibration", calibration,
        "--criterion", Criterion, "--ratio", "0.3",
    }.Concat(extra.Contains("--batch") ? Array.Empty<string>() : new[] { "--batch", "8" }).Concat(extra).ToArray();

    [Fact]
    public void JsonHasEveryMethodsRatioAndLossAndSkipsWhatDoesNotFit()
    {
        using var temp = new TempFolder();
        var (code, stdout, stderr) = CliRunner.Run(Args(HeldOut(temp), "--json", "--seed", "5"));
        Assert.True(code == 0, stderr);
        var root = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal(8, (int)root["samples"]!);
        var methods = root["methods"]!.AsObject();
        Assert.Equal(new[] { "laptop", "bk-sdm-base", "bk-sdm-small", "ssd-1b", "random", "magnitude" }, methods.Select(m => m.Key));
        Assert.Equal("skipped", (string?)methods["ssd-1b"]!["status"]);
        Assert.Contains("granularity transformer", (string?)methods["ssd-1b"]!["reason"]);
        foreach (var m in new[] { "laptop", "random", "magnitude" })
            Assert.True((double)methods[m]!["ratio"]! >= 0.3, m);
        Assert.Equal(1 - 792_964 / 1_106_212.0, (double)methods["bk-sdm-base"]!["ratio"]!, 12);   // the preset's own ratio
        foreach (var m in methods.Where(m => (string?)m.Value!["status"] == "ok"))
            Assert.True((double)m.Value!["loss"]! > 0 && (double)m.Value!["loss_stderr"]! > 0, m.Key);
        // the method's point on this fixture: the output-loss knapsack loses far less than random removal at the same ratio
        Assert.True((double)methods["laptop"]!["loss"]! < (double)methods["random"]!["loss"]!);
    }

    [Fact]
    public void TheNoiseScheduleFlagsReachTheNoising()
    {
        // A model trained on another schedule (the digits teacher: linear) must be compared on the noising it was swept on.
        using var temp = new TempFolder();
        var held = HeldOut(temp);
        double Loss(params string[] extra)
        {
            var (code, stdout, stderr) = CliRunner.Run(Args(held, new[] { "--json", "--methods", "laptop" }.Concat(extra).ToArray()));
            Assert.True(code == 0, stderr);
            return (double)JsonNode.Parse(stdout)!["methods"]!["laptop"]!["loss"]!;
        }
        double scaled = Loss(), linear = Loss("--schedule", "linear", "--beta-start", "0.0001", "--beta-end", "0.02");
        Assert.NotEqual(scaled, linear);
        Assert.Equal(scaled, Loss("--schedule", "scaled_linear", "--beta-start", "0.00085", "--beta-end", "0.012"));   // the defaults, spelled out
        var (bad, _, error) = CliRunner.Run(Args(held, "--schedule", "cosine"));
        Assert.Equal(2, bad);
        Assert.Contains("cosine", error);
    }

    [Fact]
    public void AStudentSpecIsMeasuredLikeTheMethodThatMadeIt()
    {
        using var temp = new TempFolder();
        var held = HeldOut(temp);
        var spec = temp.File("laptop.unet.yaml");
        var pruned = CliRunner.Run("prune", "--spec", TinyAdditivity.SpecPath, "--criterion", Criterion, "--ratio", "0.3", "--output", spec);
        Assert.True(pruned.ExitCode == 0, pruned.Error);

        var (code, stdout, stderr) = CliRunner.Run(Args(held, "--json", "--methods", "laptop", "--student", $"mine={spec}"));
        Assert.True(code == 0, stderr);
        var methods = JsonNode.Parse(stdout)!["methods"]!.AsObject();
        Assert.Equal(new[] { "laptop", "mine" }, methods.Select(m => m.Key));
        // the same units removed, so the same loss on the same inputs, bit for bit, and the same criterion sum
        foreach (var key in new[] { "loss", "loss_stderr", "ratio" })
            Assert.Equal((double)methods["laptop"]![key]!, (double)methods["mine"]![key]!);
        Assert.Equal((double)methods["laptop"]!["predicted_loss"]!, (double)methods["mine"]!["predicted_loss"]!, 12);

        var clash = CliRunner.Run(Args(held, "--methods", "laptop", "--student", $"laptop={spec}"));
        Assert.Equal(2, clash.ExitCode);
        Assert.Contains("student 'laptop'", clash.Error);
        var other = CliRunner.Run(Args(held, "--methods", "laptop", "--student", $"sdxl={Path.Combine(TestPaths.RepoRoot, "models", "tiny-sdxl.unet.yaml")}"));
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("another structure", other.Error);
        var malformed = CliRunner.Run(Args(held, "--methods", "laptop", "--student", spec));
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("NAME=SPEC", malformed.Error);
    }

    [Fact]
    public void TablePrintsOneRowPerMethod()
    {
        using var temp = new TempFolder();
        var (code, stdout, stderr) = CliRunner.Run(Args(HeldOut(temp), "--methods", "laptop,random"));
        Assert.True(code == 0, stderr);
        Assert.Contains("one-shot output loss on 8 held-out samples", stdout);
        Assert.Contains("laptop", stdout);
        Assert.Contains("random", stdout);
        Assert.DoesNotContain("magnitude ", stdout);
    }

    [Fact]
    public void ANamedMethodThatDoesNotFitIsAnInputError()
    {
        using var temp = new TempFolder();
        var (code, _, stderr) = CliRunner.Run(Args(HeldOut(temp), "--methods", "laptop,ssd-1b"));
        Assert.Equal(2, code);
        Assert.Contains("method ssd-1b does not apply to TinySd15UNet", stderr);
    }

    [Theory]
    [InlineData("unknown method 'pruned-by-hand'", "--methods", "laptop,pruned-by-hand")]
    [InlineData("--batch must be at least 1", "--batch", "0")]
    public void BadOptionValuesAreInputErrors(string expected, params string[] extra)
    {
        using var temp = new TempFolder();
        var (code, _, stderr) = CliRunner.Run(Args(temp.File("unused.safetensors"), extra));
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public void UnreachableRatioIsExit2()
    {
        using var temp = new TempFolder();
        var args = Args(HeldOut(temp));
        args[Array.IndexOf(args, "0.3")] = "0.95";
        var (code, _, stderr) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Contains("LD0016", stderr);
    }
}
