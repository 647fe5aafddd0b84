using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace LaptopDiff.Spec
{
    /// <summary>Writes a <see cref="CostsFile"/> as JSON, one unit per line, invariant culture, doubles in round-trip form, LF line ends.</summary>
    public static class CostsWriter
    {
        public static string Write(CostsFile file)
        {
            var w = new StringBuilder();
            string S(string v) => CriterionWriter.Str(v);
            string D(double v) => CriterionWriter.Number(v);
            string I(long v) => v.ToString(CultureInfo.InvariantCulture);
            w.Append("{\n");
            w.Append("  \"format\": ").Append(S(CostsFile.CurrentFormat)).Append(",\n");
            w.Append("  \"spec\": { \"name\": ").Append(S(file.Spec.Name)).Append(", \"hash\": ").Append(S(file.Spec.Hash)).Append(" },\n");
            w.Append("  \"device\": ").Append(S(file.Device)).Append(",\n");
            w.Append("  \"batch\": ").Append(I(file.Shape.Batch)).Append(", \"height\": ").Append(I(file.Shape.Height))
             .Append(", \"width\": ").Append(I(file.Shape.Width)).Append(", \"tokens\": ").Append(I(file.Shape.Tokens)).Append(",\n");
            if (file.Runs > 0) w.Append("  \"runs\": ").Append(I(file.Runs)).Append(",\n");
            if (file.Created != null) w.Append("  \"created\": ").Append(S(file.Created)).Append(",\n");
            if (file.FlopConvention != null) w.Append("  \"flops\": ").Append(S(file.FlopConvention)).Append(",\n");
            var step = new List<string>
            {
                "\"params\": " + I(file.Step.Params), "\"flops\": " + I(file.Step.Flops), "\"latency_ms\": " + D(file.Step.LatencyMs),
            };
            if (file.Step.LatencyIqrMs is double iqr) step.Add("\"latency_iqr_ms\": " + D(iqr));
            if (file.Step.FixedLatencyMs is double rest) step.Add("\"fixed_latency_ms\": " + D(rest));
            w.Append("  \"step\": { ").Append(string.Join(", ", step)).Append(" },\n");
            w.Append("  \"units\": [");
            for (int i = 0; i < file.Units.Count; i++)
            {
                var u = file.Units[i];
                w.Append(i == 0 ? "\n" : ",\n");
                w.Append("    { \"id\": ").Append(S(u.Id)).Append(", \"params\": ").Append(I(u.Params)).Append(", \"flops\": ").Append(I(u.Flops))
                 .Append(", \"latency_ms\": ").Append(D(u.LatencyMs));
                if (u.LatencyIqrMs is double e) w.Append(", \"latency_iqr_ms\": ").Append(D(e));
                w.Append(" }");
            }
            w.Append(file.Units.Count > 0 ? "\n  ]\n" : "]\n");
            w.Append("}\n");
            return w.ToString();
        }
    }
}
