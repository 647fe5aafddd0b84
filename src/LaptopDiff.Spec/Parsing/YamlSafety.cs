using System;
using System.IO;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace LaptopDiff.Spec
{
    /// <summary>
    /// Checks for <see cref="YamlDocument"/>, run on YamlDotNet's iterative event
    /// parser before (or instead of) its recursive node loader.
    /// </summary>
    internal static class YamlSafety
    {
        /// <summary>
        /// Where nesting first goes deeper than <paramref name="maxDepth"/>, or null. YamlDotNet builds its
        /// node tree recursively, so a line of 200,000 '[' overflows the stack, which no catch survives (it
        /// would take the compiler down with it); the event parser is iterative and safe to run first.
        /// </summary>
        public static SourceSpan? TooDeep(string text, int maxDepth)
        {
            try
            {
                var parser = new Parser(new StringReader(text));
                int depth = 0;
                while (parser.MoveNext())
                {
                    var e = parser.Current;
                    if (e is MappingStart || e is SequenceStart)
                    {
                        if (++depth > maxDepth) return SpanOf(e);
                    }
                    else if (e is MappingEnd || e is SequenceEnd) depth--;
                }
            }
            catch (Exception e) when (e is YamlException || e is InvalidOperationException || e is ArgumentException)
            {
                // malformed: the full load reports it with its position
            }
            return null;
        }

        /// <summary>Where parsing last succeeded, for errors YamlDotNet reports without a position.</summary>
        public static SourceSpan LastGoodPosition(string text)
        {
            var span = new SourceSpan(1, 1, 1, 1);
            try
            {
                var parser = new Parser(new StringReader(text));
                while (parser.MoveNext())
                    if (parser.Current is ParsingEvent e) span = SpanOf(e);
            }
            catch (Exception e) when (e is YamlException || e is InvalidOperationException || e is ArgumentException)
            {
                // the last event that parsed is the answer
            }
            return span;
        }

        /// <summary>YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (...): "; the span carries the position.</summary>
        public static string CleanMessage(string message)
        {
            int i = message.LastIndexOf("): ", StringComparison.Ordinal);
            return i >= 0 && message.StartsWith("(", StringComparison.Ordinal) ? message.Substring(i + 3) : message;
        }

        private static SourceSpan SpanOf(ParsingEvent e) =>
            new SourceSpan((int)e.Start.Line, (int)e.Start.Column, (int)e.End.Line, (int)e.End.Column);
    }
}
