using System.Text.Json;
using LaptopDiff.Spec;
using Xunit.Abstractions;

namespace LaptopDiff.Packaging.Tests;

/// <summary>
/// The laptop-diff tool installed from a local feed with docs/package.md's install line: version, help on every
/// command, the documented exit codes, inspect's JSON, and a command that runs libtorch from the package.
/// </summary>
public sealed class ToolInstallTests(ToolFeed feed, ITestOutputHelper output) : IClassFixture<ToolFeed>
{
    [Fact]
    public void InstalledToolRunsInspectAndReportsItsVersion()
    {
        using var work = new TempFolder("laptopdiff-tool-");
        var environment = NuGetEnvironment.Isolated(work);
        environment["FEED"] = feed.Path;
        environment["TOOLS"] = work.Sub("tools");
        var shell = new Shell(work.Sub("run"), environment);

        // the pointer package and this platform's package
        Assert.Equal([$"laptop-diff.{RepoPaths.Version}.nupkg", $"laptop-diff.{ToolFeed.Rid}.{RepoPaths.Version}.nupkg"],
            feed.Packages.Select(p => Path.GetFileName(p)).ToArray());
        var install = shell.Check(ConsumerRecipe.ToolInstall);
        output.WriteLine($"{feed.Pack}\n{install}");
        foreach (var package in feed.Packages) output.WriteLine($"{Path.GetFileName(package)}: {new FileInfo(package).Length} bytes");
        string tool = "\"$TOOLS/laptop-diff\"";

        Assert.Equal(RepoPaths.Version, shell.Check($"{tool} --version").Output.Trim());

        var specPath = Path.Combine(RepoPaths.Models, "tiny-sd15.unet.yaml");
        var inspect = shell.Check($"{tool} inspect --spec \"{specPath}\" --json");
        var layout = LayoutBuilder.BuildOrThrow(SpecParser.Parse(specPath, File.ReadAllText(specPath)).GetSpecOrThrow(), specPath);
        using (var json = JsonDocument.Parse(inspect.Output))
        {
            Assert.Equal(layout.TotalParamCount, json.RootElement.GetProperty("total_params").GetInt64());
            Assert.Equal(layout.Units.Select(u => u.Id), json.RootElement.GetProperty("units").EnumerateArray().Select(u => u.GetProperty("id").GetString()));
        }

        // help on the root and every command it lists
        var rootHelp = shell.Check($"{tool} --help").Output;
        var commands = rootHelp[rootHelp.IndexOf("Commands:", StringComparison.Ordinal)..]
            .Split('\n').Skip(1).Where(l => l.StartsWith("  ", StringComparison.Ordinal) && l.Trim().Length > 0)
            .Select(l => l.Trim().Split(' ')[0]).ToList();
        Assert.Contains("inspect", commands);
        Assert.Contains("prune", commands);
        foreach (var command in commands)
            Assert.Contains("Usage:", shell.Check($"{tool} {command} --help").Output);

        // exit codes: 1 usage, 2 input error
        Assert.Equal(1, shell.Run($"{tool} inspect").ExitCode);
        var missing = shell.Run($"{tool} inspect --spec no-such.unet.yaml");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no-such.unet.yaml", missing.Output);

        // libtorch from the tool package: a synthetic calibration set is written by TorchSharp
        shell.Check($"{tool} calibration --spec \"{specPath}\" --synthetic 2 --output calib.safetensors");
        Assert.True(new FileInfo(Path.Combine(shell.WorkingDirectory, "calib.safetensors")).Length > 0);
    }
}
