using TorchSharp;
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
        using var scalars = new StepScalars(_beta1, _beta2, correction2Sqrt, _eps, 1 - lr * _weightDecay, -lr / correction1);
        for (int i = 0; i < _params.Count; i++)
        {
            var p = _params[i].Param;
            var g = p.grad;
            if (g is null) continue;
            using var scope = NewDisposeScope();
            if (_weightDecay != 0) p.mul_(scalars.Decay);
            _m[i].mul_(scalars.Beta1).add_(g, alpha: scalars.OneMinusBeta1);
            _v[i].mul_(scalars.Beta2).addcmul_(g, g, value: scalars.OneMinusBeta2);
            var denom = _v[i].sqrt().div_(scalars.Correction2Sqrt).add_(scalars.Eps, scalars.One);
            p.addcdiv_(_m[i], denom, value: scalars.StepSize);
        }
    }

    /// <summary>
    /// The step's scalars, made once and alive until the step ends. TorchSharp's scalar overloads pass
    /// <c>Scalar.Handle</c> to native code without keeping the Scalar alive, so an implicit double-to-Scalar
    /// temporary can be finalized while libtorch still reads it (seen once as an invalid scalar in this loop).
    /// </summary>
    private sealed class StepScalars(double beta1, double beta2, double correction2Sqrt, double eps, double decay, double stepSize) : IDisposable
    {
        public Scalar Beta1 { get; } = beta1.ToScalar();
        public Scalar OneMinusBeta1 { get; } = (1 - beta1).ToScalar();
        public Scalar Beta2 { get; } = beta2.ToScalar();
        public Scalar OneMinusBeta2 { get; } = (1 - beta2).ToScalar();
        public Scalar Correction2Sqrt { get; } = correction2Sqrt.ToScalar();
        public Scalar Eps { get; } = eps.ToScalar();
        public Scalar One { get; } = 1.0.ToScalar();
        public Scalar Decay { get; } = decay.ToScalar();
        public Scalar StepSize { get; } = stepSize.ToScalar();

        public void Dispose()
        {
            foreach (var s in new[] { Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, Correction2Sqrt, Eps, One, Decay, StepSize }) s.Dispose();
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
