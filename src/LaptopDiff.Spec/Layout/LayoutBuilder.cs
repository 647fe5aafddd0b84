using System.Collections.Generic;
using System.Linq;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Expands a <see cref="UNetSpec"/> the way diffusers' <c>UNet2DConditionModel</c> builds and runs it: walks the
    /// stem, the down stages, the mid block, the up stages and the head, tracking hidden and skip channels, and
    /// records each component (its typed stage, channels, prunability) and each step of the forward (which
    /// component it runs, which steps push and pop skips, which end a stage). This is the one place the U-Net's
    /// structure is described; the runtime's modules and execution plan, and the generated classes, follow it.
    /// </summary>
    public static class LayoutBuilder
    {
        public static (UNetLayout? Layout, EquatableArray<SpecDiagnostic> Diagnostics) Build(UNetSpec spec, string path)
        {
            var b = new Builder(spec, path);
            b.Run();
            return (b.Diagnostics.Count == 0 ? UNetLayout.Create(spec, b.Components, b.Steps) : null, b.Diagnostics.ToEquatableArray());
        }

        /// <summary>The layout, or a <see cref="SpecException"/> listing every problem.</summary>
        public static UNetLayout BuildOrThrow(UNetSpec spec, string path)
        {
            var (layout, diagnostics) = Build(spec, path);
            if (layout == null) throw new SpecException(diagnostics);
            return layout;
        }

        private sealed class Builder
        {
            private readonly UNetSpec _spec;
            private readonly string _path;
            private readonly HashSet<string> _pinned;
            private readonly Stack<int> _skips = new Stack<int>();   // channels of each pushed skip
            private int _h;                                            // channels of the hidden state
            public readonly List<LayoutComponent> Components = new List<LayoutComponent>();
            public readonly List<LayoutStep> Steps = new List<LayoutStep>();
            public readonly List<SpecDiagnostic> Diagnostics = new List<SpecDiagnostic>();

            public Builder(UNetSpec spec, string path)
            {
                _spec = spec;
                _path = path;
                _pinned = new HashSet<string>(spec.Pinned);
            }

            public void Run()
            {
                if (_spec.Down.Count == 0)
                {
                    Error(SpecDiagnosticIds.MissingKey, default, "the spec needs at least one down stage");
                    return;
                }
                int c0 = _spec.Down[0].Channels;
                int t = _spec.TimeEmbeddingDim;
                bool anyAttention = _spec.Down.Concat(_spec.Up).Any(s => s.Kind == BlockKind.CrossAttn) || _spec.Mid.Kind == MidKind.CrossAttn;
                if (anyAttention && _spec.CrossAttentionDim <= 0)
                    Error(SpecDiagnosticIds.MissingKey, default, "stages with attention need 'cross_attention_dim'");

                // 1. time, 2. conv_in (its output is the first skip)
                Add(StepKind.TimeEmbedding, Structural("time_embedding", "TimeEmbedding", ComponentKind.TimeEmbedding, StageId.Stem, c0, t));
                if (_spec.AdditionEmbedding is AdditionEmbeddingSpec add)
                {
                    if (add.TimeEmbedDim % 2 != 0)
                        Error(SpecDiagnosticIds.InvalidValue, default, $"addition_embedding.time_embed_dim must be even, got {add.TimeEmbedDim}");
                    Add(StepKind.AdditionEmbedding, Structural("add_embedding", "AdditionEmbedding", ComponentKind.AdditionEmbedding, StageId.Stem, add.ProjectionInputDim, t));
                }
                Add(StepKind.ConvIn, Structural("conv_in", "ConvIn", ComponentKind.ConvIn, StageId.Stem, _spec.InChannels, c0));
                _h = c0;
                PushSkip();
                CheckGroups(c0, "conv_in output", default);

                // 3. down stages
                for (int i = 0; i < _spec.Down.Count; i++) Stage(StageId.Down(i), _spec.Down[i]);

                // 4. mid
                if (_spec.Mid.Kind != MidKind.None)
                {
                    var mid = _spec.Mid;
                    Resnet(StageId.Mid, 0, _h, mid.Source);
                    if (mid.Kind == MidKind.CrossAttn)
                    {
                        Transformer(StageId.Mid, 0, mid.Heads, mid.TransformerDepth, mid.Source);
                        Resnet(StageId.Mid, 1, _h, mid.Source);
                    }
                    EndStage();
                }

                // 5. up stages, each layer consuming one skip
                int consumed = _spec.Up.Sum(s => s.Layers);
                if (consumed != _skips.Count)
                    Error(SpecDiagnosticIds.SkipCountMismatch, _spec.Up.Count > 0 ? _spec.Up[0].Source : default,
                        $"the down path produces {_skips.Count} skip connections (conv_in, each down layer, each downsampler) but the up stages consume {consumed} (one per up layer); up stages usually have one layer more than the matching down stage");
                for (int i = 0; i < _spec.Up.Count; i++) Stage(StageId.Up(i), _spec.Up[i]);

                // 6. head
                CheckGroups(_h, "the output norm", default);
                Add(StepKind.OutputHead, Structural("conv_norm_out", "OutputHead", ComponentKind.OutputHead, StageId.Head, _h, _spec.OutChannels));
                CheckUnitLists();
            }

            /// <summary>
            /// A down or up stage (diffusers' (CrossAttn)DownBlock2D / UpBlock2D): per layer a ResNet, then its
            /// transformer when the stage has attention; then the resampler. Down layers and the downsampler push
            /// their output as a skip; up ResNets pop one and concatenate it.
            /// </summary>
            private void Stage(StageId stage, StageSpec s)
            {
                bool down = stage.Path == StagePath.Down;
                for (int j = 0; j < s.Layers; j++)
                {
                    Resnet(stage, j, s.Channels, s.Source);
                    if (s.Kind == BlockKind.CrossAttn) Transformer(stage, j, s.Heads, s.TransformerDepth[j], s.Source);
                    if (down) PushSkip();
                }
                if (s.Resample)
                {
                    var (kind, step, name) = down
                        ? (ComponentKind.Downsampler, StepKind.Downsample, "Downsampler")
                        : (ComponentKind.Upsampler, StepKind.Upsample, "Upsampler");
                    Add(step, Structural($"{stage.DiffusersName}.{name.ToLowerInvariant()}s.0", MemberPrefix(stage) + name, kind, stage, _h, _h));
                    if (down) PushSkip();
                }
                EndStage();
            }

            /// <summary>
            /// A ResNet from <see cref="_h"/> to <paramref name="outChannels"/> channels; in an up stage it consumes
            /// the top skip. It is prunable when identity keeps the channels (an up ResNet's skip is then dropped).
            /// </summary>
            private void Resnet(StageId stage, int layer, int outChannels, SourceSpan source)
            {
                bool up = stage.Path == StagePath.Up;
                int skip = up && _skips.Count > 0 ? _skips.Pop() : 0;
                var id = $"{stage.DiffusersName}.resnets.{layer}";
                CheckGroups(_h + skip, $"{id} input", source);
                CheckGroups(outChannels, $"{id} output", source);
                bool keepsChannels = _h == outChannels;
                var reason = !keepsChannels ? $"changes channels {_h} -> {outChannels}"
                    : up ? "identity keeps channels; its skip is dropped"
                    : "input and output channels are equal";
                Add(up ? StepKind.UpResnet : StepKind.Resnet, Unit(new LayoutComponent
                {
                    Id = id, MemberName = $"{MemberPrefix(stage)}Resnet{layer}", Kind = ComponentKind.Resnet, Stage = stage, Layer = layer,
                    InChannels = _h, SkipChannels = skip, OutChannels = outChannels,
                }, keepsChannels, reason));
                _h = outChannels;
            }

            /// <summary>A Transformer2DModel: one unit, or (transformer-block granularity) a shell entered and left around its blocks, each a unit.</summary>
            private void Transformer(StageId stage, int layer, int heads, int depth, SourceSpan source)
            {
                var id = $"{stage.DiffusersName}.attentions.{layer}";
                var member = $"{MemberPrefix(stage)}Attention{layer}";
                if (heads <= 0 || _h % heads != 0)
                    Error(SpecDiagnosticIds.HeadsDoNotDivide, source, $"{id}: {heads} heads do not divide {_h} channels");
                CheckGroups(_h, $"{id} norm", source);
                var transformer = new LayoutComponent
                {
                    Id = id, MemberName = member, Kind = ComponentKind.Transformer, Stage = stage, Layer = layer,
                    InChannels = _h, OutChannels = _h, Heads = heads, Depth = depth,
                };
                if (_spec.Granularity == PruneGranularity.Transformer)
                {
                    Add(StepKind.Transformer, Unit(transformer, true, "residual transformer"));
                    return;
                }
                int shell = Add(StepKind.TransformerEnter, transformer with { Reason = "transformer shell (norm, proj_in, proj_out); its blocks are the units" });
                for (int k = 0; k < depth; k++)
                {
                    Add(StepKind.TransformerBlock, Unit(new LayoutComponent
                    {
                        Id = $"{id}.transformer_blocks.{k}", MemberName = $"{member}Block{k}", Kind = ComponentKind.TransformerBlock,
                        Stage = stage, Layer = layer, BlockIndex = k, InChannels = _h, OutChannels = _h, Heads = heads,
                    }, true, "residual transformer block"));
                }
                Steps.Add(new LayoutStep(StepKind.TransformerExit, shell));
            }

            private static string MemberPrefix(StageId stage) => stage.Path switch
            {
                StagePath.Down => $"Down{stage.Index}",
                StagePath.Up => $"Up{stage.Index}",
                _ => "Mid",
            };

            /// <summary>Records a component and the step that runs it; returns the component's index.</summary>
            private int Add(StepKind step, LayoutComponent component)
            {
                Components.Add(component);
                Steps.Add(new LayoutStep(step, Components.Count - 1));
                return Components.Count - 1;
            }

            /// <summary>h after the last step is pushed on the skip stack.</summary>
            private void PushSkip()
            {
                Steps[Steps.Count - 1] = Steps[Steps.Count - 1] with { PushesSkip = true };
                _skips.Push(_h);
            }

            /// <summary>h after the last step is the stage's output feature.</summary>
            private void EndStage() => Steps[Steps.Count - 1] = Steps[Steps.Count - 1] with { EndsStage = true };

            private static LayoutComponent Structural(string id, string member, ComponentKind kind, StageId stage, int inChannels, int outChannels) =>
                new LayoutComponent
                {
                    Id = id, MemberName = member, Kind = kind, Stage = stage, InChannels = inChannels, OutChannels = outChannels, Reason = "structural",
                };

            private LayoutComponent Unit(LayoutComponent c, bool shapeOk, string reason)
            {
                bool pinned = _pinned.Contains(c.Id);
                return c with
                {
                    IsUnit = true,
                    Prunable = shapeOk && !pinned,
                    Reason = pinned ? "pinned in spec" : reason,
                };
            }

            private void CheckUnitLists()
            {
                var byId = Components.ToDictionary(c => c.Id);
                foreach (var id in _spec.Pinned)
                    if (!byId.TryGetValue(id, out var c) || !c.IsUnit)
                        Error(SpecDiagnosticIds.UnknownUnit, Mention("pinned", id), $"pinned unit '{id}' is not a unit of this model; units are ids such as {Example()}");
                foreach (var id in _spec.Removed)
                {
                    if (!byId.TryGetValue(id, out var c) || !c.IsUnit)
                        Error(SpecDiagnosticIds.UnknownUnit, Mention("removed", id), $"removed unit '{id}' is not a unit of this model; units are ids such as {Example()}");
                    else if (!c.Prunable)
                        Error(SpecDiagnosticIds.NotPrunable, Mention("removed", id), $"removed unit '{id}' is not prunable: {c.Reason}");
                }
            }

            private SourceSpan Mention(string list, string id) =>
                _spec.UnitMentions.FirstOrDefault(m => m.List == list && m.Id == id).Span;

            private string Example() => string.Join(", ", Components.Where(c => c.IsUnit).Take(3).Select(c => c.Id));

            private void CheckGroups(int channels, string what, SourceSpan source)
            {
                if (channels % _spec.Norm.Groups != 0)
                    Error(SpecDiagnosticIds.InconsistentChannels, source,
                        $"{what} has {channels} channels, not divisible by norm.groups = {_spec.Norm.Groups}");
            }

            private void Error(string id, SourceSpan span, string message)
            {
                var d = new SpecDiagnostic(id, message, _path, span);
                if (!Diagnostics.Contains(d)) Diagnostics.Add(d);
            }
        }
    }
}
