//! The endpoint catalogue: what each platform's endpoint accepts, so that a suite is
//! refused before any money is spent instead of by the platform, request by request.
//!
//! The bottom layer: `suite` validates against it and `provider` reads it; it imports
//! neither. The data is in `entries`, each entry citing where it comes from; this module
//! holds the shapes and the checks.

mod entries;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use entries::ENTRIES;

/// The platform a suite's model is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// fal.ai queue or synchronous endpoints.
    Fal,
    /// OpenRouter chat completions with image output.
    Openrouter,
    /// Replicate predictions pinned by version id.
    Replicate,
    /// BytePlus ModelArk image generations.
    Ark,
    /// OpenAI image generations and edits.
    Openai,
    /// WaveSpeedAI predictions.
    Wavespeed,
    /// Atlas Cloud predictions.
    Atlascloud,
    /// The embedded offline renderer.
    Sim,
    /// Images produced elsewhere, read from a folder.
    Folder,
}

impl ProviderKind {
    /// The name used in suites and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Fal => "fal",
            Self::Openrouter => "openrouter",
            Self::Replicate => "replicate",
            Self::Ark => "ark",
            Self::Openai => "openai",
            Self::Wavespeed => "wavespeed",
            Self::Atlascloud => "atlascloud",
            Self::Sim => "sim",
            Self::Folder => "folder",
        }
    }

    /// Whether the provider runs on this machine, with no platform limits to check.
    #[must_use]
    pub fn is_offline(self) -> bool {
        matches!(self, Self::Sim | Self::Folder)
    }
}

/// The output sizes an endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    /// Whatever the suite asks for (within driftgate's own limits).
    Any,
    /// Both sides within `sides`, or the pixel count within `pixels`: either suffices.
    SidesOrPixels {
        /// Smallest and largest side.
        sides: (u32, u32),
        /// Smallest and largest pixel count.
        pixels: (u64, u64),
    },
    /// The pixel count within the range, any aspect.
    Pixels(u64, u64),
    /// Both sides within the range.
    Sides(u32, u32),
    /// Exactly one of these `(width, height)` pairs.
    OneOf(&'static [(u32, u32)]),
}

impl Sizes {
    /// Whether `width` x `height` is accepted.
    #[must_use]
    pub fn accepts(self, width: u32, height: u32) -> bool {
        let px = u64::from(width) * u64::from(height);
        match self {
            Self::Any => true,
            Self::SidesOrPixels { sides, pixels } => {
                let side = |s: u32| (sides.0..=sides.1).contains(&s);
                (side(width) && side(height)) || (pixels.0..=pixels.1).contains(&px)
            }
            Self::Pixels(lo, hi) => (lo..=hi).contains(&px),
            Self::Sides(lo, hi) => (lo..=hi).contains(&width) && (lo..=hi).contains(&height),
            Self::OneOf(list) => list.contains(&(width, height)),
        }
    }

    /// The accepted size closest to `width` x `height`: the same aspect scaled into
    /// range where the endpoint takes any aspect, else the nearest listed size.
    #[must_use]
    pub fn nearest(self, width: u32, height: u32) -> (u32, u32) {
        if self.accepts(width, height) {
            return (width, height);
        }
        let dist =
            |(w, h): (u32, u32)| u64::from(w.abs_diff(width)) + u64::from(h.abs_diff(height));
        let scaled = |factor: f64| -> (u32, u32) {
            // Rounded outward so that the result lands inside the range, not on its edge.
            let up = factor >= 1.0;
            let side = |s: u32| {
                let v = f64::from(s) * factor;
                let v = if up { v.ceil() } else { v.floor() };
                // The cast saturates; sizes are far below u32::MAX.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let v = v.max(1.0) as u32;
                v
            };
            (side(width), side(height))
        };
        let px = (f64::from(width) * f64::from(height)).max(1.0);
        let mut candidates: Vec<(u32, u32)> = Vec::new();
        match self {
            Self::Any => return (width, height),
            Self::OneOf(list) => candidates.extend_from_slice(list),
            Self::SidesOrPixels { sides, pixels } => {
                candidates.push((
                    width.clamp(sides.0, sides.1),
                    height.clamp(sides.0, sides.1),
                ));
                candidates.push(scaled((pixels.0 as f64 / px).sqrt()));
                candidates.push(scaled((pixels.1 as f64 / px).sqrt()));
            }
            Self::Pixels(lo, hi) => {
                candidates.push(scaled((lo as f64 / px).sqrt()));
                candidates.push(scaled((hi as f64 / px).sqrt()));
            }
            Self::Sides(lo, hi) => candidates.push((width.clamp(lo, hi), height.clamp(lo, hi))),
        }
        candidates
            .into_iter()
            .filter(|&(w, h)| self.accepts(w, h))
            .min_by_key(|&c| dist(c))
            .unwrap_or((width, height))
    }
}

impl fmt::Display for Sizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => write!(f, "any size"),
            Self::SidesOrPixels { sides, pixels } => write!(
                f,
                "sides {}..{} or {}..{} px",
                sides.0,
                sides.1,
                thousands(pixels.0),
                thousands(pixels.1)
            ),
            Self::Pixels(lo, hi) => write!(f, "{}..{} px", thousands(*lo), thousands(*hi)),
            Self::Sides(lo, hi) => write!(f, "sides {lo}..{hi}"),
            Self::OneOf(list) => {
                let names: Vec<String> = list.iter().map(|(w, h)| format!("{w}x{h}")).collect();
                write!(f, "one of {}", names.join(", "))
            }
        }
    }
}

/// `3686400` as `3,686,400`: pixel counts are read by people.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What an endpoint does with a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// Accepted and reported back: the same seed is meant to give the same image.
    Honoured,
    /// Accepted, but the platform neither confirms it nor promises determinism.
    Unconfirmed,
    /// Not an input of the endpoint: the platform drops or refuses it.
    Ignored,
}

/// How reference images reach the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentAs {
    /// Inline `data:` URIs only.
    DataUri,
    /// Public URLs or inline `data:` URIs.
    UrlOrDataUri,
    /// Multipart file upload.
    Multipart,
}

/// The reference images an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct References {
    /// Most images per request; 0 for a text-only endpoint.
    pub max_count: usize,
    /// Largest image in bytes, where the platform states one.
    pub max_bytes: Option<u64>,
    /// How they are sent.
    pub sent_as: SentAs,
}

/// Independent images one request can return: the parameter and its largest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// The request field (`num_images`, `n`).
    pub param: &'static str,
    /// Its largest accepted value.
    pub max: u32,
}

/// What one endpoint (or a family matched by a pattern) accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// The platform.
    pub provider: ProviderKind,
    /// The endpoint or model id; a trailing `*` matches any rest.
    pub pattern: &'static str,
    /// Accepted output sizes.
    pub sizes: Sizes,
    /// The size sent when the suite sets none.
    pub default_size: (u32, u32),
    /// What the endpoint does with a seed.
    pub seed: Seed,
    /// Reference images.
    pub references: References,
    /// Independent images per request, where the platform can batch.
    pub batch: Option<Batch>,
    /// What the platform reports that identifies the serving build.
    pub evidence: &'static str,
    /// OpenRouter chat mode: the output modalities to ask for.
    pub modalities: Option<&'static [&'static str]>,
    /// List price of one image in US dollars, where a source states it.
    pub price_per_image: Option<f64>,
    /// Where the figures come from: a file in the vendored specs or `docs/providers.md`.
    pub source: &'static str,
}

impl Entry {
    fn matches(&self, provider: ProviderKind, endpoint: &str) -> bool {
        self.provider == provider
            && match self.pattern.strip_suffix('*') {
                Some(prefix) => endpoint.starts_with(prefix),
                None => endpoint == self.pattern,
            }
    }
}

/// The catalogue entry for an endpoint, if there is one. Exact entries come before
/// patterns in [`ENTRIES`], so the first match is the most specific.
#[must_use]
pub fn lookup(provider: ProviderKind, endpoint: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.matches(provider, endpoint))
}

/// Request parameters that make the platform generate (and bill) more images than the
/// one driftgate keeps per request, with why.
#[must_use]
pub fn billed_extra_images(key: &str, value: &serde_json::Value) -> Option<&'static str> {
    let more_than_one = value.as_u64().is_none_or(|n| n != 1);
    match key {
        "num_images" | "n" if more_than_one => Some("asks for several images per request"),
        "max_images" if more_than_one => Some("lets the model return several images"),
        "sequential_image_generation" if value.as_str() == Some("auto") => {
            Some("lets the model return a series of images")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEDREAM_45: Sizes = Sizes::SidesOrPixels {
        sides: (1920, 4096),
        pixels: (3_686_400, 16_777_216),
    };

    #[test]
    fn seedream_45_takes_large_sides_or_enough_pixels() {
        assert!(SEEDREAM_45.accepts(2048, 2048));
        assert!(SEEDREAM_45.accepts(2560, 1440));
        assert!(!SEEDREAM_45.accepts(512, 512));
        assert!(!SEEDREAM_45.accepts(1024, 1024));
        assert_eq!(SEEDREAM_45.nearest(512, 512), (1920, 1920));
        assert_eq!(SEEDREAM_45.nearest(8192, 8192), (4096, 4096));
    }

    #[test]
    fn nearest_keeps_the_aspect_when_scaling_by_pixels() {
        let s = Sizes::Pixels(921_600, 16_777_216);
        let (w, h) = s.nearest(400, 300);
        assert!(s.accepts(w, h));
        let aspect = f64::from(w) / f64::from(h);
        assert!((aspect - 4.0 / 3.0).abs() < 0.01, "{w}x{h}");
        assert!(
            u64::from(w) * u64::from(h) < 921_600 + 2_000,
            "{w}x{h} is not the nearest"
        );
    }

    #[test]
    fn nearest_of_a_list_is_the_closest_entry() {
        let s = Sizes::OneOf(&[(1024, 1024), (1536, 1024), (1024, 1536)]);
        assert_eq!(s.nearest(512, 512), (1024, 1024));
        assert_eq!(s.nearest(1600, 900), (1536, 1024));
        assert_eq!(s.to_string(), "one of 1024x1024, 1536x1024, 1024x1536");
    }

    #[test]
    fn ranges_read_with_thousands_separators() {
        assert_eq!(
            SEEDREAM_45.to_string(),
            "sides 1920..4096 or 3,686,400..16,777,216 px"
        );
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn lookup_finds_exact_entries_and_patterns() {
        let e = lookup(
            ProviderKind::Fal,
            "fal-ai/bytedance/seedream/v4.5/text-to-image",
        )
        .unwrap();
        assert_eq!(e.default_size, (2048, 2048));
        assert_eq!(e.sizes, SEEDREAM_45);
        assert_eq!(
            lookup(ProviderKind::Openai, "gpt-image-1")
                .unwrap()
                .default_size,
            (1024, 1024)
        );
        assert!(lookup(ProviderKind::Fal, "fal-ai/some/other-model").is_none());
        assert!(lookup(ProviderKind::Sim, "sim/v1").is_none());
    }

    #[test]
    fn every_entry_cites_a_source_and_accepts_its_own_default() {
        for e in ENTRIES {
            assert!(!e.source.is_empty(), "{}", e.pattern);
            let (w, h) = e.default_size;
            assert!(e.sizes.accepts(w, h), "{} default {w}x{h}", e.pattern);
        }
    }

    #[test]
    fn every_named_platform_has_seedream_45() {
        for p in [
            ProviderKind::Fal,
            ProviderKind::Openrouter,
            ProviderKind::Replicate,
            ProviderKind::Ark,
            ProviderKind::Wavespeed,
            ProviderKind::Atlascloud,
        ] {
            assert!(
                ENTRIES
                    .iter()
                    .any(|e| e.provider == p && e.pattern.contains('4'))
                    && ENTRIES.iter().any(|e| e.provider == p),
                "{}",
                p.name()
            );
        }
    }

    #[test]
    fn only_extra_images_are_billed_extras() {
        use serde_json::json;
        assert!(billed_extra_images("num_images", &json!(4)).is_some());
        assert!(billed_extra_images("num_images", &json!(1)).is_none());
        assert!(billed_extra_images("n", &json!(2)).is_some());
        assert!(billed_extra_images("max_images", &json!(3)).is_some());
        assert!(billed_extra_images("sequential_image_generation", &json!("auto")).is_some());
        assert!(billed_extra_images("sequential_image_generation", &json!("disabled")).is_none());
        assert!(billed_extra_images("quality", &json!("high")).is_none());
    }
}
