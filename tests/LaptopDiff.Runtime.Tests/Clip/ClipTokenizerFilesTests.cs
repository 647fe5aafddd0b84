using LaptopDiff.Runtime.Clip;
using LaptopDiff.Runtime.Inputs;

namespace LaptopDiff.Runtime.Tests.Clip;

/// <summary>Missing, truncated and mismatched tokenizer files are input errors that name the file and line.</summary>
public sealed class ClipTokenizerFilesTests : IDisposable
{
    private static readonly string Source = ClipFixtures.Folder("tiny-sd15-pipe/tokenizer");
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("clip-tokenizer-");

    public ClipTokenizerFilesTests()
    {
        foreach (var file in Directory.GetFiles(Source)) File.Copy(file, Path.Combine(_folder.FullName, Path.GetFileName(file)));
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_folder.FullName, name);

    private InputException LoadFails() => Assert.Throws<InputException>(() => ClipTokenizer.Load(_folder.FullName));

    [Fact]
    public void Missing_merges_names_the_file()
    {
        File.Delete(PathOf("merges.txt"));
        Assert.Contains("has no merges.txt", LoadFails().Message);
    }

    [Fact]
    public void Merges_cut_inside_a_line_names_that_line()
    {
        var lines = File.ReadAllLines(PathOf("merges.txt")).Take(1001).ToList();
        lines[^1] = lines[^1].Split(' ')[0];                                     // line 1001 lost its second symbol
        File.WriteAllText(PathOf("merges.txt"), string.Join("\n", lines));
        var message = LoadFails().Message;
        Assert.Contains("merges.txt' line 1001", message);
        Assert.Contains("not a merge", message);
    }

    [Fact]
    public void Merges_cut_at_a_line_end_are_found_by_the_tokens_no_merge_produces()
    {
        File.WriteAllLines(PathOf("merges.txt"), File.ReadAllLines(PathOf("merges.txt")).Take(40001));
        var message = LoadFails().Message;
        Assert.Contains("ends at line 40001 with 40000 merges", message);
        Assert.Contains("8894 tokens of vocab.json", message);                 // 48,894 merges in the full file
        Assert.Contains("truncated", message);
    }

    [Fact]
    public void Truncated_vocabulary_names_the_line()
    {
        var text = File.ReadAllText(PathOf("vocab.json"));
        File.WriteAllText(PathOf("vocab.json"), text[..(text.Length / 2)]);
        var message = LoadFails().Message;
        Assert.Contains("vocab.json", message);
        Assert.Contains("at line 1", message);
    }

    [Fact]
    public void Invalid_utf8_names_the_line()
    {
        var bytes = File.ReadAllBytes(PathOf("merges.txt")).ToList();
        int lineFiveStart = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == (byte)'\n').ElementAt(3) + 1;
        bytes.Insert(lineFiveStart, 0xff);
        File.WriteAllBytes(PathOf("merges.txt"), bytes.ToArray());
        Assert.Contains("merges.txt' line 5 is not valid UTF-8", LoadFails().Message);
    }

    [Fact]
    public void Pad_token_outside_the_vocabulary_is_named()
    {
        File.WriteAllText(PathOf("special_tokens_map.json"), "{\"pad_token\": \"<|pad|>\"}");
        Assert.Contains("pad_token '<|pad|>' is not a token of vocab.json", LoadFails().Message);
    }
}
