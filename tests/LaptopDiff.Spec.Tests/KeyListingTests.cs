using LaptopDiff.Tests.Shared;

namespace LaptopDiff.Spec.Tests;

/// <summary>The shipped specs expand to exactly diffusers' state-dict keys, shapes and totals.</summary>
public class KeyListingTests
{
    [Theory]
    [InlineData("sd15.unet.yaml", "sd15.keys.tsv", 859_520_964L)]
    [InlineData("sdxl.unet.yaml", "sdxl.keys.tsv", 2_567_463_684L)]
    [InlineData("tiny-sd15.unet.yaml", "tiny-sd15.keys.tsv", 1_106_212L)]
    [InlineData("tiny-sdxl.unet.yaml", "tiny-sdxl.keys.tsv", 0L)]
    public void ShippedSpecMatchesDiffusersKeys(string spec, string tsv, long expectedTotal)
    {
        var path = Path.Combine(RepoPaths.Models, spec);
        var layout = LayoutBuilder.BuildOrThrow(SpecParser.Parse(path, File.ReadAllText(path)).GetSpecOrThrow(), path);
        var (keys, total) = KeyListingFile.Read(Path.Combine(RepoPaths.Fixtures, tsv));

        Assert.Equal(keys, layout.StateDictKeys.Select(k => (k.Name, string.Join(",", k.Shape))).ToList());
        Assert.Equal(total, layout.TotalParamCount);
        if (expectedTotal != 0) Assert.Equal(expectedTotal, layout.TotalParamCount);
    }
}
