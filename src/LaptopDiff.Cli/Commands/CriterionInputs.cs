using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Pruning.Additivity;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands;

/// <summary>The inputs that additivity and compare read alike: a criterion file checked against the spec, a noised calibration set.</summary>
internal static class CriterionInputs
{
    /// <summary>Parses the criterion file and checks it against the spec (hash, units, params); diagnostics are exit 2.</summary>
    public static CriterionFile ReadCriterion(string path, UNetLayout layout)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"criterion file not found: {path}", path);
        var (file, diagnostics) = CriterionReader.Parse(path, File.ReadAllText(path));
        if (file == null || diagnostics.Count > 0) throw new SpecException(diagnostics.ToList());
        var mismatch = file.CheckAgainst(layout);
        if (mismatch.Count > 0) throw new SpecException(mismatch.ToList());
        return file;
    }

    public static AdditivityInputs LoadCalibration(string path, UNetLayout layout, NoisingSettings noising, int batch)
    {
        using var set = CalibrationSet.Load(path, layout);
        return AdditivityInputs.FromCalibration(set, noising, batch);
    }
}
