//! BytePlus ModelArk / Volcengine Ark: `POST /api/v3/images/generations`, synchronous.
//!
//! Ark adds a visible "AI generated" watermark unless told not to, so `watermark:false`
//! is sent by default: a baseline must not depend on a default the platform may change.
//! Images are asked for as base64 so nothing depends on 24-hour URLs. A 200 can still
//! carry a per-image error, which is checked before the image: the content filter's is
//! Ark's mark on the sample (`ProviderError::marked`), any other fails the sample.

use std::time::Instant;

use serde_json::{Value, json};

use super::http::{Http, data_uri, header_str, is_content_filter, read_references};
use super::{
    ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError, elapsed_ms,
    merge_params, seed_to_send,
};

const HOST: &str = "https://ark.ap-southeast.bytepluses.com";

/// The Ark provider.
#[derive(Debug)]
pub struct Ark {
    http: Http,
}

impl Ark {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http) -> Self {
        Self { http }
    }
}

fn item_error(err: &Value) -> ProviderError {
    let code = err.get("code").and_then(Value::as_str).unwrap_or("");
    let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
    let kind = if is_content_filter(code) {
        ErrorKind::ContentFiltered
    } else {
        ErrorKind::Rejected
    };
    ProviderError::new(kind, format!("{msg} [{code}]"))
}

/// Whether a per-item error code is Ark's content filter on that image
/// (`OutputImageRiskDetection`, `OutputImageSensitiveContentDetected` and their kin).
fn is_item_filter(code: &str) -> bool {
    is_content_filter(code) || code.contains("Sensitive")
}

/// A `data[]` item that is an error: the content filter's is Ark's mark on the sample
/// (drift when judged, as the platform answered and withheld the image); any other
/// (an internal failure) fails the sample as before.
fn item_failure(err: &Value, v: &Value, metadata: Metadata) -> ProviderError {
    let code = err.get("code").and_then(Value::as_str).unwrap_or("");
    if !is_item_filter(code) {
        return item_error(err);
    }
    let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
    ProviderError::marked(
        ErrorKind::ContentFiltered,
        format!("{msg} [{code}]"),
        Metadata {
            model: v.get("model").and_then(Value::as_str).map(str::to_string),
            platform_mark: Some(format!("{code} (Ark)")),
            ..metadata
        },
    )
}

impl Provider for Ark {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        let start = Instant::now();
        let mut body = json!({
            "model": req.model.endpoint,
            "prompt": req.case.prompt,
            "size": format!("{}x{}", req.case.size.width, req.case.size.height),
            "sequential_image_generation": "disabled",
            "response_format": "b64_json",
            "watermark": false,
        });
        if let Some(seed) = seed_to_send(&req) {
            body["seed"] = json!(seed);
        }
        let refs = read_references(req.case)?;
        if !refs.is_empty() {
            body["image"] = refs
                .iter()
                .map(|(_, b)| Value::String(data_uri(b)))
                .collect();
        }
        merge_params(&mut body, &req.case.params);
        let url = self.http.url(HOST, "/api/v3/images/generations")?;
        let rb = self
            .http
            .client()
            .post(url)
            .bearer_auth(self.http.key().expose())
            .json(&body);
        let (_, v, headers) = self.http.json(rb).await?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(item_error(err));
        }
        let item = v.pointer("/data/0").ok_or_else(|| {
            ProviderError::new(ErrorKind::Fatal, "unexpected answer from Ark: no data")
        })?;
        if let Some(err) = item.get("error") {
            let answered = Metadata {
                request_id: header_str(&headers, "x-request-id"),
                seed: seed_to_send(&req),
                duration_ms: elapsed_ms(start),
                ..Metadata::default()
            };
            return Err(item_failure(err, &v, answered));
        }
        let bytes = self.http.b64_or_url(item, "Ark").await?;
        let mut identity = super::Headers::default();
        identity.insert_fields("ark.", item, &["size", "output_format"]);
        Ok(Generation {
            bytes,
            metadata: Metadata {
                request_id: header_str(&headers, "x-request-id"),
                model: v.get("model").and_then(Value::as_str).map(str::to_string),
                seed: seed_to_send(&req),
                duration_ms: elapsed_ms(start),
                headers: identity,
                ..Metadata::default()
            },
        })
    }
}
