//! OpenRouter: the dedicated Image API (`POST /api/v1/images`, default) or chat
//! completions with image output (`mode: chat`).
//!
//! Both answer synchronously with base64 images. Errors that happen after the model
//! started can arrive inside a 200, so the body's `error` is checked before the images.
//! A chat answer whose finish reason is a content filter marks its sample (with or
//! without an image); the Images API's answer has no field that could say so.
//! `route` is sent as the `provider` object; OpenRouter's OpenAPI documents `order` and
//! `allow_fallbacks` for chat completions and, as `ImageGenerationProviderPreferences`,
//! for the Image API too.

use std::time::Instant;

use serde_json::{Value, json};

use super::http::{Http, data_uri, read_references};
use super::{
    ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError, elapsed_ms,
    merge_params, seed_to_send,
};
use crate::suite::{ModelPin, Route};

const HOST: &str = "https://openrouter.ai";
/// Most images one Image API request asks for: `n` is an "Upper bound on the number of
/// images to generate (1-10). Providers may return fewer images, and providers that only
/// support single-image generation reject n > 1" (`ImageGenerationRequest` in
/// `../shared/specs/openrouter/typescript-sdk/in.openapi.yaml`). Chat completions have
/// no image count, so chat mode asks for one image per request.
const IMAGES_MAX_N: u32 = 10;

/// The OpenRouter provider.
#[derive(Debug)]
pub struct OpenRouter {
    http: Http,
    chat: bool,
    route: Option<Route>,
    max_batch: u32,
}

impl OpenRouter {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http, model: &ModelPin) -> Self {
        Self {
            http,
            chat: model.mode.as_deref() == Some("chat"),
            route: model.route.clone(),
            max_batch: super::max_batch(model),
        }
    }

    fn body(&self, req: &GenerationRequest<'_>, count: u32) -> Result<Value, ProviderError> {
        let refs: Vec<Value> = read_references(req.case)?
            .iter()
            .map(|(_, b)| json!({ "type": "image_url", "image_url": { "url": data_uri(b) } }))
            .collect();
        let size = format!("{}x{}", req.case.size.width, req.case.size.height);
        let mut body = if self.chat {
            let mut content = vec![json!({ "type": "text", "text": req.case.prompt })];
            content.extend(refs);
            json!({
                "model": req.model.endpoint,
                "messages": [{ "role": "user", "content": content }],
                // Image-only models answer 404 to ["image","text"]; params may override.
                "modalities": crate::catalog::lookup(req.model.provider, &req.model.endpoint)
                    .and_then(|e| e.modalities)
                    .unwrap_or(&["image", "text"]),
            })
        } else {
            let mut b = json!({
                "model": req.model.endpoint,
                "prompt": req.case.prompt,
            });
            // A pixel size next to the user's own aspect_ratio or resolution is a 400.
            if !["aspect_ratio", "resolution"]
                .iter()
                .any(|k| req.case.params.contains_key(*k))
            {
                b["size"] = json!(size);
            }
            if !refs.is_empty() {
                b["input_references"] = Value::Array(refs);
            }
            b
        };
        if let Some(seed) = seed_to_send(req) {
            body["seed"] = json!(seed);
        }
        if let Some(r) = &self.route {
            body["provider"] = json!({ "order": r.order, "allow_fallbacks": r.allow_fallbacks });
        }
        merge_params(&mut body, &req.case.params);
        if !self.chat {
            // After the params: the runner keeps exactly the images it asked for.
            body["n"] = json!(count);
        }
        Ok(body)
    }
}

impl Provider for OpenRouter {
    fn max_batch(&self) -> u32 {
        self.max_batch
    }

    /// One request for `count` images (`n`, Image API only). OpenRouter reports no seed;
    /// a single image records the seed sent, while the images of a batch record none,
    /// since the spec does not say which seed each of them was drawn with.
    async fn generate_batch(
        &self,
        req: GenerationRequest<'_>,
        count: u32,
    ) -> Result<Vec<Generation>, ProviderError> {
        let start = Instant::now();
        let body = self.body(&req, count)?;
        let path = if self.chat {
            "/api/v1/chat/completions"
        } else {
            "/api/v1/images"
        };
        let url = self.http.url(HOST, path)?;
        let rb = self
            .http
            .client()
            .post(url)
            .bearer_auth(self.http.key().expose())
            .header("X-Title", "driftgate")
            .json(&body);
        let (_, v, _) = self.http.json(rb).await?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let status = err
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(502);
            let raw = v.to_string();
            return Err(self.http.classify(
                status,
                &reqwest::header::HeaderMap::new(),
                raw.as_bytes(),
            ));
        }
        let sources: Vec<&str> = if self.chat {
            v.pointer("/choices/0/message/images/0/image_url/url")
                .and_then(Value::as_str)
                .into_iter()
                .collect()
        } else {
            v.get("data")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.get("b64_json").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default()
        };
        // Chat answers say when a content filter stopped the output; the Images API's
        // answer has no such field (`ImageGenerationResponse`: created, data, usage).
        let mark = if self.chat { filter_mark(&v) } else { None };
        if sources.is_empty() {
            return Err(match mark {
                Some(m) => ProviderError::marked(
                    ErrorKind::ContentFiltered,
                    format!("no image: the platform's content filter stopped it: {m}"),
                    Metadata {
                        request_id: v.get("id").and_then(Value::as_str).map(str::to_string),
                        model: v.get("model").and_then(Value::as_str).map(str::to_string),
                        duration_ms: elapsed_ms(start),
                        platform_mark: Some(m),
                        ..Metadata::default()
                    },
                ),
                None => no_image(),
            });
        }
        let mut identity = super::Headers::default();
        // `provider` names the upstream host that served the request: a change is a
        // change of build even when the slug stays the same.
        identity.insert_fields("openrouter.", &v, &["provider", "system_fingerprint"]);
        if let Some(mt) = v.pointer("/data/0/media_type").and_then(Value::as_str) {
            identity.insert("openrouter.media_type".to_string(), mt.to_string());
        }
        let seed = if count == 1 { seed_to_send(&req) } else { None };
        let mut out = Vec::with_capacity(count as usize);
        // Both `/images` and chat answers carry `usage.cost` (USD) per the spec: the cost of
        // the whole request, kept on its first image so a night's sum counts it once.
        let mut cost = v.pointer("/usage/cost").and_then(Value::as_f64);
        for src in sources.into_iter().take(count as usize) {
            let bytes = if self.chat {
                self.http.image(src).await?
            } else {
                super::http::decode_b64(src)?
            };
            out.push(Generation {
                bytes,
                metadata: Metadata {
                    request_id: v.get("id").and_then(Value::as_str).map(str::to_string),
                    model: v.get("model").and_then(Value::as_str).map(str::to_string),
                    seed,
                    duration_ms: elapsed_ms(start),
                    headers: identity.clone(),
                    cost_usd: cost.take(),
                    platform_mark: mark.clone(),
                    ..Metadata::default()
                },
            });
        }
        Ok(out)
    }
}

/// Words in a native finish reason that name a filter (Gemini's `SAFETY`,
/// `IMAGE_SAFETY`, `PROHIBITED_CONTENT`, `BLOCKLIST`; a host's own `content_filter`).
const FILTER_WORDS: &[&str] = &["safety", "filter", "prohibited", "blocklist"];

/// A chat answer's content-filter mark: `finish_reason` `content_filter`, or a
/// `native_finish_reason` (the upstream's own, on the choice or the answer) naming a
/// safety filter; both reasons given are kept in the mark.
fn filter_mark(v: &Value) -> Option<String> {
    let choice = v.pointer("/choices/0");
    let field = |k: &str| {
        choice
            .and_then(|c| c.get(k))
            .or_else(|| v.get(k))
            .and_then(Value::as_str)
    };
    let finish = field("finish_reason");
    let native = field("native_finish_reason");
    let native_filter = native.is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        FILTER_WORDS.iter().any(|w| n.contains(w))
    });
    if finish != Some("content_filter") && !native_filter {
        return None;
    }
    let words: Vec<String> = [("finish_reason", finish), ("native_finish_reason", native)]
        .into_iter()
        .filter_map(|(k, r)| r.map(|r| format!("{k} {r}")))
        .collect();
    Some(format!("{} (OpenRouter)", words.join(", ")))
}

/// Most images one request of `model` asks for.
pub(super) fn max_images(model: &ModelPin) -> u32 {
    if model.mode.as_deref() == Some("chat") {
        1
    } else {
        IMAGES_MAX_N
    }
}

fn no_image() -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        "unexpected answer from OpenRouter: no image in the response",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_filter_finish_reasons_mark_the_sample() {
        let answer = |finish: Value, native: Value| {
            json!({"choices": [{"finish_reason": finish, "native_finish_reason": native,
                "message": {"role": "assistant"}}]})
        };
        assert_eq!(
            filter_mark(&answer(json!("content_filter"), Value::Null)).as_deref(),
            Some("finish_reason content_filter (OpenRouter)")
        );
        assert_eq!(
            filter_mark(&answer(json!("stop"), json!("IMAGE_SAFETY"))).as_deref(),
            Some("finish_reason stop, native_finish_reason IMAGE_SAFETY (OpenRouter)")
        );
        assert!(filter_mark(&answer(json!("stop"), json!("PROHIBITED_CONTENT"))).is_some());
        assert!(filter_mark(&answer(json!("stop"), json!("STOP"))).is_none());
        assert!(filter_mark(&answer(json!("length"), Value::Null)).is_none());
        assert!(filter_mark(&json!({"data": []})).is_none());
    }
}
