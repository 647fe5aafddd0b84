namespace LaptopDiff.Spec
{
    public enum ComponentKind
    {
        ConvIn,
        TimeEmbedding,
        AdditionEmbedding,
        Resnet,
        /// <summary>A whole Transformer2DModel (norm, proj_in, blocks, proj_out).</summary>
        Transformer,
        /// <summary>One BasicTransformerBlock inside a Transformer2DModel.</summary>
        TransformerBlock,
        Downsampler,
        Upsampler,
        OutputHead,
    }

    /// <summary>
    /// One module of the U-Net in execution order: where it sits, its channels, and the exact tensors it owns
    /// (<see cref="Keys"/> and <see cref="ParamCount"/> follow from the rest: <see cref="UNetLayout.Create"/> fills them).
    /// Prunable components are the method's "units". For transformer-block granularity the enclosing Transformer2D
    /// is its own (non-prunable) component owning norm/proj_in/proj_out, and its blocks follow it.
    /// </summary>
    public sealed record LayoutComponent
    {
        /// <summary>The diffusers key prefix, e.g. <c>down_blocks.1.resnets.0</c>; unique.</summary>
        public string Id { get; init; } = "";
        /// <summary>A C# identifier for the unit, e.g. <c>Down1Resnet0</c>.</summary>
        public string MemberName { get; init; } = "";
        public ComponentKind Kind { get; init; }
        public StageId Stage { get; init; }
        /// <summary>Layer within the stage (-1 when not applicable).</summary>
        public int Layer { get; init; } = -1;
        /// <summary>Block index inside a Transformer2D (TransformerBlock only).</summary>
        public int BlockIndex { get; init; } = -1;
        public long ParamCount { get; init; }
        public bool Prunable { get; init; }
        /// <summary>Why the component is or is not prunable, for the layer table.</summary>
        public string Reason { get; init; } = "";
        /// <summary>Channels of the hidden state entering (for up ResNets: before the skip concat).</summary>
        public int InChannels { get; init; }
        public int OutChannels { get; init; }
        /// <summary>Channels of the skip an up-stage ResNet concatenates (0 elsewhere).</summary>
        public int SkipChannels { get; init; }
        public int Heads { get; init; }
        /// <summary>BasicTransformerBlocks in a Transformer2D (Transformer only).</summary>
        public int Depth { get; init; }
        public EquatableArray<TensorKey> Keys { get; init; } = EquatableArray<TensorKey>.Empty;
        /// <summary>A ResNet or a transformer at the spec's granularity: a candidate for pruning.</summary>
        public bool IsUnit { get; init; }
    }
}
