using LaptopDiff.Runtime.Training;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Training;

/// <summary>The contrastive caption-latent loss of the text encoder's first stage.</summary>
public sealed class CaptionLatentContrastTests
{
    public CaptionLatentContrastTests() => set_num_threads(1);

    [Fact]
    public void Indistinguishable_pairs_cost_log_b_and_training_separates_them()
    {
        using var contrast = new CaptionLatentContrast(hidden: 6, latentShape: [2, 2, 2], embedDim: 4, width: 8);
        // every caption and every latent the same: all B x B similarities equal, each cross-entropy is ln B
        using var same = contrast.forward(ones(5, 3, 6), ones(5, 2, 2, 2));
        Assert.Equal(Math.Log(5), same.item<float>(), 5);

        // two kinds of pairs: the loss can fall to ln 2 (each caption picks among the 2 latents of its kind) and no further
        manual_seed(0);
        var states = cat([full(2, 3, 6, 1f), full(2, 3, 6, -1f)]);                          // [4,3,6]
        var latents = cat([full(2, 2, 2, 2, 1f), full(2, 2, 2, 2, -1f)]);                   // [4,2,2,2]
        var optimizer = optim.Adam(contrast.parameters(), lr: 0.05);
        float loss = 0;
        for (int step = 0; step < 200; step++)
        {
            optimizer.zero_grad();
            using var l = contrast.forward(states, latents);
            l.backward();
            optimizer.step();
            loss = l.item<float>();
        }
        Assert.InRange(loss, Math.Log(2) - 1e-3, Math.Log(2) + 0.05);
    }
}
