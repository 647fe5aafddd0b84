using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Cli;

public class ImportDiffusersCommandTests
{
    [Fact]
    public void WritesASpecThatExpandsToTheSameKeys()
    {
        using var temp = new TempFolder();
        var output = temp.File("ssd.unet.yaml");
        var (code, stdout, error) = CliRunner.Run("import-diffusers", TestPaths.DiffusersFixture("ssd-1b.config.json"), "-o", output);
        Assert.True(code == 0, error);
        Assert.Contains("1,331,334,404 parameters", stdout);

        var spec = SpecParser.Parse(output, File.ReadAllText(output)).GetSpecOrThrow();
        Assert.Equal("Ssd1bUNet", spec.Name);
        Assert.Equal(new[] { 4, 4, 10 }, spec.Up[0].TransformerDepth);
        Assert.Equal(1_331_334_404L, LayoutBuilder.BuildOrThrow(spec, output).TotalParamCount);
    }

    [Fact]
    public void UnsupportedOptionFailsAndWritesNothing()
    {
        using var temp = new TempFolder();
        var config = temp.File("config.json");
        File.WriteAllText(config, File.ReadAllText(TestPaths.DiffusersFixture("tiny-sd15.config.json"))
            .Replace("\"resnet_time_scale_shift\": \"default\"", "\"resnet_time_scale_shift\": \"scale_shift\""));
        var output = temp.File("x.unet.yaml");
        var (code, _, error) = CliRunner.Run("import-diffusers", config, "-o", output);
        Assert.Equal(2, code);
        Assert.Contains("resnet_time_scale_shift", error);
        Assert.Equal(new[] { config }, Directory.GetFiles(temp.Path));
    }
}
