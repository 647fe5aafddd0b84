using LaptopDiff.Runtime.Blocks;
using LaptopDiff.Runtime.Execution;
using LaptopDiff.Spec;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime;

/// <summary>
/// diffusers' <c>UNet2DConditionModel</c> built from a <see cref="UNetLayout"/>: the module tree carries
/// diffusers' state-dict keys (<c>conv_in</c>, <c>time_embedding</c>, <c>add_embedding</c>,
/// <c>down_blocks.i</c>, <c>up_blocks.i</c>, <c>mid_block</c>, <c>conv_norm_out</c>, <c>conv_out</c>), so
/// its state dict equals <see cref="UNetLayout.LiveKeys"/> in names, shapes and order. Removed units are
/// not allocated: their indices stay as holes (<c>resnets.0</c>, <c>resnets.2</c>). The forward is the
/// layout's <see cref="ExecutionPlan"/>.
/// Generated model classes derive from this one; the fields here are private and registered
/// explicitly, so a derived class may still call <c>RegisterComponents()</c> for fields of its own.
/// </summary>
public class UNet2DCondition : nn.Module<UNetInputs, UNetOutput>
{
    private readonly Conv2d conv_in;
    private readonly Timesteps time_proj;
    private readonly TimestepEmbedding time_embedding;
    private readonly Timesteps? add_time_proj;
    private readonly TimestepEmbedding? add_embedding;
    private readonly ModuleList<UNetStage> down_blocks;
    private readonly ModuleList<UNetStage> up_blocks;
    private readonly UNetStage? mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;
    private readonly Dictionary<string, nn.Module> _byComponent = new(StringComparer.Ordinal);

    public UNet2DCondition(UNetLayout layout)
        : base(string.IsNullOrEmpty(layout.Spec.Name) ? nameof(UNet2DCondition) : layout.Spec.Name)
    {
        Layout = layout ?? throw new ArgumentNullException(nameof(layout));
        var spec = layout.Spec;
        if (spec.Down.Count == 0) throw new ArgumentException("the layout has no down stage", nameof(layout));
        int c0 = spec.Down[0].Channels;
        int t = spec.TimeEmbeddingDim;

        // 1. time
        conv_in = nn.Conv2d(spec.InChannels, c0, 3, padding: 1);
        time_proj = new Timesteps(c0, spec.FlipSinToCos, spec.FreqShift);
        time_embedding = new TimestepEmbedding(c0, t);
        if (spec.AdditionEmbedding is { } add)
        {
            add_time_proj = new Timesteps(add.TimeEmbedDim, spec.FlipSinToCos, spec.FreqShift);
            add_embedding = new TimestepEmbedding(add.ProjectionInputDim, t);
        }

        // 2. stages: each down stage, the mid block and each up stage from its components, removed units left out
        var removed = new HashSet<string>(layout.Removed, StringComparer.Ordinal);
        down_blocks = new ModuleList<UNetStage>();
        up_blocks = new ModuleList<UNetStage>();
        foreach (var components in layout.Components.Where(c => c.Stage.IsBlock).GroupBy(c => c.Stage))
        {
            var stage = BuildStage(components.Key, components, removed);
            if (components.Key.Path == StagePath.Down) down_blocks.Add(stage);
            else if (components.Key.Path == StagePath.Up) up_blocks.Add(stage);
            else mid_block = stage;
        }

        // 3. head
        var head = layout.Components.Single(c => c.Kind == ComponentKind.OutputHead);
        conv_norm_out = Ops.GroupNorm(spec.Norm.Groups, head.InChannels, spec.Norm.Eps);
        conv_out = nn.Conv2d(head.InChannels, spec.OutChannels, 3, padding: 1);

        // diffusers' registration order (= UNetLayout.StateDictKeys order)
        register_module("conv_in", conv_in);
        register_module("time_proj", time_proj);
        register_module("time_embedding", time_embedding);
        if (add_time_proj != null) register_module("add_time_proj", add_time_proj);
        if (add_embedding != null) register_module("add_embedding", add_embedding);
        register_module("down_blocks", down_blocks);
        register_module("up_blocks", up_blocks);
        if (mid_block != null) register_module("mid_block", mid_block);
        register_module("conv_norm_out", conv_norm_out);
        register_module("conv_out", conv_out);

        Plan = PlanBuilder.Build(this);
    }

    public UNetLayout Layout { get; }

    /// <summary>The one execution plan: full, masked, resumed and feature-tapping forwards.</summary>
    public ExecutionPlan Plan { get; }

    public override UNetOutput forward(UNetInputs inputs) => Plan.Run(inputs);

    /// <summary>The forward with units skipped by <paramref name="mask"/> and, optionally, the stage-end features.</summary>
    public UNetOutput Forward(UNetInputs inputs, UnitMask? mask = null, bool features = false) => Plan.Run(inputs, mask, features);

    /// <summary>A down stage, the mid block or an up stage, with its modules under diffusers' names.</summary>
    /// <exception cref="ArgumentException">The stage is the stem or the head, or this model does not have it.</exception>
    public UNetStage Stage(StageId stage) => stage.Path switch
    {
        StagePath.Down when stage.Index >= 0 && stage.Index < down_blocks.Count => down_blocks[stage.Index],
        StagePath.Up when stage.Index >= 0 && stage.Index < up_blocks.Count => up_blocks[stage.Index],
        StagePath.Mid when mid_block != null => mid_block,
        _ => throw new ArgumentException($"{Layout.Spec.Name} has no stage module {stage}", nameof(stage)),
    };

    /// <summary>
    /// The module of a layout component: ResnetBlock2D, Transformer2DModel (also for a TransformerBlock
    /// id's shell), BasicTransformerBlock (TransformerBlock ids), Downsample2D, Upsample2D; null when the
    /// unit is removed or the component has no module of its own (conv_in, time, head).
    /// </summary>
    public nn.Module? GetComponent(string componentId) => _byComponent.TryGetValue(componentId, out var m) ? m : null;

    /// <summary>time_proj: sinusoidal embedding of the timestep(s) [B] / [1] / scalar, broadcast to [batch, C0], float32.</summary>
    public Tensor ProjectTime(Tensor timestep, long batch)
    {
        using var scope = NewDisposeScope();
        var ts = timestep.dim() == 0 ? timestep.reshape(1) : timestep;            // [N]
        if (ts.dim() != 1) throw new ArgumentException($"timestep must be a scalar or [B], got [{string.Join(",", timestep.shape)}]", nameof(timestep));
        if (ts.shape[0] != batch)
        {
            if (ts.shape[0] != 1) throw new ArgumentException($"timestep has {ts.shape[0]} entries for a batch of {batch}", nameof(timestep));
            ts = ts.expand(batch);                                                // [B]
        }
        return time_proj.forward(ts).MoveToOuterDisposeScope();                   // [B,C0]
    }

    /// <summary>time_embedding(time_proj(t)): [batch, T] (without the addition embedding).</summary>
    public Tensor EmbedTime(Tensor timestep, long batch)
    {
        using var scope = NewDisposeScope();
        var proj = ProjectTime(timestep, batch).to_type(conv_in.weight!.dtype);   // diffusers casts to the model dtype
        return time_embedding.forward(proj).MoveToOuterDisposeScope();            // [B,T]
    }

    /// <summary>SDXL text_time: add_embedding(cat(text_embeds [B,P], add_time_proj(time_ids [B,n]) as [B, n*D])): [B,T].</summary>
    public Tensor EmbedAddition(Tensor textEmbeds, Tensor timeIds)
    {
        if (add_embedding == null || add_time_proj == null)
            throw new InvalidOperationException("this model has no addition embedding");
        using var scope = NewDisposeScope();
        long b = textEmbeds.shape[0];
        var timeEmbeds = add_time_proj.forward(timeIds.flatten()).reshape(b, -1); // [B*n,D] -> [B,n*D]
        var addEmbeds = cat(new[] { textEmbeds, timeEmbeds.to_type(textEmbeds.dtype) }, -1).to_type(conv_in.weight!.dtype); // [B,P+n*D]
        return add_embedding.forward(addEmbeds).MoveToOuterDisposeScope();        // [B,T]
    }

    internal Tensor ConvIn(Tensor sample) => Ops.Conv2d(conv_in, sample);         // [B,C0,H,W]

    internal Tensor Head(Tensor h)
    {
        using var scope = NewDisposeScope();
        return Ops.Conv2d(conv_out, Ops.SiluOwned(conv_norm_out.forward(h))).MoveToOuterDisposeScope();   // [B,Cout,H,W]
    }

    private UNetStage BuildStage(StageId stage, IEnumerable<LayoutComponent> components, HashSet<string> removed)
    {
        var spec = Layout.Spec;
        var resnets = new List<(int, ResnetBlock2D)>();
        var attentions = new List<(int, Transformer2DModel)>();
        bool hasAttentions = false;
        Downsample2D? down = null;
        Upsample2D? up = null;
        foreach (var c in components)
        {
            switch (c.Kind)
            {
                case ComponentKind.Resnet when !removed.Contains(c.Id):
                {
                    var block = new ResnetBlock2D(c.InChannels + c.SkipChannels, c.OutChannels, spec.TimeEmbeddingDim, spec.Norm.Groups, spec.Norm.Eps);
                    resnets.Add((c.Layer, block));
                    _byComponent[c.Id] = block;
                    break;
                }
                case ComponentKind.Transformer:
                {
                    hasAttentions = true;
                    if (removed.Contains(c.Id)) break;
                    var present = Enumerable.Range(0, c.Depth).Where(k => !removed.Contains($"{c.Id}.transformer_blocks.{k}"));
                    var block = new Transformer2DModel(c.OutChannels, c.Heads, c.Depth, present, spec.CrossAttentionDim,
                        spec.Norm.Groups, spec.Norm, spec.Projection);
                    attentions.Add((c.Layer, block));
                    _byComponent[c.Id] = block;
                    foreach (var (k, b) in block.TransformerBlocks) _byComponent[$"{c.Id}.transformer_blocks.{k}"] = b;
                    break;
                }
                case ComponentKind.Downsampler:
                    _byComponent[c.Id] = down = new Downsample2D(c.OutChannels);
                    break;
                case ComponentKind.Upsampler:
                    _byComponent[c.Id] = up = new Upsample2D(c.OutChannels);
                    break;
            }
        }
        return new UNetStage(stage.DiffusersName, hasAttentions, down, up, resnets, attentions);
    }
}
