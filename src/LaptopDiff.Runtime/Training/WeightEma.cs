using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>Exponential moving average of the trained parameters: ema = d*ema + (1-d)*p after every step.</summary>
public sealed class WeightEma : IDisposable
{
    private readonly IReadOnlyList<(string Name, Parameter Param)> _params;
    private readonly Tensor[] _shadow;

    public WeightEma(IReadOnlyList<(string Name, Parameter Param)> parameters, double decay)
    {
        _params = parameters;
        Decay = decay;
        using var noGrad = no_grad();
        _shadow = parameters.Select(p => p.Param.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    public double Decay { get; }

    public void Update()
    {
        using var noGrad = no_grad();
        using var weight = tensor(1 - Decay);   // lerp_ takes a tensor weight; one for the loop, alive until it ends
        for (int i = 0; i < _params.Count; i++) _shadow[i].lerp_(_params[i].Param, weight);
    }

    /// <summary>The averaged parameters by name (views).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State() =>
        _params.Select((p, i) => KeyValuePair.Create(p.Name, _shadow[i]));

    /// <summary>Copies the averaged parameters named <c>PREFIX.key</c> over <paramref name="module"/>'s own (to save or evaluate them).</summary>
    public void CopyTo(TorchSharp.torch.nn.Module module, string prefix)
    {
        var averaged = State().ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, p) in module.named_parameters())
            if (averaged.TryGetValue($"{prefix}.{name}", out var a)) p.copy_(a);
    }

    public void Load(Func<string, Tensor> get)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _params.Count; i++) _shadow[i].copy_(get(_params[i].Name));
    }

    public void Dispose()
    {
        foreach (var t in _shadow) t.Dispose();
    }
}
