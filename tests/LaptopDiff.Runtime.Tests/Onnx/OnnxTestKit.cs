using LaptopDiff.Runtime.Execution;
using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Runtime.Tests.Onnx;

/// <summary>Exports of the fixture U-Nets and their runs in ONNX Runtime.</summary>
internal static class OnnxTestKit
{
    /// <summary>The acceptance bound of an ONNX Runtime float32 run against the fixtures' float64 reference.</summary>
    public const double RelL2 = 1e-4;

    public static SafetensorsSet FixtureWeights(string fixture) => SafetensorsSet.Single(TestPaths.DiffusersFixture($"{fixture}.safetensors"));

    /// <summary>A fixture U-Net (pruned when <paramref name="layout"/> removes units) exported from the fixture's weights file.</summary>
    public static OnnxExportReport Export(UNetLayout layout, string fixture, string path, OnnxExportOptions? options = null)
    {
        using var source = new SafetensorsWeightSource(FixtureWeights(fixture));
        return OnnxExporter.ExportUNet(layout, source, path, options);
    }

    /// <summary>The ONNX Runtime prediction of <paramref name="inputs"/>, one thread.</summary>
    public static UNetOutput Run(string path, UNetInputs inputs)
    {
        using var unet = OnnxUNet.Open(path, new OnnxSessionOptions { Threads = 1 });
        return unet.Forward(inputs);
    }
}
