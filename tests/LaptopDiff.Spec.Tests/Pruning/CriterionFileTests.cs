namespace LaptopDiff.Spec.Tests.Pruning;

/// <summary>Criterion files: JSON read through YAML with positions, written back bit-exactly, checked against a layout.</summary>
public class CriterionFileTests
{
    private static readonly UNetLayout Sd15 = Synthetic.Layout("sd15.unet.yaml");

    private static CriterionFile Read(string text)
    {
        var (file, diagnostics) = CriterionReader.Parse("c.json", text);
        Assert.Empty(diagnostics);
        return file!;
    }

    private static SpecDiagnostic ReadError(string text)
    {
        var (file, diagnostics) = CriterionReader.Parse("c.json", text);
        Assert.Null(file);
        var d = Assert.Single(diagnostics);
        Assert.Equal(SpecDiagnosticIds.InvalidCriterion, d.Id);
        Assert.Equal("c.json", d.Path);
        return d;
    }

    /// <summary>Positions do not survive a round trip through text; everything else must.</summary>
    private static CriterionFile WithoutSources(CriterionFile f) => f with
    {
        Path = "",
        UnitsSource = default,
        Spec = f.Spec with { Source = default },
        Units = f.Units.Select(u => u with { Source = default }).ToEquatableArray(),
    };

    [Fact]
    public void WriterAndReaderRoundTripBitExactly()
    {
        double[] awkward = { 1.5e-05, 0.1, 1.0 / 3, 5e-324, 2.2250738585072014E-308, 123456789.123456789, 0, 1e300 };
        var original = Synthetic.Criterion(Sd15, 1, (i, loss) => i < awkward.Length ? awkward[i] : loss) with
        {
            Created = "2026-11-25T10:00:00Z \"quoted\" \\ é ✓ 𝄞 tab\there",
        };
        var text = CriterionWriter.Write(original);
        Assert.StartsWith("{\n  \"format\": \"laptopdiff.criterion/1\",\n  \"criterion\": \"output_loss\",\n", text);
        Assert.Contains("\n    { \"id\": \"down_blocks.0.resnets.0\", \"params\": 2255040, \"loss\": 1.5E-05, \"stderr\": ", text);
        Assert.Contains(", \"samples\": 64 },\n    { \"id\": \"down_blocks.0.attentions.0\", \"params\": ", text);

        var read = Read(text);
        Assert.Equal(WithoutSources(original), WithoutSources(read));
        Assert.Equal(awkward, read.Units.Take(awkward.Length).Select(u => u.Loss));
        Assert.Equal(text, CriterionWriter.Write(read));
        Assert.Equal((8, 5), (read.Units[0].Source.Line, read.Units[0].Source.Column));
        Assert.Equal(34, read.Units.Count);
    }

    [Fact]
    public void ReadsJsonAsOtherToolsWriteIt()
    {
        // compact, tab-indented, exponents in several spellings, escapes, null for optional values
        var file = Read("{\"format\":\"laptopdiff.criterion/1\",\"criterion\":\"magnitude\",\n" +
                        "\t\"spec\":{\"name\":\"Sd15UNet\",\"hash\":\"" + SpecHash.Compute(Sd15.Spec) + "\"},\n" +
                        "\t\"calibration\":{\"path\":\"C:\\\\data\\/calib \\u00e9.npz\",\"samples\":8,\"seed\":-3,\"timesteps\":[999,0]},\n" +
                        "\t\"created\":null,\n" +
                        "\t\"units\":[{\"id\":\"a\",\"params\":10,\"loss\":1.5e-05,\"stderr\":null},\n" +
                        "\t\t{\"id\":\"b\",\"params\":20,\"loss\":2E+3,\"samples\":4},{\"id\":\"c\",\"params\":0,\"loss\":-0.0}]}");
        Assert.Equal("magnitude", file.Criterion);
        Assert.Equal("C:\\data/calib é.npz", file.Calibration!.Path);
        Assert.Equal(-3L, file.Calibration.Seed);
        Assert.Equal(new[] { 999, 0 }, file.Calibration.Timesteps);
        Assert.Null(file.Created);
        Assert.Equal(new[] { 1.5e-05, 2000, 0 }, file.Units.Select(u => u.Loss));
        Assert.Equal(new long[] { 10, 20, 0 }, file.Units.Select(u => u.Params));
        Assert.Null(file.Units[0].StdErr);
        Assert.Equal(4, file.Units[1].Samples);
        Assert.Equal((6, 3), (file.Units[1].Source.Line, file.Units[1].Source.Column));   // a tab is one column
    }

    private static string Valid(string units) =>
        "{\n  \"format\": \"laptopdiff.criterion/1\",\n  \"criterion\": \"output_loss\",\n" +
        "  \"spec\": { \"name\": \"Sd15UNet\", \"hash\": \"" + SpecHash.Compute(Sd15.Spec) + "\" },\n" +
        "  \"units\": [\n" + units + "\n  ]\n}\n";

    [Theory]
    [InlineData("    { \"id\": \"a\", \"params\": 10, \"loss\": \"0.1\" }", 6, 40, "'loss' in units[0] must be a number, got the string \"0.1\"")]
    [InlineData("    { \"id\": \"a\", \"params\": 2.5, \"loss\": 0.1 }", 6, 28, "'params' in units[0] must be an integer (a JSON number without fraction or exponent), got '2.5'")]
    [InlineData("    { \"id\": \"a\", \"params\": -1, \"loss\": 0.1 }", 6, 28, "'params' in units[0] must be at least 0, got -1")]
    [InlineData("    { \"id\": \"a\", \"params\": 1, \"loss\": 0.1 },\n    { \"id\": \"b\", \"params\": 1 }", 7, 5, "units[1] needs 'loss'")]
    [InlineData("    { \"id\": \"a\", \"params\": 9223372036854775808, \"loss\": 0.1 }", 6, 28, "'params' in units[0] must be at most 9223372036854775807, got 9223372036854775808")]
    [InlineData("    { \"id\": \"a\", \"params\": 1, \"los\": 0.1, \"loss\": 0.1 }", 6, 31, "unknown key 'los' in units[0]; did you mean 'loss'? expected one of: id, params, loss, stderr, samples")]
    [InlineData("    { \"id\": \"a\", \"params\": 1, \"loss\": 0x10 }", 6, 39, "'loss' in units[0] must be a number, got '0x10'")]
    [InlineData("    [\"a\", 1, 0.1]", 6, 5, "units[0] must be an object such as { \"id\": \"down_blocks.0.resnets.0\", \"params\": 2255040, \"loss\": 0.0123 }")]
    public void BadUnitsArePositioned(string units, int line, int column, string message)
    {
        var d = ReadError(Valid(units));
        Assert.Equal((line, column), (d.Span.Line, d.Span.Column));
        Assert.Equal(message, d.Message);
    }

    [Fact]
    public void BadHeadersAreNamed()
    {
        var ok = Valid("    { \"id\": \"a\", \"params\": 1, \"loss\": 0.1 }");
        Assert.Contains("format 'laptopdiff.criterion/2' is not supported by this version",
            ReadError(ok.Replace("criterion/1", "criterion/2")).Message);
        Assert.Equal(2, ReadError(ok.Replace("criterion/1", "criterion/2")).Span.Line);
        Assert.Contains("must be 'sha256:' followed by 64 lowercase hex digits", ReadError(ok.Replace("sha256:", "md5:")).Message);
        var missing = CriterionReader.Parse("c.json", ok.Replace("\"spec\"", "\"spek\"")).Diagnostics;
        Assert.Equal(new[] { "the criterion file needs 'spec'", "unknown key 'spek' in the criterion file; did you mean 'spec'? expected one of: format, criterion, spec, calibration, created, units" },
            missing.Select(x => x.Message));
        var unclosed = ReadError(ok.Replace("\"loss\": 0.1 }", "\"loss\": 0.1"));
        Assert.StartsWith("malformed JSON", unclosed.Message);
        Assert.True(unclosed.Span.Line >= 6, unclosed.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{")]
    [InlineData("{\"format\": \"laptopdiff.criterion/1\"}")]
    [InlineData("{\"units\": 3, \"spec\": [], \"criterion\": \"Output Loss\", \"format\": 1}")]
    [InlineData("&a a: &a b")]
    [InlineData("{\"a\": 1, \"a\": 2}")]
    [InlineData("{\"units\": [{\"id\": \"x\", \"params\": 99999999999999999999, \"loss\": 1e999}]}")]
    public void GarbageNeverThrows(string? text)
    {
        var (file, diagnostics) = CriterionReader.Parse("g.json", text);
        Assert.Null(file);
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.Equal(SpecDiagnosticIds.InvalidCriterion, d.Id));
    }

    [Fact]
    public void DeepNestingIsRefusedWithoutOverflowingTheStack()
    {
        var d = ReadError("{\"units\": " + new string('[', 200_000));
        Assert.Contains("nested more than 32 levels", d.Message);
    }

    [Fact]
    public void MatchingCriterionHasNoDiagnostics()
    {
        var criterion = Synthetic.Criterion(Sd15, 1);
        Assert.Empty(criterion.CheckAgainst(Sd15));
        // a renamed, re-described spec has the same structure
        var renamed = Sd15 with { Spec = Sd15.Spec with { Name = "Other", Description = "x" } };
        Assert.Empty(criterion.CheckAgainst(renamed));
    }

    [Fact]
    public void MismatchesNameTheUnitAndBothCounts()
    {
        var good = Synthetic.Criterion(Sd15, 1);
        var units = good.Units.ToList();
        units[2] = units[2] with { Params = units[2].Params + 1 };
        units[3] = units[3] with { Id = "down_blocks.1.resnets.0" };      // 320 -> 640 channels: not prunable
        units[4] = units[4] with { Id = "down_blocks.9.resnets.0" };
        units[5] = units[1] with { Loss = 0.5 };
        var text = CriterionWriter.Write(good with { Units = units.ToEquatableArray() });
        var (file, readDiagnostics) = CriterionReader.Parse("sd15.criterion.json", text);
        Assert.Empty(readDiagnostics);
        var diagnostics = file!.CheckAgainst(Sd15);

        Assert.Equal(new[]
        {
            $"sd15.criterion.json(10,5): error LD0015: unit '{units[2].Id}' has params {units[2].Params} in the criterion file, but exactly {units[2].Params - 1} in Sd15UNet",
            "sd15.criterion.json(11,5): error LD0015: unit 'down_blocks.1.resnets.0' is not prunable in Sd15UNet (changes channels 320 -> 640); the criterion must list only prunable units",
            "sd15.criterion.json(12,5): error LD0015: 'down_blocks.9.resnets.0' is not a unit of Sd15UNet; units are ids such as down_blocks.0.resnets.0, down_blocks.0.attentions.0, down_blocks.0.resnets.1",
            $"sd15.criterion.json(13,5): error LD0014: unit '{units[1].Id}' is listed twice (first at line 9); each unit needs exactly one loss",
            $"sd15.criterion.json(7,12): error LD0015: the criterion has no entry for 3 prunable units of Sd15UNet: {good.Units[3].Id}, {good.Units[4].Id}, {good.Units[5].Id}; every prunable unit needs its loss (rerun or complete the sweep)",
        }, diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void OtherStructureIsAHashMismatch()
    {
        var tiny = Synthetic.Layout("tiny-sd15.unet.yaml");
        var text = CriterionWriter.Write(Synthetic.Criterion(tiny, 1));
        var diagnostics = CriterionReader.Parse("tiny.json", text).File!.CheckAgainst(Sd15);
        var d = diagnostics[0];
        Assert.Equal(SpecDiagnosticIds.CriterionMismatch, d.Id);
        Assert.Equal((4, 45), (d.Span.Line, d.Span.Column));
        Assert.Contains($"measured on spec 'TinySd15UNet' with structure hash {SpecHash.Compute(tiny.Spec)}, but Sd15UNet hashes to {SpecHash.Compute(Sd15.Spec)}", d.Message);
        Assert.True(diagnostics.Count > 1);   // its units are not Sd15's either
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(-0.5, "-0.5")]
    public void InvalidLossesNameTheUnit(double loss, string written)
    {
        var criterion = Synthetic.Criterion(Sd15, 1, (i, l) => i == 6 ? loss : l);
        var text = CriterionWriter.Write(criterion);
        Assert.Contains($"\"loss\": {written},", text);
        var d = Assert.Single(CriterionReader.Parse("c.json", text).File!.CheckAgainst(Sd15));
        Assert.Equal(SpecDiagnosticIds.InvalidCriterion, d.Id);
        Assert.Equal(14, d.Span.Line);
        Assert.Equal($"unit '{criterion.Units[6].Id}' has loss {written}; a loss must be a finite number >= 0 (rerun the sweep for this unit; an invalid loss is never read as zero)", d.Message);
    }

    [Fact]
    public void SpecHashIsStructural()
    {
        var hash = SpecHash.Compute(Sd15.Spec);
        Assert.True(SpecHash.IsWellFormed(hash), hash);
        Assert.Equal(hash, SpecHash.Compute(Sd15.Spec with { Name = "X", Description = "y", Provenance = new ProvenanceSpec { Ratio = 0.5 } }));
        Assert.NotEqual(hash, SpecHash.Compute(Sd15.Spec with { Pinned = new[] { "mid_block.resnets.0" }.ToEquatableArray() }));
        Assert.NotEqual(hash, SpecHash.Compute(Sd15.Spec with { Granularity = PruneGranularity.TransformerBlock }));
        Assert.NotEqual(hash, SpecHash.Compute(Sd15.Spec with { Norm = Sd15.Spec.Norm with { Eps = 1e-6 } }));

        // a pruned overlay, resolved, hashes as its base: the criterion of the base applies
        var overlay = SpecParser.Parse("p.unet.yaml", "base: sd15.unet.yaml\nname: P\nremoved: [mid_block.resnets.1]\n");
        var resolved = SpecResolver.Resolve(overlay, _ => SpecParser.Parse("sd15.unet.yaml", File.ReadAllText(Path.Combine(RepoPaths.Models, "sd15.unet.yaml"))));
        Assert.Equal(hash, SpecHash.Compute(resolved.GetSpecOrThrow()));

        Assert.Equal("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SpecHash.OfText(""));
        Assert.Equal(SpecHash.OfText("a\nb\n"), SpecHash.OfText("a\r\nb\r\n"));
    }
}
