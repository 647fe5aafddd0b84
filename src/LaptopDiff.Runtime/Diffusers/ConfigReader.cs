using System.Globalization;
using System.Text.Json;

namespace LaptopDiff.Runtime.Diffusers;

/// <summary>Typed access to a diffusers config.json with errors that name the option.</summary>
internal sealed class ConfigReader(JsonElement root, string path)
{
    public bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Present at all, null included (<c>"mid_block_type": null</c> means no mid block).</summary>
    public bool IsPresent(string key) => root.TryGetProperty(key, out _);

    public DiffusersConfigException Unsupported(string option, string value, string why) =>
        new(path, option, $"unsupported value {value}: {why}");

    public string? String(string key) => Get(key) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Unsupported(key, v.GetRawText(), "expected a string")
        : null;

    public int? Int(string key) => Get(key) is { } v ? ToInt(key, v) : null;

    public double? Double(string key) => Get(key) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Unsupported(key, v.GetRawText(), "expected a number")
        : null;

    public bool? Bool(string key) => Get(key) is { } v
        ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw Unsupported(key, v.GetRawText(), "expected true or false") }
        : null;

    public void Require(string key, string expected)
    {
        var value = String(key);
        if (value != null && value != expected) throw Unsupported(key, value, $"only '{expected}' is implemented");
    }

    public void RequireNumber(string key, double expected)
    {
        var value = Double(key);
        if (value != null && Math.Abs(value.Value - expected) > 1e-12)
            throw Unsupported(key, value.Value.ToString(CultureInfo.InvariantCulture), $"only {expected.ToString(CultureInfo.InvariantCulture)} is implemented");
    }

    /// <summary>Options whose every non-default value changes the architecture: null/false/empty only.</summary>
    public void RequireFalsy(params string[] keys)
    {
        foreach (var key in keys)
        {
            if (Get(key) is not { } v) continue;
            bool falsy = v.ValueKind == JsonValueKind.False
                || (v.ValueKind == JsonValueKind.Number && v.GetDouble() == 0)
                || (v.ValueKind == JsonValueKind.String && v.GetString() == "");
            if (!falsy) throw Unsupported(key, v.GetRawText(), "LaptopDiff implements the default (null/false) only");
        }
    }

    public List<string> StringList(string key, bool required)
    {
        if (Get(key) is not { } v)
            return required ? throw Unsupported(key, "null", "required") : new List<string>();
        if (v.ValueKind != JsonValueKind.Array) throw Unsupported(key, v.GetRawText(), "expected a list");
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Unsupported(key, e.GetRawText(), "expected strings")).ToList();
    }

    public List<int> IntList(string key, bool required)
    {
        if (Get(key) is not { } v)
            return required ? throw Unsupported(key, "null", "required") : new List<int>();
        if (v.ValueKind != JsonValueKind.Array) throw Unsupported(key, v.GetRawText(), "expected a list");
        return v.EnumerateArray().Select(e => ToInt(key, e)).ToList();
    }

    public List<bool> BoolOrList(string key) => Get(key) is not { } v ? new List<bool>()
        : v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.True).ToList()
        : new List<bool> { v.ValueKind == JsonValueKind.True };

    /// <summary>An int or a per-stage list of ints (diffusers accepts both).</summary>
    public List<int> PerStage(string key, int stages, int fallback) => PerStageOrNull(key, stages) ?? Enumerable.Repeat(fallback, stages).ToList();

    public List<int>? PerStageOrNull(string key, int stages)
    {
        if (Get(key) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.Number) return Enumerable.Repeat(ToInt(key, v), stages).ToList();
        var list = IntList(key, required: true);
        if (list.Count != stages) throw Unsupported(key, v.GetRawText(), $"expected one value per stage ({stages})");
        return list;
    }

    /// <summary>An int, a per-stage list, or a per-stage list of per-layer lists.</summary>
    public List<List<int>> NestedPerStage(string key, int stages, IReadOnlyList<int> layersPerStage, int fallback)
    {
        var result = new List<List<int>>();
        if (Get(key) is not { } v)
        {
            for (int i = 0; i < stages; i++) result.Add(Enumerable.Repeat(fallback, layersPerStage[i]).ToList());
            return result;
        }
        if (v.ValueKind == JsonValueKind.Number)
        {
            for (int i = 0; i < stages; i++) result.Add(Enumerable.Repeat(ToInt(key, v), layersPerStage[i]).ToList());
            return result;
        }
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != stages)
            throw Unsupported(key, v.GetRawText(), $"expected an int or one entry per stage ({stages})");
        int s = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.Array)
            {
                var perLayer = e.EnumerateArray().Select(x => ToInt(key, x)).ToList();
                if (perLayer.Count != layersPerStage[s])
                    throw Unsupported(key, e.GetRawText(), $"stage {s} has {layersPerStage[s]} layers");
                result.Add(perLayer);
            }
            else result.Add(Enumerable.Repeat(ToInt(key, e), layersPerStage[s]).ToList());
            s++;
        }
        return result;
    }

    public int SampleSize()
    {
        if (Get("sample_size") is not { } v) return 64;
        if (v.ValueKind == JsonValueKind.Number) return ToInt("sample_size", v);
        var list = IntList("sample_size", required: true);
        if (list.Count == 2 && list[0] == list[1]) return list[0];
        throw Unsupported("sample_size", v.GetRawText(), "non-square sample sizes are not supported");
    }

    private JsonElement? Get(string key) =>
        root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private int ToInt(string key, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i
        : v.ValueKind == JsonValueKind.Number && v.GetDouble() == Math.Floor(v.GetDouble()) ? (int)v.GetDouble()
        : throw Unsupported(key, v.GetRawText(), "expected an integer");
}
