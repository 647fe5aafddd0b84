using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Runtime.Specs;

namespace LaptopDiff.Runtime.Tests.Pruning.Additivity;

public class SubsetSamplerTests
{
    private static readonly LaptopDiff.Spec.UNetLayout Layout =
        SpecFiles.LoadLayout(Path.Combine(TestPaths.RepoRoot, "models", "tiny-sd15.unet.yaml"));

    [Fact]
    public void SubsetsReachTheirTargetRatiosWithExactCounts()
    {
        var units = Layout.PrunableUnits.ToDictionary(u => u.Id);
        long total = Layout.TotalParamCount, prunable = units.Values.Sum(u => u.ParamCount);
        long largest = units.Values.Max(u => u.ParamCount);
        var subsets = SubsetSampler.Sample(Layout, 12, 0.02, 0.3, seed: 7);
        Assert.NotEmpty(subsets);
        foreach (var s in subsets)
        {
            Assert.Equal(s.Units.Sum(id => units[id].ParamCount), s.RemovedParams);
            Assert.Equal((double)s.RemovedParams / total, s.Ratio, 12);
            // reached, unless every prunable unit is already removed; overshoot is less than one unit
            Assert.True(s.RemovedParams >= s.TargetRatio * total || s.RemovedParams == prunable, $"{s.Ratio} < {s.TargetRatio}");
            Assert.True(s.RemovedParams < s.TargetRatio * total + largest);
        }
        Assert.Equal(0.02, subsets[0].TargetRatio, 12);
        Assert.Equal(subsets.Count, subsets.Select(s => string.Join("|", s.Units)).Distinct().Count());   // no duplicates
    }

    [Fact]
    public void SameSeedSameSubsetsOtherSeedOthers()
    {
        string Key(long seed) => string.Join(";", SubsetSampler.Sample(Layout, 10, 0.02, 0.3, seed).Select(s => string.Join("|", s.Units)));
        Assert.Equal(Key(3), Key(3));
        Assert.NotEqual(Key(3), Key(4));
    }

    [Fact]
    public void BadRatiosAreRejected()
    {
        Assert.Equal(nameof(AdditivityOptions.MaxRatio), Assert.Throws<SettingException>(() => SubsetSampler.Sample(Layout, 5, 0.5, 0.2, 0)).Setting);
        Assert.Equal(nameof(AdditivityOptions.MinRatio), Assert.Throws<SettingException>(() => SubsetSampler.Sample(Layout, 5, 0, 0.2, 0)).Setting);
        Assert.Equal(nameof(AdditivityOptions.Subsets), Assert.Throws<SettingException>(() => SubsetSampler.Sample(Layout, 0, 0.1, 0.2, 0)).Setting);
    }
}
