using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace LaptopDiff.Runtime.Backends;

/// <summary>
/// Where an x86-64 ELF shared library keeps the address of a function it calls through its PLT: the <c>.got.plt</c>
/// slot of that symbol's <c>R_X86_64_JUMP_SLOT</c> relocation, as an offset from the library's load address. This is
/// the slot <c>LD_PRELOAD</c> interposition fills; writing it redirects the library's own calls to that function.
/// </summary>
internal readonly record struct ElfImportSlot(long Offset, bool ReadOnlyAfterLoad)
{
    private const ushort MachineX86_64 = 62;
    private const uint JumpSlot = 7;                 // R_X86_64_JUMP_SLOT
    private const uint GnuRelro = 0x6474e552;        // PT_GNU_RELRO: remapped read-only once relocated

    /// <summary>The slot of <paramref name="symbol"/> in the library file at <paramref name="path"/>; null when the
    /// file is no 64-bit little-endian x86-64 ELF or calls no such symbol through its PLT.</summary>
    public static ElfImportSlot? Find(string path, string symbol)
    {
        using var file = File.OpenHandle(path);
        var header = Read(file, 0, 64);
        if (!header.AsSpan(0, 4).SequenceEqual((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F'])
            || header[4] != 2 || header[5] != 1 || U16(header, 0x12) != MachineX86_64) return null;

        var sections = Read(file, (long)U64(header, 0x28), U16(header, 0x3A) * U16(header, 0x3C));
        int sectionSize = U16(header, 0x3A);
        var names = SectionBytes(file, sections, sectionSize, U16(header, 0x3E));
        byte[]? relocations = null;
        int symbolsIndex = -1;
        for (int i = 0; i * sectionSize < sections.Length; i++)
        {
            var name = CString(names, (int)U32(sections, i * sectionSize));
            if (name != ".rela.plt") continue;
            relocations = SectionBytes(file, sections, sectionSize, i);
            symbolsIndex = (int)U32(sections, i * sectionSize + 40);   // sh_link: the symbol table it indexes
            break;
        }
        if (relocations is null) return null;
        var symbols = SectionBytes(file, sections, sectionSize, symbolsIndex);
        var strings = SectionBytes(file, sections, sectionSize, (int)U32(sections, symbolsIndex * sectionSize + 40));

        var wanted = Encoding.ASCII.GetBytes(symbol + "\0");
        for (int r = 0; r + 24 <= relocations.Length; r += 24)
        {
            ulong info = U64(relocations, r + 8);
            if ((uint)info != JumpSlot) continue;
            int nameOffset = (int)U32(symbols, (int)(info >> 32) * 24);
            if (!strings.AsSpan(nameOffset).StartsWith(wanted)) continue;
            long offset = (long)U64(relocations, r);
            return new ElfImportSlot(offset, InRelro(file, header, offset));
        }
        return null;
    }

    private static bool InRelro(SafeFileHandle file, byte[] header, long address)
    {
        int entrySize = U16(header, 0x36);
        var segments = Read(file, (long)U64(header, 0x20), entrySize * U16(header, 0x38));
        for (int p = 0; p + entrySize <= segments.Length; p += entrySize)
        {
            if (U32(segments, p) != GnuRelro) continue;
            long start = (long)U64(segments, p + 16), size = (long)U64(segments, p + 40);
            if (address >= start && address < start + size) return true;
        }
        return false;
    }

    private static byte[] SectionBytes(SafeFileHandle file, byte[] sections, int sectionSize, int index) =>
        Read(file, (long)U64(sections, index * sectionSize + 24), checked((int)U64(sections, index * sectionSize + 32)));

    private static byte[] Read(SafeFileHandle file, long offset, int count)
    {
        var bytes = new byte[count];
        for (int done = 0; done < count;)
        {
            int n = RandomAccess.Read(file, bytes.AsSpan(done), offset + done);
            if (n == 0) throw new EndOfStreamException($"ELF file ends inside a table at byte {offset + done}");
            done += n;
        }
        return bytes;
    }

    private static string CString(byte[] bytes, int offset) =>
        Encoding.ASCII.GetString(bytes, offset, Array.IndexOf(bytes, (byte)0, offset) - offset);

    private static ushort U16(byte[] b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at));
    private static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
    private static ulong U64(byte[] b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));
}
