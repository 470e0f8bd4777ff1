//! The catalogue's data: one entry per endpoint or family, each citing its source.
//!
//! Sources are the vendored specifications in `../shared/specs/` (named here by their
//! path inside that folder; `README.md` is that folder's index, which cites sources it
//! could not copy) or `docs/providers.md`. Where no source states a figure, the
//! entry leaves it open (`Sizes::Any`, no price) rather than guessing. Exact endpoint
//! ids come before the `*` patterns of their family, since the first match wins.

use super::{Batch, Entry, ProviderKind, References, Seed, SentAs, Sizes};

/// Seedream 4.5 and 5.0 Lite on fal and Ark: "Width and height must be between 1920 and
/// 4096, or total number of pixels must be between 2560*1440 and 4096*4096".
const SEEDREAM_45: Sizes = Sizes::SidesOrPixels {
    sides: (1920, 4096),
    pixels: (3_686_400, 16_777_216),
};
/// Seedream 4.0: "Total pixels must be between 960x960 and 4096x4096".
const SEEDREAM_40: Sizes = Sizes::Pixels(921_600, 16_777_216);
/// Seedream 5.0 Lite on fal: "Total pixels must be between 2560x1440 and 4096x4096".
const SEEDREAM_50_LITE: Sizes = Sizes::Pixels(3_686_400, 16_777_216);
/// The GPT image models' standard sizes (`auto` aside, which driftgate cannot pin).
const GPT_IMAGE: Sizes = Sizes::OneOf(&[(1024, 1024), (1536, 1024), (1024, 1536)]);

const FAL_SPEC: &str = "fal/fal-js/libs/client/src/types/endpoints.seedream-excerpt.ts";
const FAL_REFS: References = References {
    max_count: 10,
    max_bytes: None,
    sent_as: SentAs::UrlOrDataUri,
};
const NO_REFS: References = References {
    max_count: 0,
    max_bytes: None,
    sent_as: SentAs::UrlOrDataUri,
};
/// fal Seedream: `num_images` is "Number of separate model generations to be run with the
/// prompt", range 1-6 on fal's Seedream v4.5 page (see `FAL_SPEC` and
/// `../shared/providers.md` section 1.2). Other fal endpoints document other ranges or
/// none, so they get one image per request until an entry here says more.
const FAL_BATCH: Option<Batch> = Some(Batch {
    param: "num_images",
    max: 6,
});
const FAL_EVIDENCE: &str = "request id, echoed seed, declared content type and size";

const OPENROUTER_SPEC: &str = "openrouter/typescript-sdk/in.openapi.yaml";
const OPENROUTER_REFS: References = References {
    max_count: 10,
    max_bytes: None,
    sent_as: SentAs::UrlOrDataUri,
};
const OPENROUTER_EVIDENCE: &str = "model and provider (chat), system_fingerprint, media type";

const ARK_SPEC: &str = "byteplus-modelark/byteplus-go-sdk-v2/service/arkruntime/model/images.go";
const ARK_REFS: References = References {
    max_count: 14,
    max_bytes: Some(10 * 1024 * 1024),
    sent_as: SentAs::UrlOrDataUri,
};
const ARK_EVIDENCE: &str = "reported model name-version, image size, output format";

const WAVESPEED_SPEC: &str = "README.md (WaveSpeedAI/agent-skills SKILL.md, cited there)";
const WAVESPEED_REFS: References = References {
    max_count: 10,
    max_bytes: None,
    sent_as: SentAs::UrlOrDataUri,
};
const WAVESPEED_EVIDENCE: &str = "prediction id, model, timings";

const ATLAS_SPEC: &str = "atlascloud/atlascloud_comfyui/src/atlascloud_comfyui/nodes/image/";
const ATLAS_REFS: References = References {
    max_count: 10,
    max_bytes: None,
    sent_as: SentAs::UrlOrDataUri,
};
const ATLAS_EVIDENCE: &str = "prediction id, model";

/// Every entry, most specific first within a provider.
pub static ENTRIES: &[Entry] = &[
    // fal.ai
    Entry {
        provider: ProviderKind::Fal,
        pattern: "fal-ai/bytedance/seedream/v4.5/text-to-image",
        sizes: SEEDREAM_45,
        default_size: (2048, 2048),
        seed: Seed::Honoured,
        references: NO_REFS,
        batch: FAL_BATCH,
        evidence: FAL_EVIDENCE,
        modalities: None,
        price_per_image: Some(0.04),
        source: FAL_SPEC,
    },
    Entry {
        provider: ProviderKind::Fal,
        pattern: "fal-ai/bytedance/seedream/v4.5/edit",
        sizes: SEEDREAM_45,
        default_size: (2048, 2048),
        // The edit output (`BlurOutput`) has no `seed`: nothing confirms it was used.
        seed: Seed::Unconfirmed,
        references: FAL_REFS,
        batch: FAL_BATCH,
        evidence: "request id, declared content type and size (no seed echo)",
        modalities: None,
        price_per_image: Some(0.04),
        source: FAL_SPEC,
    },
    Entry {
        provider: ProviderKind::Fal,
        pattern: "fal-ai/bytedance/seedream/v4/text-to-image",
        sizes: SEEDREAM_40,
        default_size: (2048, 2048),
        seed: Seed::Honoured,
        references: NO_REFS,
        batch: FAL_BATCH,
        evidence: FAL_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: FAL_SPEC,
    },
    Entry {
        provider: ProviderKind::Fal,
        pattern: "fal-ai/bytedance/seedream/v4/edit",
        sizes: SEEDREAM_40,
        default_size: (2048, 2048),
        seed: Seed::Honoured,
        references: FAL_REFS,
        batch: FAL_BATCH,
        evidence: FAL_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: FAL_SPEC,
    },
    Entry {
        provider: ProviderKind::Fal,
        pattern: "fal-ai/bytedance/seedream/v5/lite/text-to-image",
        sizes: SEEDREAM_50_LITE,
        default_size: (2048, 2048),
        seed: Seed::Honoured,
        references: NO_REFS,
        batch: FAL_BATCH,
        evidence: FAL_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: FAL_SPEC,
    },
    Entry {
        provider: ProviderKind::Fal,
        pattern: "fal-ai/bytedance/seedream/v5/lite/edit",
        sizes: SEEDREAM_50_LITE,
        default_size: (2048, 2048),
        seed: Seed::Honoured,
        references: FAL_REFS,
        batch: FAL_BATCH,
        evidence: FAL_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: FAL_SPEC,
    },
    // OpenRouter
    Entry {
        provider: ProviderKind::Openrouter,
        pattern: "bytedance-seed/seedream-4.5",
        sizes: SEEDREAM_45,
        default_size: (2048, 2048),
        // "Determinism is not guaranteed for all providers."
        seed: Seed::Unconfirmed,
        references: OPENROUTER_REFS,
        // `n`: "Upper bound on the number of images to generate (1-10)".
        batch: Some(Batch {
            param: "n",
            max: 10,
        }),
        evidence: OPENROUTER_EVIDENCE,
        modalities: Some(&["image"]),
        price_per_image: None,
        source: OPENROUTER_SPEC,
    },
    Entry {
        provider: ProviderKind::Openrouter,
        pattern: "bytedance-seed/seedream-5-0-lite",
        sizes: SEEDREAM_50_LITE,
        default_size: (2048, 2048),
        seed: Seed::Unconfirmed,
        references: OPENROUTER_REFS,
        batch: Some(Batch {
            param: "n",
            max: 10,
        }),
        evidence: OPENROUTER_EVIDENCE,
        modalities: Some(&["image"]),
        price_per_image: None,
        source: OPENROUTER_SPEC,
    },
    Entry {
        provider: ProviderKind::Openrouter,
        pattern: "black-forest-labs/flux*",
        sizes: Sizes::Any,
        default_size: (1024, 1024),
        seed: Seed::Unconfirmed,
        references: OPENROUTER_REFS,
        batch: None,
        evidence: OPENROUTER_EVIDENCE,
        modalities: Some(&["image"]),
        price_per_image: None,
        source: OPENROUTER_SPEC,
    },
    Entry {
        provider: ProviderKind::Openrouter,
        pattern: "openai/gpt-image*",
        sizes: Sizes::Any,
        default_size: (1024, 1024),
        seed: Seed::Unconfirmed,
        references: OPENROUTER_REFS,
        batch: None,
        evidence: OPENROUTER_EVIDENCE,
        modalities: Some(&["image"]),
        price_per_image: None,
        source: OPENROUTER_SPEC,
    },
    // Replicate
    Entry {
        provider: ProviderKind::Replicate,
        pattern: "bytedance/seedream-4.5",
        sizes: SEEDREAM_45,
        default_size: (2048, 2048),
        // No Seedream version declares `seed`, and Replicate drops unknown inputs silently.
        seed: Seed::Ignored,
        // driftgate sends references inline; Replicate recommends data URLs below 256 KB.
        references: References {
            max_count: 10,
            max_bytes: Some(256 * 1024),
            sent_as: SentAs::DataUri,
        },
        batch: None,
        evidence: "prediction id; official models report version \"hidden\"",
        modalities: None,
        price_per_image: None,
        source: "docs/providers.md (Replicate)",
    },
    // BytePlus ModelArk
    Entry {
        provider: ProviderKind::Ark,
        pattern: "seedream-4-5*",
        sizes: SEEDREAM_45,
        default_size: (2048, 2048),
        // Ark documents `seed` for the 3.0 models only.
        seed: Seed::Ignored,
        references: ARK_REFS,
        batch: None,
        evidence: ARK_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: ARK_SPEC,
    },
    Entry {
        provider: ProviderKind::Ark,
        pattern: "seedream-4-0*",
        sizes: SEEDREAM_40,
        default_size: (2048, 2048),
        seed: Seed::Ignored,
        references: ARK_REFS,
        batch: None,
        evidence: ARK_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: ARK_SPEC,
    },
    // OpenAI
    Entry {
        provider: ProviderKind::Openai,
        pattern: "gpt-image-1*",
        sizes: GPT_IMAGE,
        default_size: (1024, 1024),
        seed: Seed::Ignored,
        references: References {
            max_count: 16,
            max_bytes: Some(50 * 1024 * 1024),
            sent_as: SentAs::Multipart,
        },
        // `n`: "The number of images to generate. Must be between 1 and 10."
        batch: Some(Batch {
            param: "n",
            max: 10,
        }),
        evidence: "openai-version header, echoed size, quality, output format, background",
        modalities: None,
        price_per_image: None,
        source: "openai-openapi.yaml (CreateImageRequest, CreateImageEditRequest)",
    },
    // WaveSpeedAI
    Entry {
        provider: ProviderKind::Wavespeed,
        pattern: "bytedance/seedream-v4.5*",
        // "size `WIDTH*HEIGHT`, each side 1024–4096, default `2048*2048`"; no `seed`.
        sizes: Sizes::Sides(1024, 4096),
        default_size: (2048, 2048),
        seed: Seed::Ignored,
        references: WAVESPEED_REFS,
        batch: None,
        evidence: WAVESPEED_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: WAVESPEED_SPEC,
    },
    Entry {
        provider: ProviderKind::Wavespeed,
        pattern: "bytedance/seedream-v5.0-lite*",
        sizes: Sizes::Any,
        default_size: (2048, 2048),
        seed: Seed::Ignored,
        references: WAVESPEED_REFS,
        batch: None,
        evidence: WAVESPEED_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: "README.md (WaveSpeedAI/awesome-seedream-api model ids, cited there)",
    },
    // Atlas Cloud
    Entry {
        provider: ProviderKind::Atlascloud,
        pattern: "bytedance/seedream-v4.5*",
        // The official node allows 1472..4096 per side and sends no `seed`.
        sizes: Sizes::Sides(1472, 4096),
        default_size: (2048, 2048),
        seed: Seed::Ignored,
        references: ATLAS_REFS,
        batch: None,
        evidence: ATLAS_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: ATLAS_SPEC,
    },
    Entry {
        provider: ProviderKind::Atlascloud,
        pattern: "bytedance/seedream-v5.0-lite/edit",
        sizes: Sizes::Any,
        default_size: (2048, 2048),
        seed: Seed::Ignored,
        // The 5.0 Lite edit body sends a single `image`.
        references: References {
            max_count: 1,
            max_bytes: None,
            sent_as: SentAs::UrlOrDataUri,
        },
        batch: None,
        evidence: ATLAS_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: ATLAS_SPEC,
    },
    Entry {
        provider: ProviderKind::Atlascloud,
        pattern: "bytedance/seedream-v5.0-lite*",
        sizes: Sizes::Any,
        default_size: (2048, 2048),
        seed: Seed::Ignored,
        references: References {
            max_count: 14,
            max_bytes: None,
            sent_as: SentAs::UrlOrDataUri,
        },
        batch: None,
        evidence: ATLAS_EVIDENCE,
        modalities: None,
        price_per_image: None,
        source: ATLAS_SPEC,
    },
];
