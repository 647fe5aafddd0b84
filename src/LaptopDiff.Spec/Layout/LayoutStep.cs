namespace LaptopDiff.Spec
{
    /// <summary>What one step of the U-Net forward does to the running state (see <see cref="LayoutStep"/>).</summary>
    public enum StepKind
    {
        /// <summary>temb = time_embedding(time_proj(timestep)).</summary>
        TimeEmbedding,
        /// <summary>temb += add_embedding(cat(text_embeds, add_time_proj(time_ids))) (SDXL text_time).</summary>
        AdditionEmbedding,
        /// <summary>h = conv_in(sample).</summary>
        ConvIn,
        /// <summary>h = resnet(h, temb) (down and mid stages).</summary>
        Resnet,
        /// <summary>h = resnet(cat(h, skip), temb) (up stages): pops the top skip; skipped, it still pops and drops it.</summary>
        UpResnet,
        /// <summary>A whole Transformer2D: h = transformer(h, context).</summary>
        Transformer,
        /// <summary>Transformer shell, first half: residual = h; h = proj_in(norm(h)) as tokens [B,HW,C].</summary>
        TransformerEnter,
        /// <summary>One BasicTransformerBlock on the tokens.</summary>
        TransformerBlock,
        /// <summary>Transformer shell, second half: h = residual + proj_out(tokens) back in [B,C,H,W].</summary>
        TransformerExit,
        Downsample,
        /// <summary>Nearest-neighbour upsampling to the next skip's size, then a 3x3 convolution.</summary>
        Upsample,
        /// <summary>eps = conv_out(silu(conv_norm_out(h))).</summary>
        OutputHead,
    }

    /// <summary>
    /// One step of the forward, in execution order: what it does, the component it runs (an index into
    /// <see cref="UNetLayout.Components"/>; the Transformer2D shell for <see cref="StepKind.TransformerEnter"/> and
    /// <see cref="StepKind.TransformerExit"/>) and what it does to the skip stack and the stage features.
    /// </summary>
    /// <param name="PushesSkip">After this step, h is pushed on the skip stack: conv_in, the end of each down layer
    /// (its ResNet, or its transformer when it has one) and each downsampler.</param>
    /// <param name="EndsStage">h after this step is its stage's output (the stage's feature): the last step of each
    /// down stage, the mid block and each up stage.</param>
    public sealed record LayoutStep(StepKind Kind, int Component, bool PushesSkip = false, bool EndsStage = false)
    {
        /// <summary>The step consumes the top of the skip stack: an up-stage ResNet.</summary>
        public bool PopsSkip => Kind == StepKind.UpResnet;
    }
}
