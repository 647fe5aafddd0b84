using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Tests.Weights;

namespace LaptopDiff.Runtime.Tests.Onnx;

/// <summary>
/// The model check finds what would break a consumer: unreadable files, missing or short external data, operators the
/// imported opset lacks (the C# structural part), and a graph whose shapes do not infer (ONNX Runtime's strict load).
/// </summary>
public sealed class OnnxModelCheckTests
{
    [Fact]
    public void Short_or_missing_external_data_and_unreadable_files_are_reported()
    {
        using var temp = new TempFolder();
        var path = temp.File("unet.onnx");
        var report = OnnxTestKit.Export(TinyUNets.Layout(TinyUNets.Sd15), TinyUNets.Sd15, path, new OnnxExportOptions { ExternalDataThresholdBytes = 0 });
        Assert.Empty(OnnxModelCheck.Check(path));

        using (var data = File.Open(report.DataPath!, FileMode.Open)) data.SetLength(data.Length / 2);
        Assert.Contains(OnnxModelCheck.Check(path), p => p.Contains("beyond the end of 'unet.onnx.data'"));

        File.Delete(report.DataPath!);
        Assert.Contains(OnnxModelCheck.Check(path), p => p.Contains("external data file 'unet.onnx.data' does not exist"));

        File.WriteAllBytes(path, [0x0a, 0xff, 0xff, 0xff]);
        Assert.Contains("is not a readable ONNX model", Assert.Single(OnnxModelCheck.Check(path)));
    }

    [Fact]
    public void An_operator_newer_than_the_imported_opset_is_reported()
    {
        using var temp = new TempFolder();
        var path = temp.File("unet.onnx");
        OnnxTestKit.Export(TinyUNets.Layout(TinyUNets.Sd15), TinyUNets.Sd15, path);
        // the same bytes with the opset import lowered from 17 to 13: structurally sound, but LayerNormalization does not exist there
        var bytes = File.ReadAllBytes(path);
        int at = FindOpsetImport(bytes);
        bytes[at] = 13;
        File.WriteAllBytes(path, bytes);
        var problems = OnnxModelCheck.Check(path);
        Assert.Contains(problems, p => p.Contains("needs opset 17, the model imports 13"));
    }

    [Fact]
    public void A_weight_shape_that_contradicts_its_matmul_passes_the_structure_but_not_onnx_runtime()
    {
        using var temp = new TempFolder();
        var path = temp.File("unet.onnx");
        OnnxTestKit.Export(TinyUNets.Layout(TinyUNets.Sd15), TinyUNets.Sd15, path);
        // time_embedding.linear_1.weight, stored [in 32, out 128]: dims (field 1, packed: 0x0a, 3 bytes, 0x20 0x80 0x01),
        // then data_type float (0x10 0x01). Declared [128, 32] instead: the same byte count, so only inference can tell.
        var bytes = File.ReadAllBytes(path);
        int at = IndexOf(bytes, [0x0a, 0x03, 0x20, 0x80, 0x01, 0x10, 0x01]);
        (bytes[at + 2], bytes[at + 3], bytes[at + 4]) = (0x80, 0x01, 0x20);
        File.WriteAllBytes(path, bytes);

        var problem = Assert.Single(OnnxModelCheck.Check(path));
        Assert.StartsWith("ONNX Runtime rejects the graph", problem);
        Assert.Contains("MatMul", problem);
    }

    // opset_import is field 8 of ModelProto: tag 0x42, length 2, then version (field 2, varint): 0x10 0x11 (17)
    private static int FindOpsetImport(byte[] bytes) => IndexOf(bytes, [0x42, 0x02, 0x10, 17]) + 3;

    private static int IndexOf(byte[] bytes, byte[] pattern)
    {
        int at = bytes.AsSpan().IndexOf(pattern);
        return at >= 0 ? at : throw new InvalidOperationException($"no {Convert.ToHexString(pattern)} in the file");
    }
}
