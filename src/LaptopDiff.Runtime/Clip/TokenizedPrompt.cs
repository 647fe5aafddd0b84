namespace LaptopDiff.Runtime.Clip;

/// <summary>
/// A prompt's ids as a pipeline feeds them: start token, BPE ids, end token, cut to the tokenizer's maximum
/// length with the end token kept. <paramref name="UntruncatedLength"/> counts the ids before the cut, start
/// and end included, so <c>Truncated</c> says whether words were dropped; <paramref name="RemovedIds"/> are the
/// dropped BPE ids (diffusers decodes them for its truncation warning), empty when nothing was cut.
/// </summary>
public sealed record TokenizedPrompt(int[] Ids, bool Truncated, int UntruncatedLength, int[] RemovedIds);
