using LaptopDiff.Runtime.Tests.Execution;
using LaptopDiff.Spec;
using TorchSharp.Modules;

namespace LaptopDiff.Runtime.Tests.Blocks;

/// <summary>
/// Norm epsilons are invisible at the fixture tolerance, so they are checked directly: ResNet and output
/// GroupNorms use norm.eps (1e-5), the GroupNorm at a Transformer2D's input 1e-6, LayerNorms 1e-5.
/// </summary>
public sealed class NormEpsTests
{
    [Theory]
    [InlineData(TinyUNets.Sd15)]
    [InlineData(TinyUNets.Sdxl)]
    public void Built_modules_carry_diffusers_epsilons(string fixture)
    {
        using var model = new UNet2DCondition(TinyUNets.Layout(fixture));
        int groupNorms = 0, layerNorms = 0;
        foreach (var (name, module) in model.named_modules())
        {
            switch (module)
            {
                case GroupNorm g:
                    groupNorms++;
                    double expected = name.EndsWith(".norm", StringComparison.Ordinal) && name.Contains(".attentions.") ? 1e-6 : 1e-5;
                    Assert.True(expected == g.eps, $"{name}: eps {g.eps}, expected {expected}");
                    Assert.Equal(8, g.num_groups);
                    break;
                case LayerNorm l:
                    layerNorms++;
                    Assert.True(l.eps == 1e-5, $"{name}: eps {l.eps}, expected 1e-5");
                    break;
            }
        }
        Assert.True(groupNorms > 0 && layerNorms > 0);
    }

    [Fact]
    public void Spec_epsilons_reach_every_norm()
    {
        var spec = TinyUNets.Spec(TinyUNets.Sd15) with { Norm = new NormSpec { Groups = 4, Eps = 1e-3, TransformerEps = 2e-4, LayerNormEps = 3e-5 } };
        using var model = new UNet2DCondition(LayoutBuilder.BuildOrThrow(spec, "eps.unet.yaml"));
        var norms = model.named_modules().ToList();
        Assert.All(norms.Where(m => m.module is GroupNorm && m.name.Contains(".resnets.")), m => Assert.Equal(1e-3, ((GroupNorm)m.module).eps));
        Assert.All(norms.Where(m => m.module is GroupNorm && m.name.Contains(".attentions.")), m => Assert.Equal(2e-4, ((GroupNorm)m.module).eps));
        Assert.All(norms.Where(m => m.module is LayerNorm), m => Assert.Equal(3e-5, ((LayerNorm)m.module).eps));
        Assert.Equal(1e-3, ((GroupNorm)norms.Single(m => m.name == "conv_norm_out").module).eps);
        Assert.All(norms.Where(m => m.module is GroupNorm), m => Assert.Equal(4, ((GroupNorm)m.module).num_groups));
    }

    [Fact]
    public void Norm_affine_parameters_start_at_ones_and_zeros()
    {
        // TorchSharp's GroupNorm leaves them uninitialised (torch.empty); ours must not
        using var model = new UNet2DCondition(TinyUNets.Layout(TinyUNets.Sd15));
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains("norm")))
        {
            float expected = name.EndsWith(".weight", StringComparison.Ordinal) ? 1f : 0f;
            Assert.True(p.eq(expected).all().item<bool>(), $"{name} is not {expected} everywhere");
        }
    }
}
