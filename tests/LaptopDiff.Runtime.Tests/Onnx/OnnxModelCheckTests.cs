using LaptopDiff.Runtime.Onnx;
using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Runtime.Tests.Weights;

namespace LaptopDiff.Runtime.Tests.Onnx;

/// <summary>The model check finds what would break a consumer: unreadable files, missing or short external data, operators the imported opset lacks.</summary>
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

    // opset_import is field 8 of ModelProto: tag 0x42, length 2, then version (field 2, varint): 0x10 0x11 (17)
    private static int FindOpsetImport(byte[] bytes)
    {
        for (int i = 0; i + 3 < bytes.Length; i++)
            if (bytes[i] == 0x42 && bytes[i + 1] == 0x02 && bytes[i + 2] == 0x10 && bytes[i + 3] == 17) return i + 3;
        throw new InvalidOperationException("no opset import 17 in the file");
    }
}
