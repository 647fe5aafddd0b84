using System.Globalization;
using LaptopDiff.Spec;
using Xunit.Abstractions;

namespace LaptopDiff.Packaging.Tests;

/// <summary>
/// A new console project in a clean temp folder consumes the packed LaptopDiff package as docs/package.md says:
/// a spec becomes a class, a &lt;LaptopDiffPrune&gt; item a pruned class, the build treats warnings as errors
/// (generated doc comments included), and the program loads weights and runs both forwards.
/// </summary>
public sealed class ConsumerProjectTests(LibraryFeed feed, ITestOutputHelper output) : IClassFixture<LibraryFeed>
{
    [Fact]
    public void NewConsoleProjectUsesGeneratedAndPrunedClasses()
    {
        using var work = new TempFolder("laptopdiff-consumer-");
        var environment = NuGetEnvironment.Isolated(work);
        environment["FEED"] = feed.Path;
        environment["LAPTOPDIFF"] = RepoPaths.Root;
        var shell = new Shell(work.Sub("app"), environment);

        shell.Check("set -euo pipefail\n" + ConsumerRecipe.Setup);
        var project = Path.Combine(shell.WorkingDirectory, ConsumerRecipe.ProjectName);
        var csproj = Path.Combine(project, ConsumerRecipe.ProjectName + ".csproj");
        var text = File.ReadAllText(csproj);
        Assert.Contains($"<PackageReference Include=\"LaptopDiff\" Version=\"{RepoPaths.Version}\" />", text);
        File.WriteAllText(csproj, text.Replace("</Project>", ConsumerRecipe.ProjectLines + "\n</Project>"));
        File.WriteAllText(Path.Combine(project, "Program.cs"), ConsumerRecipe.Program);

        shell.WorkingDirectory = project;
        var commands = ConsumerRecipe.BuildAndRun.Split('\n');
        var build = shell.Check(commands[0]);
        var run = shell.Check(commands[1]);
        output.WriteLine($"{feed.Pack}\n{build}\n{run}");
        output.WriteLine($"package {new FileInfo(feed.Package).Length} bytes; consumer build {build.Elapsed.TotalSeconds:F1} s");

        Assert.Contains("0 Warning(s)", build.Output);
        // the restore took LaptopDiff from the feed into this test's own packages folder
        Assert.True(Directory.Exists(Path.Combine(environment["NUGET_PACKAGES"], "laptopdiff", RepoPaths.Version)), build.ToString());

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains(": "))
            .ToDictionary(l => l[..l.IndexOf(": ", StringComparison.Ordinal)], l => l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..].Trim());

        // the generated constants equal what the spec library computes from the same YAML and criterion
        var specPath = Path.Combine(RepoPaths.Models, "tiny-sd15.unet.yaml");
        var layout = LayoutBuilder.BuildOrThrow(SpecParser.Parse(specPath, File.ReadAllText(specPath)).GetSpecOrThrow(), specPath);
        var criterionPath = Path.Combine(RepoPaths.Models, "tiny-sd15.criterion.json");
        var criterion = CriterionReader.Parse(criterionPath, File.ReadAllText(criterionPath)).File!;
        var solution = KnapsackSolver.Solve(layout, criterion, 0.5);
        long studentParams = layout.TotalParamCount - solution.RemovedParams;
        var units = layout.Components.Count(c => c.IsUnit);

        Assert.Equal(layout.TotalParamCount.ToString(CultureInfo.InvariantCulture), lines["teacher params"]);
        Assert.Equal(studentParams.ToString(CultureInfo.InvariantCulture), lines["student params"]);
        Assert.True(solution.RemovedParams >= 0.5 * layout.TotalParamCount);
        Assert.Equal($"{units - solution.Removed.Count} of {units}", lines["student units"]);

        // every student tensor came from the teacher's file; the removed units' tensors were left over
        var weights = lines["weights"];
        Assert.Matches(@"^\d+ loaded, 0 missing, [1-9]\d* unused$", weights);

        var spec = layout.Spec;
        Assert.Equal($"[2, {spec.OutChannels}, {spec.SampleSize}, {spec.SampleSize}]", lines["output"]);
        // the pruned class is the teacher with those units skipped: same weights, same output
        var maxDiff = double.Parse(lines["max |student - masked teacher|"], CultureInfo.InvariantCulture);
        Assert.True(maxDiff <= 1e-5, run.ToString());
    }
}
