using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Tests.Weights;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Onnx;

/// <summary>The exported fixture U-Nets, run by ONNX Runtime, are diffusers' functions: their output against the fixtures' float64 reference.</summary>
public sealed class UNetOnnxFixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(TinyUNets.Sd15)]
    [InlineData(TinyUNets.Sdxl)]
    public void Exported_fixture_runs_in_onnx_runtime_as_diffusers_does(string fixture)
    {
        using var temp = new TempFolder();
        var path = temp.File($"{fixture}.onnx");
        var report = OnnxTestKit.Export(TinyUNets.Layout(fixture), fixture, path);

        Assert.Equal(OnnxOpsets.Default, report.Opset);
        Assert.Equal(17, report.RequiredOpset);                                   // LayerNormalization
        Assert.Null(report.DataPath);
        Assert.Empty(OnnxModelCheck.Check(path));

        using var scope = NewDisposeScope();
        var io = TinyUNets.Io(fixture);
        using var result = OnnxTestKit.Run(path, TinyUNets.Inputs(fixture));
        var (rel, max) = Close.Errors(result.Sample, io["out"]);
        output.WriteLine($"{fixture} ONNX Runtime float32 vs diffusers float64 out: rel L2 {rel:E2}, max abs {max:E2}");
        Assert.True(rel <= OnnxTestKit.RelL2, $"rel L2 {rel:E3}");
    }
}
