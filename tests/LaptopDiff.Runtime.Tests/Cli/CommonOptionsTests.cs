using System.CommandLine;
using System.Text.Json;
using LaptopDiff.Cli;
using LaptopDiff.Cli.Help;
using LaptopDiff.Cli.Options;
using TorchSharp;

namespace LaptopDiff.Runtime.Tests.Cli;

/// <summary>
/// Walks the whole command tree of <see cref="CliApp.Create"/> (so commands added later are covered without
/// listing them): every shared option is the one <see cref="CommonOptions"/> defines and behaves the same.
/// </summary>
public sealed class CommonOptionsTests
{
    private static readonly Command Root = CliApp.Create(new CliContext(TextWriter.Null, TextWriter.Null));

    /// <summary>Every command that runs something, by its path (e.g. "bench unet").</summary>
    private static readonly IReadOnlyList<(string Path, Command Command)> Runnable =
        CliReference.Walk(Root).Where(c => c.Command.Action != null).ToList();

    public static TheoryData<string> Commands() => [.. Runnable.Select(c => c.Path)];

    public static TheoryData<string> CommandsWithThreads() =>
        [.. Runnable.Where(c => c.Command.Options.Any(o => o.Name == ThreadsOption.OptionName)).Select(c => c.Path)];

    [Fact]
    public void TheWalkFindsNestedAndHiddenCommands()
    {
        var paths = Runnable.Select(c => c.Path).ToList();
        Assert.Contains("inspect", paths);
        Assert.Contains("bench unet", paths);
        Assert.Contains("docs", paths);
        Assert.True(CommandsWithThreads().Count >= 12, string.Join(", ", CommandsWithThreads()));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void SharedOptionNamesAreTheSharedDefinitions(string path)
    {
        var command = Find(path);
        foreach (var option in command.Options)
        {
            switch (option.Name)
            {
                case ThreadsOption.OptionName:
                    Assert.IsType<ThreadsOption>(option);
                    break;
                case JsonOption.OptionName:
                    Assert.StartsWith(JsonOption.Summary, Assert.IsType<JsonOption>(option).Description);
                    break;
                case CommonOptions.OutputName:
                    Assert.Equal([CommonOptions.OutputAlias], option.Aliases);
                    Assert.Contains(option.ValueType, new[] { typeof(FileInfo), typeof(DirectoryInfo), typeof(string) });
                    break;
                case CommonOptions.SpecName:
                    Assert.Equal(typeof(FileInfo), option.ValueType);
                    break;
                case CommonOptions.SeedName:
                    Assert.Equal(0L, Assert.IsType<Option<long>>(option).DefaultValueFactory!(null!));
                    Assert.StartsWith("Seed of ", option.Description);
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(CommandsWithThreads))]
    public void ThreadsBelowOneIsTheSameInputErrorEverywhere(string path)
    {
        // every required option gets a placeholder, so the command line parses and the runner checks --threads first
        var command = path.Split(' ').Aggregate((Command)Root, (c, name) => c.Subcommands.Single(s => s.Name == name));
        var required = command.Options.Where(o => o.Required).SelectMany(o => new[] { o.Name, Placeholder(o.ValueType) });
        var (code, _, error) = CliRunner.Run([.. path.Split(' '), .. required, "--threads", "0"]);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("--threads must be at least 1, got 0", error);
        // a valid count parses (without running: some commands need nothing else and would start working)
        Assert.DoesNotContain(Root.Parse([.. path.Split(' '), "--threads", "1"]).Errors, e => e.Message.Contains(ThreadsOption.OptionName));
    }

    private static string Placeholder(Type valueType) =>
        valueType == typeof(int) || valueType == typeof(long) || valueType == typeof(double) ? "1" : "unused";

    [Fact]
    public void TheRunnerHandsThreadsToLibtorchBeforeTheCommandRuns()
    {
        int before = torch.get_num_threads(), wanted = before == 1 ? 2 : 1, seen = 0;
        var threads = CommonOptions.Threads();
        var command = new Command("probe") { threads };
        command.SetAction(parse => CommandRunner.Run(new CliContext(TextWriter.Null, TextWriter.Null), parse, () =>
        {
            seen = torch.get_num_threads();
            return ExitCodes.Ok;
        }));
        try
        {
            Assert.Equal(ExitCodes.Ok, command.Parse(["--threads", wanted.ToString()]).Invoke());
            Assert.Equal(wanted, seen);
        }
        finally { torch.set_num_threads(before); }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void EveryVisibleCommandHasADescriptionAndDetails(string path)
    {
        var command = Find(path);
        Assert.False(string.IsNullOrWhiteSpace(command.Description), path);
        if (!command.Hidden) Assert.False(string.IsNullOrWhiteSpace(Assert.IsAssignableFrom<VerbCommand>(command).Details), path);
    }

    [Fact]
    public void JsonIsOneParseableObjectOnStdout()
    {
        using var temp = new TempFolder();
        var spec = Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml");
        foreach (var args in new[]
        {
            new[] { "inspect", "--spec", spec, "--json" },
            ["prune", "--preset", "bk-sdm-base", "--spec", spec, "--output", temp.File("tiny.bk.unet.yaml"), "--json"],
        })
        {
            var (code, stdout, error) = CliRunner.Run(args);
            Assert.True(code == 0, error);
            using var json = JsonDocument.Parse(stdout);
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        }
    }

    private static Command Find(string path) => Runnable.Single(c => c.Path == path).Command;
}
