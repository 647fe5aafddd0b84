using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Sampling;

/// <summary>
/// eps(x_t, t, c): a noise prediction [B,C,H,W] for samples <c>x</c> at training timestep <c>t</c> under
/// encoder_hidden_states <c>c</c> [B,T,D]. A U-Net (any, pruned or masked) or, in tests, a closed form.
/// </summary>
public delegate Tensor NoisePredictor(Tensor x, long timestep, Tensor encoderHiddenStates);
