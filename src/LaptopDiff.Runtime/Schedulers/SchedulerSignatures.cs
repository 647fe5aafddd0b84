using System.Text.Json.Nodes;

namespace LaptopDiff.Runtime.Schedulers;

/// <summary>
/// The <c>__init__</c> parameters of each scheduler class with their defaults, in signature order: what
/// diffusers' <c>from_config</c> keeps of a config (and in which order the class registers its config).
/// </summary>
internal static class SchedulerSignatures
{
    public static IReadOnlyList<(string Key, JsonNode? Default)> Of(SchedulerKind kind) => kind == SchedulerKind.Ddim ? Ddim : Euler;

    private static readonly (string, JsonNode?)[] Ddim =
    [
        ("num_train_timesteps", 1000),
        ("beta_start", 0.0001),
        ("beta_end", 0.02),
        ("beta_schedule", "linear"),
        ("trained_betas", null),
        ("clip_sample", true),
        ("set_alpha_to_one", true),
        ("steps_offset", 0),
        ("prediction_type", "epsilon"),
        ("thresholding", false),
        ("dynamic_thresholding_ratio", 0.995),
        ("clip_sample_range", 1.0),
        ("sample_max_value", 1.0),
        ("timestep_spacing", "leading"),
        ("rescale_betas_zero_snr", false),
    ];

    private static readonly (string, JsonNode?)[] Euler =
    [
        ("num_train_timesteps", 1000),
        ("beta_start", 0.0001),
        ("beta_end", 0.02),
        ("beta_schedule", "linear"),
        ("trained_betas", null),
        ("prediction_type", "epsilon"),
        ("interpolation_type", "linear"),
        ("use_karras_sigmas", false),
        ("use_exponential_sigmas", false),
        ("use_beta_sigmas", false),
        ("sigma_min", null),
        ("sigma_max", null),
        ("timestep_spacing", "linspace"),
        ("timestep_type", "discrete"),
        ("steps_offset", 0),
        ("rescale_betas_zero_snr", false),
        ("final_sigmas_type", "zero"),
    ];
}
