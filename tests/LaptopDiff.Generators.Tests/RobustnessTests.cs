using System.Text;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;
using static LaptopDiff.Generators.Tests.GeneratorHarness;

namespace LaptopDiff.Generators.Tests;

/// <summary>The generator never throws: garbage becomes diagnostics, never an exception or a crashed build.</summary>
public class RobustnessTests
{
    /// <summary>Runs one file and checks the generator's contract: no exception, no internal error, errors located in the file.</summary>
    private static Run RunSafely(AdditionalText text)
    {
        var run = Run(text);
        Assert.Null(run.Result.Exception);
        Assert.DoesNotContain(run.Diagnostics, d => d.Id == SpecDiagnosticIds.InternalError);
        Assert.All(run.Diagnostics, d =>
        {
            Assert.StartsWith("LD", d.Id);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.Equal(text.Path, d.Location.GetLineSpan().Path);
        });
        return run;
    }

    private static Diagnostic Fails(string yaml)
    {
        var run = RunSafely(Yaml("bad.unet.yaml", yaml));
        Assert.Empty(run.Result.GeneratedSources);
        return Assert.Single(run.Diagnostics);
    }

    public static TheoryData<string, string> Garbage => new()
    {
        { "empty", "" },
        { "whitespace", "  \n\n\t \n" },
        { "nul bytes", "\0\0\0\u0001\u0002" },
        { "byte order mark only", "\uFEFF" },
        { "scalar", "just a string" },
        { "list", "[1, 2, 3]" },
        { "tab indentation", "name: X\n\tdown: 1\n" },
        { "duplicate key", "name: X\nname: Y\n" },
        { "unknown alias", "name: *nowhere\n" },
        { "binary", Encoding.Latin1.GetString(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray()) },
        { "lone surrogate", "name: \uD800\n" },
        { "stages are scalars", "name: X\nsample_size: 8\ndown: 3\nmid: x\nup: {}" },
        { "negative sizes", "name: X\nsample_size: -1\ndown: [{ type: plain, channels: -5, layers: 0 }]\nmid: { type: none }\nup: []" },
        { "billion laughs", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nname: X\ndown: *d\nup: *d\nremoved: *d\n" },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void GarbageBecomesDiagnostics(string label, string text)
    {
        var run = RunSafely(Yaml("garbage.unet.yaml", text));
        Assert.True(run.Diagnostics.Length > 0, label);
        Assert.Empty(run.Result.GeneratedSources);
    }

    [Fact]
    public void HugeNumbersAreRefusedNotOverflowed()
    {
        var d = Fails("name: X\nsample_size: 8\ndown: [{ type: plain, channels: 32, layers: 2147483647 }]\nmid: { type: none }\nup: [{ type: plain, channels: 32, layers: 2 }]\n");
        Assert.Equal(SpecDiagnosticIds.InvalidValue, d.Id);
        Assert.Equal("'layers' in down[0] must be at most 64, got 2147483647", d.GetMessage());
        Assert.Equal((3, 45), (d.Location.GetLineSpan().StartLinePosition.Line + 1, d.Location.GetLineSpan().StartLinePosition.Character + 1));

        d = Fails("name: X\nsample_size: 99999999999999999999999\ndown: [{ type: plain, channels: 32, layers: 1 }]\nmid: { type: none }\nup: [{ type: plain, channels: 32, layers: 2 }]\n");
        Assert.Equal("'sample_size' in the spec must be at most 1048576, got 99999999999999999999999", d.GetMessage());

        var run = RunSafely(Yaml("bad.unet.yaml", "name: X\nsample_size: 8\ndown: [{ type: plain, channels: 2000000000, layers: 1 }]\nmid: { type: none }\nup: [{ type: plain, channels: 2000000000, layers: 2 }]\n"));
        Assert.Equal(new[] { "'channels' in down[0] must be at most 1048576, got 2000000000", "'channels' in up[0] must be at most 1048576, got 2000000000" },
            run.Diagnostics.Select(x => x.GetMessage()));
    }

    [Fact]
    public void TheLargestAllowedWidthsStillGiveExactCounts()
    {
        // 2^20 channels: conv weights of ~10^13 parameters; the sums must not overflow
        var run = RunSafely(Yaml("wide.unet.yaml",
            "name: Wide\nsample_size: 8\nnorm: { groups: 1 }\ndown: [{ type: plain, channels: 1048576, layers: 1 }]\nmid: { type: none }\nup: [{ type: plain, channels: 1048576, layers: 2 }]\n"));
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.GeneratedCodeProblems());
        const long c = 1048576, t = 4 * c;
        long resnet(long cin, long cout) => 2 * cin + cout * cin * 9 + cout + cout * t + cout + 2 * cout + cout * cout * 9 + cout + (cin != cout ? cout * cin + cout : 0);
        long expected = (c * 4 * 9 + c) + (t * c + t + t * t + t)    // conv_in, time_embedding
            + resnet(c, c)                                            // down
            + resnet(c + c, c) + resnet(c + c, c)                     // up: two layers, each with a skip of c
            + (2 * c + 4 * c * 9 + 4);                                // conv_norm_out, conv_out
        Assert.Contains($"public const long TotalParamCount = {expected}L;", run.Source("Wide.g.cs"));
        Assert.True(expected > 30_000_000_000_000L);
    }

    [Fact]
    public void DeepNestingIsAnErrorNotAStackOverflow()
    {
        var d = Fails("name: " + new string('[', 200_000) + new string(']', 200_000));
        Assert.Equal(SpecDiagnosticIds.InvalidYaml, d.Id);
        Assert.Contains("nested more than 64 levels", d.GetMessage());
    }

    [Fact]
    public void MutatedSpecsNeverBreakTheGenerator()
    {
        var valid = File.ReadAllText(Path.Combine(RepoPaths.Models, "tiny-sdxl.unet.yaml"));
        var random = new Random(20261125);
        const string alphabet = "{}[]:,-#&*!|>'\"\n\t 0123456789abcxyz";
        int compiled = 0;
        for (int i = 0; i < 150; i++)
        {
            var text = new StringBuilder(valid);
            for (int edits = random.Next(1, 4); edits > 0; edits--)
            {
                int at = random.Next(text.Length);
                switch (random.Next(3))
                {
                    case 0: text.Remove(at, Math.Min(random.Next(1, 8), text.Length - at)); break;
                    case 1: text.Insert(at, alphabet[random.Next(alphabet.Length)]); break;
                    default: text[at] = alphabet[random.Next(alphabet.Length)]; break;
                }
            }
            var run = RunSafely(Yaml("mutant.unet.yaml", text.ToString()));
            if (run.Diagnostics.Length == 0)
            {
                Assert.Single(run.Result.GeneratedSources);
                compiled++;
            }
            else Assert.Empty(run.Result.GeneratedSources);
        }
        Assert.InRange(compiled, 1, 149);   // some mutants are still valid specs, most are not
    }

    [Fact]
    public void AnUnreadableFileIsInvalidYaml()
    {
        var run = RunSafely(new InMemoryText("/specs/gone.unet.yaml", null));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal(SpecDiagnosticIds.InvalidYaml, d.Id);
        Assert.Equal("the spec file could not be read", d.GetMessage());
    }

    [Fact]
    public void AnExceptionInAStepIsAnInternalErrorNamingTheFile()
    {
        var run = Run(new ThrowingText("/specs/cursed.unet.yaml"), Shipped("tiny-sd15.unet.yaml"));
        Assert.Null(run.Result.Exception);
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal(SpecDiagnosticIds.InternalError, d.Id);
        Assert.Equal("/specs/cursed.unet.yaml", d.Location.GetLineSpan().Path);
        Assert.Contains("cursed.unet.yaml: IOException: disk on fire", d.GetMessage());
        // the other spec still compiles
        Assert.Equal("TinySd15UNet.g.cs", Assert.Single(run.Result.GeneratedSources).HintName);
    }
}
