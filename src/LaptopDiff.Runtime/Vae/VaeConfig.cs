namespace LaptopDiff.Runtime.Vae;

/// <summary>
/// The structure and latent conventions of a diffusers <c>AutoencoderKL</c> (its <c>vae/config.json</c>); defaults
/// are diffusers'. Every stage is a <c>DownEncoderBlock2D</c> / <c>UpDecoderBlock2D</c> (the only types supported).
/// </summary>
public sealed record VaeConfig
{
    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;

    /// <summary>Channels per encoder stage; the decoder walks them reversed.</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = [64];

    /// <summary>ResNets per encoder stage; each decoder stage has one more.</summary>
    public int LayersPerBlock { get; init; } = 1;

    public int LatentChannels { get; init; } = 4;
    public int NormGroups { get; init; } = 32;

    /// <summary>Image size the VAE was trained at; diffusers uses it only to size tiles, so it changes nothing here.</summary>
    public int SampleSize { get; init; } = 32;

    /// <summary>Multiplies latents on their way to the denoiser (0.18215 for SD-1.5, 0.13025 for SDXL).</summary>
    public double ScalingFactor { get; init; } = 0.18215;

    /// <summary>
    /// Subtracted before scaling (null: none, as in SD-1.5 and SDXL). The convention is that of diffusers' SD3 and
    /// Flux pipelines; its SD-1.5 and SDXL pipelines never read this option.
    /// </summary>
    public double? ShiftFactor { get; init; }

    /// <summary>
    /// diffusers' pipelines cast a float16 VAE to float32 for decoding when this is set (SDXL's VAE overflows in
    /// float16). LaptopDiff always runs the VAE in float32, so it is recorded, not acted on.
    /// </summary>
    public bool ForceUpcast { get; init; } = true;

    public bool UseQuantConv { get; init; } = true;
    public bool UsePostQuantConv { get; init; } = true;

    /// <summary>Whether both mid blocks hold a self-attention between their two ResNets.</summary>
    public bool MidBlockAttention { get; init; } = true;

    /// <summary>Factor between image and latent sides: 2 per downsampling stage (8 for SD).</summary>
    public int DownscaleFactor => 1 << (BlockOutChannels.Count - 1);

    /// <summary>Exact parameter count of the <see cref="AutoencoderKL"/> this config builds, from the config alone.</summary>
    public long ParamCount()
    {
        var channels = BlockOutChannels.Select(c => (long)c).ToList();
        long first = channels[0], last = channels[^1], latent = LatentChannels;
        int stages = channels.Count;

        long encoder = Conv(InChannels, first, 3);
        long previous = first;
        for (int i = 0; i < stages; i++)
        {
            for (int j = 0; j < LayersPerBlock; j++) encoder += Resnet(j == 0 ? previous : channels[i], channels[i]);
            if (i < stages - 1) encoder += Conv(channels[i], channels[i], 3);
            previous = channels[i];
        }
        encoder += MidBlock(last) + Norm(last) + Conv(last, 2 * latent, 3);

        long decoder = Conv(latent, last, 3) + MidBlock(last);
        previous = last;
        for (int i = 0; i < stages; i++)
        {
            long c = channels[stages - 1 - i];
            for (int j = 0; j < LayersPerBlock + 1; j++) decoder += Resnet(j == 0 ? previous : c, c);
            if (i < stages - 1) decoder += Conv(c, c, 3);
            previous = c;
        }
        decoder += Norm(first) + Conv(first, OutChannels, 3);

        long quant = (UseQuantConv ? Conv(2 * latent, 2 * latent, 1) : 0) + (UsePostQuantConv ? Conv(latent, latent, 1) : 0);
        return encoder + decoder + quant;
    }

    private long MidBlock(long c) => 2 * Resnet(c, c) + (MidBlockAttention ? Norm(c) + 4 * (c * c + c) : 0);

    private static long Resnet(long inC, long outC) =>
        Norm(inC) + Conv(inC, outC, 3) + Norm(outC) + Conv(outC, outC, 3) + (inC != outC ? Conv(inC, outC, 1) : 0);

    private static long Conv(long inC, long outC, long kernel) => inC * outC * kernel * kernel + outC;

    private static long Norm(long c) => 2 * c;
}
