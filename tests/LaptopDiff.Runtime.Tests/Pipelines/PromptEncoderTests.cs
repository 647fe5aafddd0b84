using LaptopDiff.Runtime.Pipelines;
using LaptopDiff.Runtime.Tests.Clip;
using static TorchSharp.torch;

namespace LaptopDiff.Runtime.Tests.Pipelines;

/// <summary>
/// Prompt conditioning against the fixtures' text encoder tensors (first three prompts): SD conditions on the last
/// hidden state; SDXL on both encoders' penultimate states concatenated, plus text_encoder_2's pooled projection.
/// </summary>
public sealed class PromptEncoderTests(LoadedPipelines pipelines) : IClassFixture<LoadedPipelines>
{
    private static IReadOnlyList<string> FirstPrompts(string folder) => ClipFixtures.Prompts(folder + ".io.json").Take(3).ToList();

    [Fact]
    public void Sd15_conditions_on_the_last_hidden_state()
    {
        var io = ClipFixtures.Tensors(PipelineFixtures.Sd15 + ".io.safetensors");
        using var embeddings = pipelines[PipelineFixtures.Sd15].Prompts.Encode(FirstPrompts(PipelineFixtures.Sd15));

        Assert.InRange(ClipFixtures.RelativeL2(embeddings.PromptEmbeds, io["te.last_hidden_state"]), 0, 1e-5);
        Assert.Null(embeddings.PooledPromptEmbeds);
        Assert.Empty(embeddings.Truncations);
    }

    [Fact]
    public void Sd15_clip_skip_1_is_the_penultimate_state_through_the_final_layer_norm()
    {
        var io = ClipFixtures.Tensors(PipelineFixtures.Sd15 + ".io.safetensors");
        var prompts = pipelines[PipelineFixtures.Sd15].Prompts;
        using var skipped = prompts.Encode(FirstPrompts(PipelineFixtures.Sd15), clipSkip: 1);
        using var expected = prompts.TextEncoders[0].FinalLayerNorm(io["te.penultimate"]);

        Assert.InRange(ClipFixtures.RelativeL2(skipped.PromptEmbeds, expected), 0, 1e-5);
    }

    [Fact]
    public void Sdxl_conditions_on_both_penultimate_states_and_the_pooled_projection()
    {
        var io = ClipFixtures.Tensors(PipelineFixtures.Sdxl + ".io.safetensors");
        using var embeddings = pipelines[PipelineFixtures.Sdxl].Prompts.Encode(FirstPrompts(PipelineFixtures.Sdxl));
        using var expected = cat([io["te.penultimate"], io["te2.penultimate"]], -1);            // [3,77,32+48]

        Assert.Equal(new long[] { 3, 77, 80 }, embeddings.PromptEmbeds.shape);
        Assert.InRange(ClipFixtures.RelativeL2(embeddings.PromptEmbeds, expected), 0, 1e-5);
        Assert.InRange(ClipFixtures.RelativeL2(embeddings.PooledPromptEmbeds!, io["te2.text_embeds"]), 0, 1e-5);
    }

    [Fact]
    public void Sdxl_without_a_negative_prompt_guides_against_zeros()
    {
        var prompts = pipelines[PipelineFixtures.Sdxl].Prompts;
        Assert.True(prompts.ForceZerosForEmptyPrompt);
        using var conditional = prompts.Encode(["a red fox", "a lighthouse"]);
        using var negative = prompts.EncodeNegative(null, conditional);

        Assert.Equal(conditional.PromptEmbeds.shape, negative.PromptEmbeds.shape);
        Assert.Equal(0.0, negative.PromptEmbeds.abs().max().item<float>());
        Assert.Equal(0.0, negative.PooledPromptEmbeds!.abs().max().item<float>());
    }

    [Fact]
    public void A_negative_prompt_is_encoded_without_clip_skip_and_repeated_for_the_batch()
    {
        var prompts = pipelines[PipelineFixtures.Sd15].Prompts;
        using var conditional = prompts.Encode(["a red fox", "a lighthouse"], clipSkip: 1);
        using var negative = prompts.EncodeNegative("blurry", conditional);
        using var alone = prompts.Encode(["blurry"]);                   // last hidden state: no clip skip

        Assert.Equal(new long[] { 2, 77, 32 }, negative.PromptEmbeds.shape);
        Assert.Equal(0.0, ClipFixtures.MaxAbs(negative.PromptEmbeds[0], alone.PromptEmbeds[0]));
        Assert.Equal(0.0, ClipFixtures.MaxAbs(negative.PromptEmbeds[1], alone.PromptEmbeds[0]));
    }

    [Fact]
    public void Sd15_without_a_negative_prompt_guides_against_the_empty_prompt()
    {
        var prompts = pipelines[PipelineFixtures.Sd15].Prompts;
        Assert.False(prompts.ForceZerosForEmptyPrompt);
        using var conditional = prompts.Encode(["a red fox"]);
        using var negative = prompts.EncodeNegative(null, conditional);
        using var empty = prompts.Encode([""]);

        Assert.Equal(0.0, ClipFixtures.MaxAbs(negative.PromptEmbeds, empty.PromptEmbeds));
    }

    [Fact]
    public void A_long_prompt_is_cut_and_reports_the_removed_words_per_tokenizer()
    {
        // prompt 9: "a very long prompt" + 30 x "wordK with more descriptive text". CLIP splits digits and BPE splits
        // "descriptive" in two, so a block is 7 ids below K = 10 and 8 from there (word, 1, 2, with, more, descrip, tive, text);
        // the 75 body ids kept end with block 10's "word".
        var prompt = ClipFixtures.Prompts(PipelineFixtures.Sdxl + ".io.json")[9];
        using var embeddings = pipelines[PipelineFixtures.Sdxl].Prompts.Encode(["a cat", prompt]);

        Assert.Equal(["tokenizer", "tokenizer_2"], embeddings.Truncations.Select(t => t.Tokenizer));
        var truncation = embeddings.Truncations[0];
        Assert.Equal(1, truncation.PromptIndex);
        Assert.Equal(77, truncation.MaxTokens);
        Assert.Equal(2 + 4 + 10 * 7 + 20 * 8, truncation.TokenCount);
        var blocks = Enumerable.Range(11, 19).Select(k => $"word {k / 10} {k % 10} with more descriptive text");
        Assert.Equal("1 0 with more descriptive text " + string.Join(" ", blocks), truncation.RemovedText);
        Assert.Equal(truncation.RemovedText, embeddings.Truncations[1].RemovedText);
    }
}
