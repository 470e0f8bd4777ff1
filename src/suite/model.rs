//! The suite file as written: the raw serde shape, before any validation.
//!
//! Every struct denies unknown keys so that a typo (`treshold:`) is an error with a
//! position instead of a silently ignored setting.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

pub use crate::catalog::ProviderKind;

/// Image size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A lower bound on a similarity score.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MinScore {
    /// The candidate fails below this value.
    pub min: f64,
}

/// An upper bound on a hash distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaxDistance {
    /// The candidate fails above this Hamming distance (bits out of 64).
    pub max_distance: u32,
}

/// An upper bound on a colour difference.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaxDeltaE {
    /// The candidate fails above this CIEDE2000 difference.
    pub max_delta_e: f64,
}

/// Absolute limits a brand sets; a case may override any of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Luma SSIM lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssim: Option<MinScore>,
    /// pHash distance upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phash: Option<MaxDistance>,
    /// dHash distance upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhash: Option<MaxDistance>,
    /// Mean per-pixel CIEDE2000 upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_e: Option<MaxDeltaE>,
    /// Matched dominant-palette CIEDE2000 upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub palette: Option<MaxDeltaE>,
}

impl Thresholds {
    /// `self` with every limit `over` sets replaced by `over`'s.
    #[must_use]
    pub fn overridden_by(self, over: Self) -> Self {
        Self {
            ssim: over.ssim.or(self.ssim),
            phash: over.phash.or(self.phash),
            dhash: over.dhash.or(self.dhash),
            delta_e: over.delta_e.or(self.delta_e),
            palette: over.palette.or(self.palette),
        }
    }
}

/// Provider parameters passed through untouched.
pub type Params = BTreeMap<String, serde_json::Value>;

/// The pinned model.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    /// The platform.
    #[schemars(with = "ProviderKind")]
    pub provider: Spanned<ProviderKind>,
    /// The platform's endpoint or model id, e.g. `fal-ai/bytedance/seedream/v4.5/edit`.
    #[schemars(with = "String")]
    pub endpoint: Spanned<String>,
    /// The pinned version (Replicate: the 64-hex version id sent in the request).
    #[serde(default)]
    pub version: Option<String>,
    /// Replaces scheme and host of the provider's API (proxies, regions, emulators).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub base_url: Option<Spanned<String>>,
    /// The environment variable holding the API key, when not the provider's usual one.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api_key_env: Option<Spanned<String>>,
    /// Whether the seed is sent to the provider. Default: true where the provider documents one.
    #[serde(default)]
    pub send_seed: Option<bool>,
    /// Price of one image in US dollars, for the `--dry-run` cost estimate. Default: the
    /// endpoint catalogue's list price, where it states one.
    #[serde(default)]
    pub price_per_image: Option<f64>,
    /// For `folder`: the directory holding `<case>/<n>.<png|jpg|webp>`, relative to the suite.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    /// How the platform is called. fal: `queue` (default) or `sync` (`fal.run`, no
    /// platform retries); OpenRouter: `images` (default, `/api/v1/images`) or `chat`
    /// (`/api/v1/chat/completions` with image output). Other providers take none.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mode: Option<Spanned<String>>,
    /// OpenRouter only: which upstream providers may serve the request, in order.
    /// Default: none (OpenRouter load-balances, which can change the build silently).
    #[serde(default)]
    #[schemars(with = "Option<Route>")]
    pub route: Option<Spanned<Route>>,
    /// Queue and prediction polling interval in milliseconds (fal queue, Replicate).
    /// Default: 500.
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    /// Most requests per minute sent to the platform, retries included. Default: no limit.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub rpm: Option<Spanned<u32>>,
}

/// OpenRouter provider routing, sent as the request's `provider` object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Provider slugs tried in this order, e.g. `[bytedance]`.
    #[serde(default)]
    pub order: Vec<String>,
    /// Whether OpenRouter may fall back to providers outside `order`. Default: false,
    /// since a fallback is a silent change of the serving build.
    #[serde(default)]
    pub allow_fallbacks: bool,
}

/// Values every case inherits unless it sets its own.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    /// Output size. Default: the endpoint catalogue's default for the model (Seedream
    /// 4.5 and 5.0 Lite 2048x2048, gpt-image-1 1024x1024; see `docs/providers.md`),
    /// else 512x512 (the `sim` provider, and endpoints the catalogue does not know).
    #[serde(default)]
    #[schemars(with = "Option<Size>")]
    pub size: Option<Spanned<Size>>,
    /// Seed. Default: none (the provider picks).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Samples drawn per case. Default: 3.
    #[serde(default)]
    pub samples: Option<u32>,
    /// Provider parameters; a case's params are merged over these key by key.
    #[serde(default)]
    #[schemars(with = "Option<Params>")]
    pub params: Option<Spanned<Params>>,
}

/// One case as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    /// Case id: `[a-z0-9-]+`, unique within the suite; it names folders on disk.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// The prompt.
    pub prompt: String,
    /// Reference images, relative to the suite file, inside its folder.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub references: Vec<Spanned<String>>,
    /// Free-form tags for filtering.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Overrides `defaults.size`.
    #[serde(default)]
    #[schemars(with = "Option<Size>")]
    pub size: Option<Spanned<Size>>,
    /// Overrides `defaults.seed`.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Overrides `defaults.samples`.
    #[serde(default)]
    pub samples: Option<u32>,
    /// Merged over `defaults.params`.
    #[serde(default)]
    #[schemars(with = "Option<Params>")]
    pub params: Option<Spanned<Params>>,
    /// Overrides the suite's thresholds.
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
}

/// A suite file as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSuite {
    /// Suite id: `[a-z0-9-]+`, unique among the suites run together.
    #[schemars(with = "String")]
    pub suite: Spanned<String>,
    /// The pinned model.
    #[schemars(with = "RawModel")]
    pub model: Spanned<RawModel>,
    /// Values every case inherits.
    #[serde(default)]
    pub defaults: RawDefaults,
    /// Suite-wide absolute limits.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// The cases.
    pub cases: Vec<RawCase>,
}
