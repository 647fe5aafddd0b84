namespace LaptopDiff.Runtime.Pipelines;

/// <summary>
/// A prompt cut to the tokenizer's length, as diffusers warns about it: <paramref name="RemovedText"/> is the decoded
/// text of the dropped tokens. SDXL reports once per tokenizer (<c>tokenizer</c>, <c>tokenizer_2</c>).
/// </summary>
/// <param name="PromptIndex">Which prompt of the batch.</param>
/// <param name="Tokenizer">The component name of the tokenizer that cut it.</param>
/// <param name="MaxTokens">The tokenizer's length (77), start and end tokens included.</param>
/// <param name="TokenCount">The prompt's ids before the cut, start and end tokens included.</param>
public sealed record PromptTruncation(int PromptIndex, string Tokenizer, int MaxTokens, int TokenCount, string RemovedText);
