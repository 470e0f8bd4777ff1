//! Providers: one trait, one implementation per platform.
//!
//! A provider turns one sample of one case into an encoded image plus what the
//! platform said about itself, and classifies its failures so the runner knows what to
//! retry. `build` is the single place that picks the implementation.

mod ark;
mod atlascloud;
mod error;
mod fal;
mod folder;
mod headers;
mod http;
mod openai;
mod openrouter;
mod poll;
mod prediction;
mod replicate;
mod secret;
mod sim;
mod text;
mod wavespeed;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::suite::{Case, ModelPin, ProviderKind};

pub use error::{ErrorKind, ProviderError};
pub use folder::{EXTENSIONS, Folder, sample_file};
pub use headers::Headers;
pub use http::HttpOptions;
pub use secret::ApiKey;
pub use sim::{BUILDS, Sim, render};

/// One sample of one case, as sent to a provider.
#[derive(Debug, Clone, Copy)]
pub struct GenerationRequest<'a> {
    /// The suite's pinned model.
    pub model: &'a ModelPin,
    /// The case.
    pub case: &'a Case,
    /// 0-based sample index.
    pub sample: u32,
}

/// What a provider reported about the generation: the build fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The platform's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The model or version string the platform reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The seed the platform says it used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Wall time of the request, in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// Response headers that identify a build (names lowercase).
    #[serde(default, skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    /// The route answered without naming the build that served it (Replicate's official
    /// models report `version: "hidden"`): a model string alone is no version evidence,
    /// and an unchanged one proves nothing. Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_version_evidence: bool,
    /// The suite pins a seed but the endpoint declares none, so none was sent and
    /// repeated samples are independent draws. Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub seed_not_honoured: bool,
    /// What the platform says this request cost, in US dollars (OpenRouter `usage.cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// fal's billable units for the request (`x-fal-billable-units`; the header is seen
    /// in fal's own toolkit and third-party clients, not in its API reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable_units: Option<f64>,
    /// Seconds of model time the platform bills (Replicate `metrics.predict_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predict_time_s: Option<f64>,
    /// What the platform reported about this one call that changes from call to call
    /// (its own timings, its safety checker's verdict): kept as evidence, left out of
    /// [`Metadata::build_identity`]. Default: empty.
    #[serde(default, skip_serializing_if = "Headers::is_empty")]
    pub per_call: Headers,
    /// The platform's own mark on this sample, in its words and naming the platform:
    /// fal's `has_nsfw_concepts` entry for the image, WaveSpeed's or Atlas Cloud's
    /// `has_nsfw_contents` entry for the first output, an Ark per-item content-filter
    /// code, an OpenRouter content-filter finish reason. A marked sample is drift by itself (see
    /// `verdict::platform_mark_reasons`). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_mark: Option<String>,
}

/// Longest platform mark kept: a code or a finish reason is short, and a platform that
/// writes more must not fill the report with it.
const MARK_CHARS: usize = 200;

impl Metadata {
    /// Makes the reported strings safe to store and print: every occurrence of `key`
    /// becomes `****`, and control characters and line breaks are removed (the
    /// platform wrote these strings; see `text::one_line`).
    pub fn scrub(&mut self, key: Option<&ApiKey>) {
        let clean = |s: &str| text::one_line(&key.map_or_else(|| s.to_string(), |k| k.scrub(s)));
        for s in [&mut self.request_id, &mut self.model]
            .into_iter()
            .flatten()
        {
            *s = clean(s);
        }
        for h in [&mut self.headers, &mut self.per_call] {
            *h = std::mem::take(h)
                .into_iter()
                .map(|(k, v)| (clean(&k), clean(&v)))
                .collect();
        }
        if let Some(m) = &mut self.platform_mark {
            *m = text::clip(&clean(m), MARK_CHARS);
        }
    }

    /// The fields that identify the build serving the endpoint, for change detection.
    /// Request ids, timings and seeds change on every call and are left out.
    #[must_use]
    pub fn build_identity(&self) -> BTreeMap<String, String> {
        let mut id: BTreeMap<String, String> = self.headers.clone().into();
        if let Some(m) = &self.model {
            id.insert("model".into(), m.clone());
        }
        id
    }
}

/// An image a provider returned.
#[derive(Debug, Clone)]
pub struct Generation {
    /// Encoded image bytes (PNG, JPEG or WebP).
    pub bytes: Vec<u8>,
    /// What the provider reported.
    pub metadata: Metadata,
}

/// One pinned model endpoint reached through one platform.
///
/// A platform implements [`Provider::generate`] (one request, one image) or
/// [`Provider::generate_batch`] (one request, several images); each default is written
/// in terms of the other, so implementing neither would recurse.
pub trait Provider: Send + Sync {
    /// Generates one sample. The default is a batch of one.
    fn generate(
        &self,
        req: GenerationRequest<'_>,
    ) -> impl Future<Output = Result<Generation, ProviderError>> + Send {
        first_of_batch(self, req)
    }

    /// Most independent samples one request can return. Default: 1.
    fn max_batch(&self) -> u32 {
        1
    }

    /// Generates `count` samples of one case (at most [`Provider::max_batch`]), from
    /// `req.sample` on; a provider that overrides this asks for them in one request. The
    /// images come back in sample order. A platform may return fewer than asked: the
    /// caller counts the missing ones as failed. The default sends one request per
    /// sample through [`Provider::generate`].
    fn generate_batch(
        &self,
        req: GenerationRequest<'_>,
        count: u32,
    ) -> impl Future<Output = Result<Vec<Generation>, ProviderError>> + Send {
        one_by_one(self, req, count)
    }
}

/// One sample as a batch of one. Every batching platform already refuses an answer
/// without images, so the missing-image error is a guard, not a path.
async fn first_of_batch<P: Provider + ?Sized>(
    p: &P,
    req: GenerationRequest<'_>,
) -> Result<Generation, ProviderError> {
    p.generate_batch(req, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ProviderError::new(ErrorKind::Fatal, "the platform returned no image"))
}

/// `count` samples through `generate`, one request each.
async fn one_by_one<P: Provider + ?Sized>(
    p: &P,
    req: GenerationRequest<'_>,
    count: u32,
) -> Result<Vec<Generation>, ProviderError> {
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let one = GenerationRequest {
            sample: req.sample + i,
            ..req
        };
        out.push(p.generate(one).await?);
    }
    Ok(out)
}

/// The provider a suite names.
#[derive(Debug)]
pub enum AnyProvider {
    /// The embedded offline renderer.
    Sim(Sim),
    /// Images from a folder.
    Folder(Folder),
    /// fal.ai, queue or synchronous.
    Fal(fal::Fal),
    /// OpenRouter image generation.
    Openrouter(openrouter::OpenRouter),
    /// Replicate predictions.
    Replicate(replicate::Replicate),
    /// BytePlus ModelArk / Volcengine Ark.
    Ark(ark::Ark),
    /// OpenAI Images.
    Openai(openai::OpenAi),
    /// WaveSpeedAI predictions.
    Wavespeed(wavespeed::WaveSpeed),
    /// Atlas Cloud predictions.
    Atlascloud(atlascloud::AtlasCloud),
}

/// Why a provider could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The API key variable is unset or empty.
    #[error(
        "provider `{provider}` needs an API key, but {var} is not set\n  hint: export {var}=<key>, or name another variable in model.api_key_env"
    )]
    MissingKey {
        /// The platform.
        provider: &'static str,
        /// The variable read.
        var: String,
    },
    /// `model.base_url` is not a URL.
    #[error("model.base_url {0}")]
    BaseUrl(String),
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// The sim provider's environment is malformed.
    #[error("{0}\n  hint: unset it to use today's date")]
    SimEnvironment(String),
}

/// How hosted providers are set up beyond what the suite says.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Client timeouts.
    pub http: HttpOptions,
    /// When the run must end; queue providers cancel their jobs at this instant.
    /// Default: none.
    pub deadline: Option<Instant>,
    /// A key given directly instead of read from the environment (embedding, tests).
    /// Default: none (read the environment).
    pub api_key: Option<ApiKey>,
}

/// The platforms, with their key variable and default API host, for `driftgate providers`.
pub const CATALOG: &[(ProviderKind, Option<&str>, &str)] = &[
    (
        ProviderKind::Fal,
        Some("FAL_KEY"),
        "https://queue.fal.run (sync: https://fal.run)",
    ),
    (
        ProviderKind::Openrouter,
        Some("OPENROUTER_API_KEY"),
        "https://openrouter.ai/api/v1",
    ),
    (
        ProviderKind::Replicate,
        Some("REPLICATE_API_TOKEN"),
        "https://api.replicate.com/v1",
    ),
    (
        ProviderKind::Ark,
        Some("ARK_API_KEY"),
        "https://ark.ap-southeast.bytepluses.com/api/v3",
    ),
    (
        ProviderKind::Openai,
        Some("OPENAI_API_KEY"),
        "https://api.openai.com/v1",
    ),
    (
        ProviderKind::Wavespeed,
        Some("WAVESPEED_API_KEY"),
        "https://api.wavespeed.ai/api/v3",
    ),
    (
        ProviderKind::Atlascloud,
        Some("ATLASCLOUD_API_KEY"),
        "https://api.atlascloud.ai/api/v1",
    ),
    (ProviderKind::Sim, None, "(offline, embedded)"),
    (ProviderKind::Folder, None, "(offline, model.path)"),
];

/// The environment variable a suite's key is read from, if its provider needs one.
#[must_use]
pub fn key_env(model: &ModelPin) -> Option<String> {
    let default = CATALOG
        .iter()
        .find(|(k, _, _)| *k == model.provider)
        .and_then(|(_, v, _)| *v)?;
    Some(
        model
            .api_key_env
            .clone()
            .unwrap_or_else(|| default.to_string()),
    )
}

/// Whether the key variable `var` holds a key (set, and not blank), for
/// `driftgate providers`, which lists variables rather than suites.
#[must_use]
pub fn key_is_set(var: &str) -> bool {
    ApiKey::from_env(var).is_some()
}

/// The key a suite's provider authenticates with; `None` when it needs none. The one
/// place a missing key is detected: [`missing_key`] (`check`, the dry-run plan, `run`)
/// and [`build_with`] both ask it.
fn read_key(model: &ModelPin) -> Result<Option<ApiKey>, BuildError> {
    let Some(var) = key_env(model) else {
        return Ok(None);
    };
    match ApiKey::from_env(&var) {
        Some(k) => Ok(Some(k)),
        None => Err(BuildError::MissingKey {
            provider: model.provider.name(),
            var,
        }),
    }
}

/// The variable named when a provider needs a key that is not set; `None` when the key
/// is present or none is needed. Reads only the environment, never the network.
#[must_use]
pub fn missing_key(model: &ModelPin) -> Option<String> {
    match read_key(model) {
        Err(BuildError::MissingKey { var, .. }) => Some(var),
        _ => None,
    }
}

/// Most samples one request to a suite's model returns, known without a key, for the
/// `--dry-run` plan and for the built provider alike: the platform's limit for its request
/// shape (OpenAI and OpenRouter `n`, none in chat mode), narrowed by the endpoint
/// catalogue where it knows the model behind the endpoint. fal's `num_images` range is
/// each model's own, so there the catalogue is the only source: an endpoint it does not
/// know gets one image per request.
#[must_use]
pub fn max_batch(model: &ModelPin) -> u32 {
    let catalogued = crate::catalog::lookup(model.provider, &model.endpoint)
        .map(|entry| entry.batch.map_or(1, |b| b.max));
    let platform = match model.provider {
        ProviderKind::Fal => catalogued.unwrap_or(1),
        ProviderKind::Openrouter => openrouter::max_images(model),
        ProviderKind::Openai => openai::MAX_N,
        ProviderKind::Replicate
        | ProviderKind::Ark
        | ProviderKind::Wavespeed
        | ProviderKind::Atlascloud
        | ProviderKind::Sim
        | ProviderKind::Folder => 1,
    };
    catalogued.map_or(platform, |c| c.min(platform))
}

/// Requests in flight when `--concurrency` is not given: what each platform's default
/// account limits comfortably allow.
#[must_use]
pub fn default_concurrency(kind: ProviderKind) -> usize {
    match kind {
        ProviderKind::Fal | ProviderKind::Replicate => 8,
        // WaveSpeed and Atlas Cloud publish no default account limits: the conservative
        // figure of the synchronous platforms.
        ProviderKind::Wavespeed
        | ProviderKind::Atlascloud
        | ProviderKind::Openrouter
        | ProviderKind::Ark
        | ProviderKind::Openai
        | ProviderKind::Sim
        | ProviderKind::Folder => 4,
    }
}

/// Picks the implementation for a suite's model. A missing key is an error here, before
/// any request is sent.
///
/// # Errors
/// When the provider cannot be set up (missing key, bad base URL).
pub fn build_with(model: &ModelPin, opts: &BuildOptions) -> Result<AnyProvider, BuildError> {
    let client = || -> Result<http::Http, BuildError> {
        let var = key_env(model).unwrap_or_default();
        let key = match &opts.api_key {
            Some(k) => k.clone(),
            None => read_key(model)?.unwrap_or_else(|| ApiKey::new("")),
        };
        http::Http::new(model, key, &var, opts.http)
    };
    Ok(match model.provider {
        ProviderKind::Sim => AnyProvider::Sim(Sim::from_env().map_err(BuildError::SimEnvironment)?),
        ProviderKind::Folder => AnyProvider::Folder(Folder),
        ProviderKind::Fal => AnyProvider::Fal(fal::Fal::new(client()?, model, opts.deadline)),
        ProviderKind::Openrouter => {
            AnyProvider::Openrouter(openrouter::OpenRouter::new(client()?, model))
        }
        ProviderKind::Replicate => {
            AnyProvider::Replicate(replicate::Replicate::new(client()?, model, opts.deadline))
        }
        ProviderKind::Ark => AnyProvider::Ark(ark::Ark::new(client()?)),
        ProviderKind::Openai => AnyProvider::Openai(openai::OpenAi::new(client()?, model)),
        ProviderKind::Wavespeed => {
            AnyProvider::Wavespeed(wavespeed::WaveSpeed::new(client()?, model, opts.deadline))
        }
        ProviderKind::Atlascloud => {
            AnyProvider::Atlascloud(atlascloud::AtlasCloud::new(client()?, model, opts.deadline))
        }
    })
}

impl Provider for AnyProvider {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        // The boundary for everything a platform wrote: request ids, model strings,
        // headers and error messages are stored in manifests and reports and printed on
        // terminals and CI logs. A proxy that reflects the credential must not put it
        // there, and an answer must not smuggle in escape sequences or extra lines.
        let scrubbed = |r: Result<Generation, ProviderError>, key: Option<&ApiKey>| match r {
            Ok(mut g) => {
                g.metadata.scrub(key);
                Ok(g)
            }
            Err(e) => Err(e.scrubbed(key)),
        };
        match self {
            Self::Sim(p) => scrubbed(p.generate(req).await, None),
            Self::Folder(p) => scrubbed(p.generate(req).await, None),
            Self::Fal(p) => scrubbed(p.generate(req).await, Some(p.key())),
            Self::Openrouter(p) => scrubbed(p.generate(req).await, Some(p.key())),
            Self::Replicate(p) => scrubbed(p.generate(req).await, Some(p.key())),
            Self::Ark(p) => scrubbed(p.generate(req).await, Some(p.key())),
            Self::Openai(p) => scrubbed(p.generate(req).await, Some(p.key())),
            Self::Wavespeed(p) => scrubbed(p.generate(req).await, Some(p.key())),
            Self::Atlascloud(p) => scrubbed(p.generate(req).await, Some(p.key())),
        }
    }

    fn max_batch(&self) -> u32 {
        match self {
            Self::Fal(p) => p.max_batch(),
            Self::Openrouter(p) => p.max_batch(),
            Self::Openai(p) => p.max_batch(),
            Self::Sim(_)
            | Self::Folder(_)
            | Self::Replicate(_)
            | Self::Ark(_)
            | Self::Wavespeed(_)
            | Self::Atlascloud(_) => 1,
        }
    }

    async fn generate_batch(
        &self,
        req: GenerationRequest<'_>,
        count: u32,
    ) -> Result<Vec<Generation>, ProviderError> {
        // The same boundary as `generate`'s, for every image of the batch.
        let scrubbed = |r: Result<Vec<Generation>, ProviderError>, key: &ApiKey| match r {
            Ok(mut gs) => {
                for g in &mut gs {
                    g.metadata.scrub(Some(key));
                }
                Ok(gs)
            }
            Err(e) => Err(e.scrubbed(Some(key))),
        };
        match self {
            Self::Fal(p) => scrubbed(p.generate_batch(req, count).await, p.key()),
            Self::Openrouter(p) => scrubbed(p.generate_batch(req, count).await, p.key()),
            Self::Openai(p) => scrubbed(p.generate_batch(req, count).await, p.key()),
            // One image per request, through the scrubbing `generate`.
            Self::Sim(_)
            | Self::Folder(_)
            | Self::Replicate(_)
            | Self::Ark(_)
            | Self::Wavespeed(_)
            | Self::Atlascloud(_) => one_by_one(self, req, count).await,
        }
    }
}

/// Milliseconds since `start`, saturating.
pub(crate) fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The seed to send for a request, if the suite sends seeds.
pub(crate) fn seed_to_send(req: &GenerationRequest<'_>) -> Option<u64> {
    if req.model.send_seed {
        req.case.seed
    } else {
        None
    }
}

/// Merges the case's passthrough params over a provider's body, so a suite can set or
/// override any documented field.
pub(crate) fn merge_params(body: &mut serde_json::Value, params: &crate::suite::Params) {
    if let Some(obj) = body.as_object_mut() {
        for (k, v) in params {
            obj.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_scrubbed_of_the_key() {
        let key = ApiKey::new("sk-secret-value");
        let mut m = Metadata {
            request_id: Some("req-sk-secret-value".into()),
            model: Some("m sk-secret-value".into()),
            headers: [("x-echo".to_string(), "Bearer sk-secret-value".to_string())].into(),
            ..Metadata::default()
        };
        m.scrub(Some(&key));
        assert_eq!(m.request_id.as_deref(), Some("req-****"));
        assert_eq!(m.model.as_deref(), Some("m ****"));
        assert_eq!(m.headers["x-echo"], "Bearer ****");
    }

    #[test]
    fn a_platform_mark_is_one_clean_short_line_without_the_key() {
        let key = ApiKey::new("sk-secret-value");
        let mut m = Metadata {
            platform_mark: Some(format!(
                "Risk\u{1b}[31m sk-secret-value\n::error::x {}",
                "y".repeat(400)
            )),
            ..Metadata::default()
        };
        m.scrub(Some(&key));
        let mark = m.platform_mark.unwrap();
        assert!(mark.starts_with("Risk **** ::error::x yyy"), "{mark}");
        assert_eq!(mark.chars().count(), MARK_CHARS + 1, "clipped and marked");
        let e = ProviderError::marked(
            ErrorKind::ContentFiltered,
            "filtered sk-secret-value",
            Metadata {
                platform_mark: Some("Code sk-secret-value\r\n(Ark)".into()),
                ..Metadata::default()
            },
        )
        .scrubbed(Some(&key));
        assert_eq!(e.message, "filtered ****");
        assert_eq!(
            e.marked.and_then(|m| m.platform_mark).as_deref(),
            Some("Code **** (Ark)")
        );
    }
}
