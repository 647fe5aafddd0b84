using LaptopDiff.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// The VAE's training loss, without a perceptual or adversarial term: the mean squared error of the decoded posterior
/// sample (<c>recon</c>, per pixel value) plus <see cref="KlWeight"/> x the KL divergence to N(0, I) per pixel value
/// (<c>kl</c>: each image's KL summed over its latent, divided by the image's values C x H x W, so both terms are on
/// the same per-value scale).
/// </summary>
public sealed class VaeObjective : ITrainingObjective<VaeBatch>
{
    public const string ReconstructionTerm = "recon";
    public const string KlTerm = "kl";

    private readonly AutoencoderKL _vae;

    public VaeObjective(AutoencoderKL vae, double klWeight)
    {
        if (!(klWeight >= 0 && double.IsFinite(klWeight))) throw new ArgumentException($"the KL weight must be >= 0, got {klWeight}");
        _vae = vae;
        KlWeight = klWeight;
        Trained = [("vae", vae)];
    }

    public double KlWeight { get; }

    public IReadOnlyList<(string Prefix, nn.Module Module)> Trained { get; }

    public LossTerms Loss(VaeBatch batch)
    {
        using var scope = NewDisposeScope();
        using var posterior = _vae.Encode(batch.Images);
        var z = posterior.Mean + posterior.Std * batch.PosteriorNoise;                       // [B,L,h,w]
        var reconstruction = _vae.Decode(z);                                                  // [B,C,H,W]
        var recon = nn.functional.mse_loss(reconstruction, batch.Images);
        long values = batch.Images.shape[1] * batch.Images.shape[2] * batch.Images.shape[3];
        var kl = posterior.Kl().mean() / values;
        var total = KlWeight > 0 ? recon + KlWeight * kl : recon;
        return new LossTerms(total.MoveToOuterDisposeScope(),
            [KeyValuePair.Create(ReconstructionTerm, (double)recon.item<float>()), KeyValuePair.Create(KlTerm, (double)kl.item<float>())]);
    }
}
