//! OpenAI Images: `POST /v1/images/generations` (JSON) without references, and
//! `POST /v1/images/edits` (multipart, the references as files) with them.
//!
//! The body carries no model or request id; the build evidence is the `openai-version`
//! header and the echoed `size`, `quality`, `output_format` and `background`. There is
//! no seed parameter, so suites default to `send_seed: false` here.

use std::time::Instant;

use reqwest::multipart::{Form, Part};
use serde_json::json;

use super::http::{Http, header_str, mime_of, read_references};
use super::{
    ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError, elapsed_ms,
    merge_params,
};

const HOST: &str = "https://api.openai.com";
/// Most images one request asks for: `n` is "Must be between 1 and 10" in both
/// `CreateImageRequest` and `CreateImageEditRequest` of `../shared/specs/openai-openapi.yaml`
/// (`dall-e-3` allows only `n=1`; a suite pinning it would be refused by the platform).
pub(super) const MAX_N: u32 = 10;

/// The OpenAI provider.
#[derive(Debug)]
pub struct OpenAi {
    http: Http,
    max_batch: u32,
}

impl OpenAi {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http, model: &crate::suite::ModelPin) -> Self {
        Self {
            http,
            max_batch: super::max_batch(model),
        }
    }
}

impl Provider for OpenAi {
    fn max_batch(&self) -> u32 {
        self.max_batch
    }

    /// One request for `count` images (`n`). There is no seed, so there is none to record.
    async fn generate_batch(
        &self,
        req: GenerationRequest<'_>,
        count: u32,
    ) -> Result<Vec<Generation>, ProviderError> {
        let start = Instant::now();
        let mut fields = json!({
            "model": req.model.endpoint,
            "prompt": req.case.prompt,
            "size": format!("{}x{}", req.case.size.width, req.case.size.height),
        });
        merge_params(&mut fields, &req.case.params);
        // After the params: the runner keeps exactly the images it asked for.
        fields["n"] = json!(count);
        let refs = read_references(req.case)?;
        let client = self.http.client();
        let rb = if refs.is_empty() {
            let url = self.http.url(HOST, "/v1/images/generations")?;
            client.post(url).json(&fields)
        } else {
            let url = self.http.url(HOST, "/v1/images/edits")?;
            let mut form = Form::new();
            if let Some(obj) = fields.as_object() {
                for (k, v) in obj {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    form = form.text(k.clone(), text);
                }
            }
            // One file goes as `image`, several as `image[]`, as the spec's examples do.
            let name = if refs.len() == 1 { "image" } else { "image[]" };
            for (ref_name, bytes) in refs {
                let file = ref_name
                    .rsplit('/')
                    .next()
                    .unwrap_or("reference")
                    .to_string();
                let part = Part::bytes(bytes.clone())
                    .file_name(file)
                    .mime_str(mime_of(&bytes))
                    .map_err(|e| {
                        ProviderError::new(ErrorKind::Fatal, format!("bad reference type: {e}"))
                    })?;
                form = form.part(name, part);
            }
            client.post(url).multipart(form)
        };
        let (_, v, headers) = self
            .http
            .json(rb.bearer_auth(self.http.key().expose()))
            .await?;
        let items = v
            .get("data")
            .and_then(serde_json::Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(no_data)?;
        let mut identity = super::Headers::default();
        if let Some(h) = header_str(&headers, "openai-version") {
            identity.insert("openai-version".to_string(), h);
        }
        identity.insert_fields(
            "openai.",
            &v,
            &["size", "quality", "output_format", "background"],
        );
        let request_id = header_str(&headers, "x-request-id");
        let mut out = Vec::with_capacity(count as usize);
        for item in items.iter().take(count as usize) {
            out.push(Generation {
                bytes: self.http.b64_or_url(item, "OpenAI").await?,
                metadata: Metadata {
                    request_id: request_id.clone(),
                    model: None,
                    seed: None,
                    duration_ms: elapsed_ms(start),
                    headers: identity.clone(),
                    ..Metadata::default()
                },
            });
        }
        Ok(out)
    }
}

fn no_data() -> ProviderError {
    ProviderError::new(ErrorKind::Fatal, "unexpected answer from OpenAI: no data")
}
