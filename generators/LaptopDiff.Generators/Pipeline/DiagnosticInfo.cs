using System;
using LaptopDiff.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace LaptopDiff.Generators.Pipeline
{
    /// <summary>
    /// A diagnostic as plain values (equatable, cache-friendly); the Roslyn <see cref="Diagnostic"/> and
    /// its <see cref="Location"/> in the YAML file are made only when reporting.
    /// </summary>
    internal sealed record DiagnosticInfo(string Id, string Message, string Path, TextSpan Span, LinePositionSpan Lines)
    {
        public Diagnostic ToDiagnostic() =>
            Diagnostic.Create(DiagnosticDescriptors.For(Id), Location.Create(Path, Span, Lines), Message);

        /// <summary>Places a spec diagnostic (1-based line and column) in its file; unknown positions go to 1,1.</summary>
        public static DiagnosticInfo From(SpecDiagnostic d, LineMap lines)
        {
            var s = d.Span;
            if (!s.IsKnown) return new DiagnosticInfo(d.Id, d.Message, d.Path, default, default);
            var start = new LinePosition(s.Line - 1, Math.Max(0, s.Column - 1));
            var end = s.EndLine > 0 ? new LinePosition(s.EndLine - 1, Math.Max(0, s.EndColumn - 1)) : start;
            if (end < start) end = start;
            int from = lines.Offset(start), to = lines.Offset(end);
            return new DiagnosticInfo(d.Id, d.Message, d.Path, TextSpan.FromBounds(from, Math.Max(from, to)), new LinePositionSpan(start, end));
        }

        /// <summary>An unexpected exception in a step, reported instead of failing the build's generators.</summary>
        public static DiagnosticInfo Internal(string path, string step, Exception e) =>
            new DiagnosticInfo(SpecDiagnosticIds.InternalError,
                $"the LaptopDiff generator failed in its {step} step on {System.IO.Path.GetFileName(path)}: {e.GetType().Name}: {e.Message} " +
                "(a bug in LaptopDiff; please report it with this spec file)",
                path, default, default);
    }

    /// <summary>Start offsets of a file's lines, to turn YAML line/column positions into text spans.</summary>
    internal sealed record LineMap(EquatableArray<int> LineStarts, int Length)
    {
        public static readonly LineMap Empty = new LineMap(EquatableArray<int>.Empty, 0);

        public static LineMap Of(SourceText text)
        {
            var starts = new int[text.Lines.Count];
            for (int i = 0; i < starts.Length; i++) starts[i] = text.Lines[i].Start;
            return new LineMap(new EquatableArray<int>(starts), text.Length);
        }

        /// <summary>The offset of a position, clamped into the text (YAML positions can point past the end).</summary>
        public int Offset(LinePosition p)
        {
            if (LineStarts.Count == 0) return 0;
            int line = Math.Min(p.Line, LineStarts.Count - 1);
            int lineEnd = line + 1 < LineStarts.Count ? LineStarts[line + 1] : Length;
            return Math.Min(LineStarts[line] + p.Character, lineEnd);
        }
    }
}
