using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Conditioning;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Specs;
using LaptopDiff.Runtime.Tests.Cli;
using LaptopDiff.Runtime.Weights;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

public class LabelledCalibrationTests
{
    [Fact]
    public void ALabelledSetLoadsWithAConditionerAsItsStates()
    {
        using var temp = new TempFolder();
        var layout = SpecFiles.LoadLayout(TinyDigits.WriteSpec(temp));
        var data = TinyDigits.WriteData(temp, count: 12, classes: 3);
        using var scope = NewDisposeScope();
        using var conditioner = new ClassConditioner(3, 2, 8);
        using var set = CalibrationSet.Load(data, layout, conditioner);
        Assert.Equal(12, set.Count);
        Assert.Equal(ScalarType.Int64, set.Labels!.dtype);
        using var expected = conditioner.forward(set.Labels);
        Assert.True(set.EncoderHiddenStates.equal(expected).all().item<bool>());
    }

    [Fact]
    public void ALabelledSetWithoutAConditionerOrWithBadLabelsIsRefused()
    {
        using var temp = new TempFolder();
        var layout = SpecFiles.LoadLayout(TinyDigits.WriteSpec(temp));
        var data = TinyDigits.WriteData(temp, count: 12, classes: 3);
        var e = Assert.Throws<InputException>(() => CalibrationSet.Load(data, layout));
        Assert.Contains("needs a class conditioner", e.Message);
        Assert.Equal(["conditioner"], e.Settings);

        using var one = new ClassConditioner(1, 2, 8);                                 // labels 2 > 1 classes: refused
        e = Assert.Throws<InputException>(() => CalibrationSet.Load(data, layout, one));
        Assert.Contains("1 classes", e.Message);
        using var wide = new ClassConditioner(3, 2, 16);
        e = Assert.Throws<InputException>(() => CalibrationSet.Load(data, layout, wide));
        Assert.Contains("cross_attention_dim 8", e.Message);

        var bad = temp.File("bad.safetensors");
        SafetensorsFile.Save(bad, new[]
        {
            KeyValuePair.Create(CalibrationFormat.Latents, zeros(4, 1, 8, 8)),
            KeyValuePair.Create(CalibrationFormat.Labels, zeros(new long[] { 5 }, dtype: ScalarType.Int64)),
        });
        e = Assert.Throws<InputException>(() => CalibrationSet.Load(bad, layout, wide));
        Assert.Contains("'labels' must be [4]", e.Message);
        SafetensorsFile.Save(bad, new[]
        {
            KeyValuePair.Create(CalibrationFormat.Latents, zeros(4, 1, 8, 8)),
            KeyValuePair.Create(CalibrationFormat.Labels, zeros(new long[] { 4 }, dtype: ScalarType.Float32)),
        });
        e = Assert.Throws<InputException>(() => CalibrationSet.Load(bad, layout, wide));
        Assert.Contains("must be I64 or U8", e.Message);
    }
}
