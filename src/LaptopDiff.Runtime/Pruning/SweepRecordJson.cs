using System.Text.Encodings.Web;
using System.Text.Json;
using LaptopDiff.Runtime.Calibration;
using LaptopDiff.Runtime.Inputs;
using LaptopDiff.Runtime.Schedulers;

namespace LaptopDiff.Runtime.Pruning;

/// <summary>
/// Reads and writes <see cref="SweepRecord"/>s as JSON (<c>laptopdiff.sweep/1</c>):
/// <code>
/// { "format": "laptopdiff.sweep/1", "complete": false,
///   "spec": { "name", "hash" }, "weights": { "path", "hash" }, "calibration": { "path", "hash", "samples" },
///   "noising": { "seed", "schedule", "beta_start", "beta_end", "train_steps", "timesteps": "stratified" },
///   "shard": "1/2", "teacher_forwards": 4, "ablated_forwards": 60, "elapsed_seconds": 1.5,
///   "units": [ { "id", "params", "losses": [per-sample MSE or null] }, { "id", "params" } ] }
/// </code>
/// Units outside the shard have no <c>losses</c>. Doubles round-trip exactly.
/// </summary>
public static class SweepRecordJson
{
    public const string Format = "laptopdiff.sweep/1";

    public static string Write(SweepRecord record)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var id = record.Identity;
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteBoolean("complete", record.IsComplete);
            w.WriteStartObject("spec");
            w.WriteString("name", id.SpecName);
            w.WriteString("hash", id.SpecHash);
            w.WriteEndObject();
            w.WriteStartObject("weights");
            w.WriteString("path", id.WeightsPath);
            w.WriteString("hash", id.WeightsHash);
            w.WriteEndObject();
            w.WriteStartObject("calibration");
            w.WriteString("path", id.CalibrationPath);
            w.WriteString("hash", id.CalibrationHash);
            w.WriteNumber("samples", id.Samples);
            w.WriteEndObject();
            w.WriteStartObject("noising");
            w.WriteNumber("seed", id.Noising.Seed);
            w.WriteString("schedule", id.Noising.Schedule.KindName);
            w.WriteNumber("beta_start", id.Noising.Schedule.BetaStart);
            w.WriteNumber("beta_end", id.Noising.Schedule.BetaEnd);
            w.WriteNumber("train_steps", id.Noising.Schedule.TrainSteps);
            w.WriteString("timesteps", NoisingSettings.TimestepScheme);
            w.WriteEndObject();
            w.WriteString("shard", id.Shard.ToString());
            w.WriteNumber("teacher_forwards", record.TeacherForwards);
            w.WriteNumber("ablated_forwards", record.AblatedForwards);
            w.WriteNumber("elapsed_seconds", Math.Round(record.ElapsedSeconds, 3));
            w.WriteStartArray("units");
            foreach (var unit in record.Units)
            {
                w.WriteStartObject();
                w.WriteString("id", unit.Id);
                w.WriteNumber("params", unit.Params);
                if (record.Losses.TryGetValue(unit.Id, out var losses))
                {
                    w.WriteStartArray("losses");
                    foreach (var v in losses)
                        if (v is double x) w.WriteNumberValue(x); else w.WriteNullValue();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Parses a record; any problem is an <see cref="InputException"/> naming <paramref name="path"/>.</summary>
    public static SweepRecord Read(string path, string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var format = Str(root, "format");
            if (format != Format) throw Bad($"'format' is '{format}', expected '{Format}'");
            var spec = Obj(root, "spec");
            var weights = Obj(root, "weights");
            var calibration = Obj(root, "calibration");
            var noising = Obj(root, "noising");
            if (Str(noising, "timesteps") != NoisingSettings.TimestepScheme)
                throw Bad($"timesteps were drawn '{Str(noising, "timesteps")}'; this version draws '{NoisingSettings.TimestepScheme}'");
            var identity = new SweepIdentity
            {
                SpecName = Str(spec, "name"),
                SpecHash = Str(spec, "hash"),
                WeightsPath = Str(weights, "path"),
                WeightsHash = Str(weights, "hash"),
                CalibrationPath = Str(calibration, "path"),
                CalibrationHash = Str(calibration, "hash"),
                Samples = Prop(calibration, "samples").GetInt32(),
                Noising = new NoisingSettings
                {
                    Seed = Prop(noising, "seed").GetInt64(),
                    Schedule = new NoiseSchedule
                    {
                        Kind = NoiseSchedule.ParseKind(Str(noising, "schedule")),
                        BetaStart = Prop(noising, "beta_start").GetDouble(),
                        BetaEnd = Prop(noising, "beta_end").GetDouble(),
                        TrainSteps = Prop(noising, "train_steps").GetInt32(),
                    },
                },
                Shard = SweepShard.Parse(Str(root, "shard")),
            };
            if (identity.Samples < 1) throw Bad("'samples' must be at least 1");

            var units = new List<SweepUnit>();
            var losses = new Dictionary<string, double?[]>(StringComparer.Ordinal);
            foreach (var u in Prop(root, "units").EnumerateArray())
            {
                var unit = new SweepUnit(Str(u, "id"), Prop(u, "params").GetInt64());
                if (units.Any(x => x.Id == unit.Id)) throw Bad($"unit '{unit.Id}' is listed twice");
                units.Add(unit);
                if (u.TryGetProperty("losses", out var l))
                    losses[unit.Id] = l.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray();
            }
            for (int i = 0; i < units.Count; i++)
                if (identity.Shard.Contains(i) != losses.ContainsKey(units[i].Id))
                    throw Bad($"unit '{units[i].Id}' {(losses.ContainsKey(units[i].Id) ? "has losses but is not" : "has no losses but is")} in shard {identity.Shard}");
            if (losses.Values.SelectMany(l => l).Any(v => v is double x && !(double.IsFinite(x) && x >= 0)))
                throw Bad("a loss is negative or not finite");

            return new SweepRecord(identity, units, losses)
            {
                TeacherForwards = Prop(root, "teacher_forwards").GetInt64(),
                AblatedForwards = Prop(root, "ablated_forwards").GetInt64(),
                ElapsedSeconds = Prop(root, "elapsed_seconds").GetDouble(),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException or InputException)
        {
            throw new InputException($"'{path}' is not a readable sweep record ({e.Message}); delete it to start the sweep over");
        }
    }

    private static FormatException Bad(string message) => new(message);

    private static JsonElement Prop(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : throw Bad($"'{name}' is missing");

    private static JsonElement Obj(JsonElement e, string name)
    {
        var v = Prop(e, name);
        return v.ValueKind == JsonValueKind.Object ? v : throw Bad($"'{name}' must be an object");
    }

    private static string Str(JsonElement e, string name) => Prop(e, name).GetString() ?? throw Bad($"'{name}' must be a string");
}
