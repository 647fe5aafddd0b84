using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter; the same update as torch.optim.AdamW without amsgrad) whose state is
/// plain named tensors, so a checkpoint saves and restores it exactly in safetensors. Decoupled weight
/// decay: p *= 1 - lr*wd, then p -= lr * m_hat / (sqrt(v_hat) + eps).
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly IReadOnlyList<(string Name, Parameter Param)> _params;
    private readonly Tensor[] _m, _v;
    private readonly double _beta1, _beta2, _eps, _weightDecay;

    public AdamW(IReadOnlyList<(string Name, Parameter Param)> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        _params = parameters;
        _beta1 = beta1;
        _beta2 = beta2;
        _eps = eps;
        _weightDecay = weightDecay;
        _m = parameters.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray();
        _v = parameters.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Updates taken so far (Adam's bias-correction counter).</summary>
    public long StepCount { get; private set; }

    /// <summary>One update with the parameters' current gradients (a parameter without one is skipped).</summary>
    public void Step(double lr)
    {
        StepCount++;
        double correction1 = 1 - Math.Pow(_beta1, StepCount);
        double correction2Sqrt = Math.Sqrt(1 - Math.Pow(_beta2, StepCount));
        using var noGrad = no_grad();
        for (int i = 0; i < _params.Count; i++)
        {
            var p = _params[i].Param;
            var g = p.grad;
            if (g is null) continue;
            using var scope = NewDisposeScope();
            if (_weightDecay != 0) p.mul_(1 - lr * _weightDecay);
            _m[i].mul_(_beta1).add_(g, alpha: 1 - _beta1);
            _v[i].mul_(_beta2).addcmul_(g, g, value: 1 - _beta2);
            var denom = _v[i].sqrt().div_(correction2Sqrt).add_(_eps);
            p.addcdiv_(_m[i], denom, value: -lr / correction1);
        }
    }

    /// <summary>The moments by parameter name: <c>exp_avg.NAME</c>, <c>exp_avg_sq.NAME</c> (views, not copies).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State()
    {
        for (int i = 0; i < _params.Count; i++) yield return KeyValuePair.Create("exp_avg." + _params[i].Name, _m[i]);
        for (int i = 0; i < _params.Count; i++) yield return KeyValuePair.Create("exp_avg_sq." + _params[i].Name, _v[i]);
    }

    /// <summary>Restores the moments and the step counter; <paramref name="get"/> returns the saved tensor of a key.</summary>
    public void Load(Func<string, Tensor> get, long stepCount)
    {
        using var noGrad = no_grad();
        foreach (var (key, target) in State().ToList()) target.copy_(get(key));
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var t in _m) t.Dispose();
        foreach (var t in _v) t.Dispose();
    }
}
