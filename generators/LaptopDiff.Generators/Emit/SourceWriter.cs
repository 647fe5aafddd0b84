using System.Text;

namespace LaptopDiff.Generators.Emit
{
    /// <summary>An indented line writer for generated C# (four spaces a level, '\n' line ends).</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _text = new StringBuilder();
        private int _indent;

        public SourceWriter Line(string line = "")
        {
            if (line.Length > 0) _text.Append(' ', 4 * _indent).Append(line);
            _text.Append('\n');
            return this;
        }

        /// <summary>Writes the header line (if any) and '{', then indents.</summary>
        public SourceWriter Open(string? header = null)
        {
            if (header != null) Line(header);
            Line("{");
            _indent++;
            return this;
        }

        public SourceWriter Close(string line = "}")
        {
            _indent--;
            return Line(line);
        }

        /// <summary>One level deeper without a brace (continued argument lists).</summary>
        public SourceWriter Indent()
        {
            _indent++;
            return this;
        }

        public SourceWriter Outdent()
        {
            _indent--;
            return this;
        }

        public override string ToString() => _text.ToString();
    }
}
