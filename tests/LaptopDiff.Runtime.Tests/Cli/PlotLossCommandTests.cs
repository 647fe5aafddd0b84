using LaptopDiff.Runtime.Training;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary><c>plot-loss</c>: a run's loss curve from its log.jsonl.</summary>
public class PlotLossCommandTests
{
    private static string Log(TempFolder temp)
    {
        var log = new TrainingLog(temp.Path);
        log.Reset(0);
        for (int step = 1; step <= 30; step++)
            log.Append(step, 1e-3, 0.5, step * 0.1, [KeyValuePair.Create("task", 1.0 / step), KeyValuePair.Create("out", 0.5 / step)]);
        return log.Path;
    }

    [Fact]
    public void WritesAPngOfTheNamedTerms()
    {
        using var temp = new TempFolder();
        var png = temp.File("loss.png");
        var (code, stdout, error) = CliRunner.Run("plot-loss", "--log", Log(temp), "--output", png, "--terms", "task,out", "--window", "5");
        Assert.True(code == 0, error);
        Assert.Contains("task, out over 30 logged steps", stdout);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
    }

    [Fact]
    public void ATermTheLogLacksIsAnInputErrorNamingWhatItHas()
    {
        using var temp = new TempFolder();
        var png = temp.File("loss.png");
        var (code, _, error) = CliRunner.Run("plot-loss", "--log", Log(temp), "--output", png, "--terms", "feat");
        Assert.Equal(2, code);
        Assert.Contains("no term 'feat'", error);
        Assert.Contains("task", error);
        Assert.False(File.Exists(png));
    }
}
