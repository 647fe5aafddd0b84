using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using LaptopDiff.Runtime.Weights;
using LaptopDiff.Spec;

namespace LaptopDiff.Cli.Commands.Prune;

/// <summary>
/// The student's initial weights: the teacher's tensors minus the removed units' keys, under the same
/// names, in the teacher's order and dtype. Copied byte for byte from the teacher's file in chunks (no
/// model is built and no tensor is materialised), written atomically.
/// </summary>
internal static class StudentWeights
{
    private const int ChunkBytes = 4 << 20;

    /// <summary>Checks the teacher file against the full model's keys (names and shapes) before anything is written.</summary>
    public static SafetensorsHeader CheckTeacher(string teacherPath, UNetLayout baseLayout)
    {
        var header = SafetensorsFile.ReadHeader(teacherPath);
        WeightLoader.CheckAgainstKeys(baseLayout.LiveKeys, header).ThrowIfMismatched();
        return header;
    }

    /// <summary>The teacher's entries the student keeps: exactly the pruned layout's live keys.</summary>
    public static IReadOnlyList<SafetensorsEntry> Kept(SafetensorsHeader teacher, UNetLayout prunedLayout)
    {
        var live = new HashSet<string>(prunedLayout.LiveKeys.Select(k => k.Name), StringComparer.Ordinal);
        var kept = teacher.Entries.Where(e => live.Contains(e.Name)).ToList();
        if (kept.Count != live.Count)
            throw new WeightsException($"'{teacher.Path}' lacks {live.Count - kept.Count} of the student's tensors; it does not hold {prunedLayout.Spec.Name}'s teacher.");
        return kept;
    }

    public static void Write(string path, SafetensorsHeader teacher, IReadOnlyList<SafetensorsEntry> kept, IReadOnlyDictionary<string, string> extraMetadata)
    {
        var header = BuildHeader(teacher, kept, extraMetadata);
        try
        {
            using var source = new FileStream(teacher.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            AtomicFile.Write(path, stream =>
            {
                stream.Write(header);
                var buffer = new byte[ChunkBytes];
                foreach (var entry in kept)
                {
                    source.Position = teacher.DataStart + entry.Begin;
                    long left = entry.ByteLength;
                    while (left > 0)
                    {
                        int n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                        if (n <= 0) throw new WeightsException($"'{teacher.Path}' ended inside tensor '{entry.Name}'; the file is truncated.");
                        stream.Write(buffer, 0, n);
                        left -= n;
                    }
                }
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightsException($"cannot write student weights '{path}': {e.Message} Check that the folder exists and is writable.", e);
        }
    }

    private static byte[] BuildHeader(SafetensorsHeader teacher, IReadOnlyList<SafetensorsEntry> kept, IReadOnlyDictionary<string, string> extraMetadata)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in teacher.Metadata) metadata[k] = v;
            foreach (var (k, v) in extraMetadata) metadata[k] = v;
            if (metadata.Count > 0)
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) writer.WriteString(k, v);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in kept)
            {
                writer.WriteStartObject(e.Name);
                writer.WriteString("dtype", SafetensorsDType.NameOf(e.DType));
                writer.WriteStartArray("shape");
                foreach (var d in e.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + e.ByteLength);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += e.ByteLength;
            }
            writer.WriteEndObject();
        }
        int padded = (int)((json.Length + 7) / 8 * 8);
        var header = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(header.AsSpan(8));
        header.AsSpan(8 + (int)json.Length).Fill((byte)' ');
        return header;
    }
}
