using System.Buffers.Binary;
using System.Text;

namespace LaptopDiff.Runtime.Tests.Weights;

/// <summary>Writes hand-made (usually broken) safetensors files byte by byte.</summary>
internal static class RawSafetensors
{
    public static string Write(string path, string headerJson, int dataBytes, ulong? lengthField = null) =>
        Write(path, Encoding.UTF8.GetBytes(headerJson), dataBytes, lengthField);

    public static string Write(string path, byte[] json, int dataBytes, ulong? lengthField = null)
    {
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, lengthField ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        for (int i = 0; i < dataBytes; i++) bytes[8 + json.Length + i] = (byte)i;
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
