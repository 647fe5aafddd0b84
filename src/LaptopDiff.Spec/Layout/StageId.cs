using System;
using System.Globalization;

namespace LaptopDiff.Spec
{
    /// <summary>The parts of diffusers' <c>UNet2DConditionModel</c>, in execution order.</summary>
    public enum StagePath
    {
        /// <summary>Time (and SDXL addition) embeddings and <c>conv_in</c>.</summary>
        Stem,
        Down,
        Mid,
        Up,
        /// <summary><c>conv_norm_out</c> and <c>conv_out</c>.</summary>
        Head,
    }

    /// <summary>
    /// The stage a component belongs to: <see cref="Stem"/>, down stage i, <see cref="Mid"/>, up stage i or
    /// <see cref="Head"/>. Its <see cref="Label"/> (<c>down.1</c>, <c>mid</c>) names the stage's feature in
    /// distillation logs and forward outputs; <see cref="DiffusersName"/> is the module's state-dict prefix.
    /// </summary>
    /// <param name="Index">The stage within its path (0 for the stem, mid and head).</param>
    public readonly record struct StageId(StagePath Path, int Index)
    {
        public static StageId Stem => new StageId(StagePath.Stem, 0);
        public static StageId Mid => new StageId(StagePath.Mid, 0);
        public static StageId Head => new StageId(StagePath.Head, 0);
        public static StageId Down(int index) => new StageId(StagePath.Down, index);
        public static StageId Up(int index) => new StageId(StagePath.Up, index);

        /// <summary>Down, mid and up stages: their end output is a distillation feature.</summary>
        public bool IsBlock => Path == StagePath.Down || Path == StagePath.Mid || Path == StagePath.Up;

        /// <summary><c>stem</c>, <c>down.0</c>, <c>mid</c>, <c>up.2</c> or <c>head</c>.</summary>
        public string Label => Path switch
        {
            StagePath.Down => "down." + Index.ToString(CultureInfo.InvariantCulture),
            StagePath.Up => "up." + Index.ToString(CultureInfo.InvariantCulture),
            StagePath.Mid => "mid",
            StagePath.Stem => "stem",
            _ => "head",
        };

        /// <summary>The stage module's key prefix: <c>down_blocks.1</c>, <c>mid_block</c>, <c>up_blocks.0</c>.</summary>
        /// <exception cref="InvalidOperationException">The stem and the head are not one module.</exception>
        public string DiffusersName => Path switch
        {
            StagePath.Down => "down_blocks." + Index.ToString(CultureInfo.InvariantCulture),
            StagePath.Up => "up_blocks." + Index.ToString(CultureInfo.InvariantCulture),
            StagePath.Mid => "mid_block",
            _ => throw new InvalidOperationException($"the {Label} is not a stage module"),
        };

        /// <summary>The stage of a <see cref="Label"/>, e.g. a feature key read from a log.</summary>
        /// <exception cref="ArgumentException"><paramref name="label"/> is not a label.</exception>
        public static StageId Parse(string label)
        {
            switch (label)
            {
                case "stem": return Stem;
                case "mid": return Mid;
                case "head": return Head;
            }
            int dot = label.IndexOf('.');
            if (dot > 0 && int.TryParse(label.Substring(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                var path = label.Substring(0, dot);
                if (path == "down") return Down(index);
                if (path == "up") return Up(index);
            }
            throw new ArgumentException($"'{label}' is not a stage; stages are stem, down.N, mid, up.N and head", nameof(label));
        }

        public override string ToString() => Label;
    }
}
