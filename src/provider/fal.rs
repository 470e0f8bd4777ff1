//! fal.ai: the queue (`queue.fal.run`, default) or the synchronous host (`fal.run`).
//!
//! Queue flow: submit, poll the `status_url` the submit answer names until `COMPLETED`,
//! then fetch `response_url`. Those URLs are used as given, never rebuilt from the
//! endpoint id, because fal puts them under the owner/app only. `COMPLETED` does not
//! mean success: a failed job shows its error (often a 422) when the result is fetched.
//! A job still running at the run's deadline is cancelled through its `cancel_url`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http::{Http, data_uri, header_str, is_content_filter, read_references};
use super::poll::{self, Step};
use super::{
    ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError, elapsed_ms,
    merge_params, seed_to_send,
};
use crate::suite::ModelPin;

const QUEUE_HOST: &str = "https://queue.fal.run";
const SYNC_HOST: &str = "https://fal.run";
/// Wait between two status reads where the suite sets no `poll_interval_ms`.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// The fal.ai provider.
#[derive(Debug)]
pub struct Fal {
    http: Http,
    sync: bool,
    max_batch: u32,
    schedule: poll::Schedule,
}

impl Fal {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http, model: &ModelPin, deadline: Option<Instant>) -> Self {
        Self {
            http,
            sync: model.mode.as_deref() == Some("sync"),
            max_batch: super::max_batch(model),
            schedule: poll::Schedule::for_model(model, POLL_EVERY, deadline),
        }
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.header("Authorization", format!("Key {}", self.http.key().expose()))
    }

    fn body(req: &GenerationRequest<'_>, count: u32) -> Result<Value, ProviderError> {
        let mut body = json!({
            "prompt": req.case.prompt,
            "image_size": { "width": req.case.size.width, "height": req.case.size.height },
            "num_images": 1,
        });
        if let Some(seed) = seed_to_send(req) {
            body["seed"] = json!(seed);
        }
        let refs = read_references(req.case)?;
        if !refs.is_empty() {
            body["image_urls"] = refs
                .iter()
                .map(|(_, b)| Value::String(data_uri(b)))
                .collect();
        }
        merge_params(&mut body, &req.case.params);
        // Set after the params: the runner keeps exactly the images it asked for, and a
        // `num_images` in params would be billed for images nobody reads.
        body["num_images"] = json!(count);
        Ok(body)
    }

    async fn queue(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> Result<(Value, Option<String>, Option<f64>), ProviderError> {
        let url = self.http.url(QUEUE_HOST, &format!("/{endpoint}"))?;
        let (_, submit, _) = self
            .http
            .json(self.auth(self.http.client().post(url)).json(body))
            .await?;
        let id = submit
            .get("request_id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_answer("the submit answer has no request_id"))?
            .to_string();
        let named = |k: &str| submit.get(k).and_then(Value::as_str).map(str::to_string);
        // Older answers may lack the URLs; fal documents them under owner/app.
        let app: Vec<&str> = endpoint.split('/').take(2).collect();
        let fallback = |suffix: &str| {
            self.http
                .url(
                    QUEUE_HOST,
                    &format!("/{}/requests/{id}{suffix}", app.join("/")),
                )
                .map(|u| u.to_string())
        };
        let status_url = match named("status_url") {
            Some(u) => u,
            None => fallback("/status")?,
        };
        let response_url = match named("response_url") {
            Some(u) => u,
            None => fallback("")?,
        };
        let cancel_url = match named("cancel_url") {
            Some(u) => u,
            None => fallback("/cancel")?,
        };
        let job = FalJob {
            fal: self,
            id: id.clone(),
            status_url,
            cancel_url,
        };
        poll::wait(&self.http, self.schedule, job, None).await?;
        let url = self.http.returned_url(&response_url)?;
        let (_, result, h) = self
            .http
            .json(self.auth(self.http.client().get(url)))
            .await?;
        Ok((result, Some(id), billable_units(&h)))
    }
}

/// A submitted fal queue request, polled through the URLs the submit answer named.
struct FalJob<'a> {
    fal: &'a Fal,
    id: String,
    status_url: String,
    cancel_url: String,
}

impl poll::Job for FalJob<'_> {
    type Output = ();

    fn label(&self) -> String {
        format!("fal request {}", self.id)
    }

    fn next(&mut self, _: Option<&Value>) -> Result<reqwest::RequestBuilder, ProviderError> {
        let url = self.fal.http.returned_url(&self.status_url)?;
        Ok(self.fal.auth(self.fal.http.client().get(url)))
    }

    fn inspect(&mut self, status: &Value) -> Result<Step<()>, ProviderError> {
        match status.get("status").and_then(Value::as_str).unwrap_or("") {
            "IN_QUEUE" | "IN_PROGRESS" => Ok(Step::Pending),
            "CANCELED" | "CANCELLED" => Err(ProviderError::new(
                ErrorKind::Transient,
                format!("fal request {} was cancelled by the platform", self.id),
            )),
            // `COMPLETED` per fal's docs; `FAILED`/`ERROR` per a third-party schema.
            // Either way the result fetch carries the real outcome.
            "COMPLETED" | "FAILED" | "ERROR" => {
                if let Some(err) = status.get("error").filter(|e| !e.is_null()) {
                    let ty = status
                        .get("error_type")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let msg = err.as_str().map_or_else(|| err.to_string(), str::to_string);
                    let kind = if is_content_filter(&format!("{ty} {msg}")) {
                        ErrorKind::ContentFiltered
                    } else {
                        ErrorKind::Rejected
                    };
                    return Err(ProviderError::new(kind, format!("{msg} [{ty}]")));
                }
                Ok(Step::Done(()))
            }
            other => Err(bad_answer(&format!("unknown queue status `{other}`"))),
        }
    }

    fn cancel(&self, _: Option<&Value>) -> Option<reqwest::RequestBuilder> {
        let url = self.fal.http.returned_url(&self.cancel_url).ok()?;
        Some(self.fal.auth(self.fal.http.client().put(url)))
    }
}

impl Provider for Fal {
    fn max_batch(&self) -> u32 {
        self.max_batch
    }

    /// One request for `count` images (`num_images`). fal reports one `seed` per request
    /// and does not document which seed each image of a batch was drawn with, so every
    /// image carries the seed the platform reported.
    async fn generate_batch(
        &self,
        req: GenerationRequest<'_>,
        count: u32,
    ) -> Result<Vec<Generation>, ProviderError> {
        let start = Instant::now();
        let body = Self::body(&req, count)?;
        let endpoint = req.model.endpoint.trim_matches('/');
        let (result, request_id, units) = if self.sync {
            let url = self.http.url(SYNC_HOST, &format!("/{endpoint}"))?;
            let (_, v, h) = self
                .http
                .json(self.auth(self.http.client().post(url)).json(&body))
                .await?;
            (v, header_str(&h, "x-fal-request-id"), billable_units(&h))
        } else {
            self.queue(endpoint, &body).await?
        };
        let images = result
            .get("images")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| bad_answer("the result has no images"))?;
        let seed = result.get("seed").and_then(Value::as_u64);
        // Billed per request: kept on the first image so a night's sum counts it once.
        let mut units = units;
        let mut out = Vec::with_capacity(count as usize);
        for (i, image) in images.iter().take(count as usize).enumerate() {
            let url = image
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| bad_answer("the result image has no url"))?;
            let bytes = self.http.image(url).await?;
            let mut identity = super::Headers::default();
            identity.insert_fields("fal.", image, &["content_type"]);
            if let (Some(w), Some(h)) = (
                image.get("width").and_then(Value::as_u64),
                image.get("height").and_then(Value::as_u64),
            ) {
                identity.insert("fal.size".to_string(), format!("{w}x{h}"));
            }
            out.push(Generation {
                bytes,
                metadata: Metadata {
                    request_id: request_id.clone(),
                    model: None,
                    seed,
                    duration_ms: elapsed_ms(start),
                    headers: identity,
                    billable_units: units.take(),
                    platform_mark: nsfw_mark(&result, i),
                    ..Metadata::default()
                },
            });
        }
        Ok(out)
    }
}

/// fal's mark on image `i`: a true entry of `has_nsfw_concepts`, one bool per image.
/// FLUX-family outputs declare it; Seedream's schema does not, so it is read when present.
fn nsfw_mark(result: &Value, i: usize) -> Option<String> {
    let flagged = result
        .get("has_nsfw_concepts")
        .and_then(|f| f.get(i))
        .and_then(Value::as_bool);
    (flagged == Some(true)).then(|| "has_nsfw_concepts (fal)".to_string())
}

/// `x-fal-billable-units`: what fal bills the request as. UNVERIFIED: fal's toolkit sets
/// it and third-party clients read it, but its API reference does not document it.
fn billable_units(h: &reqwest::header::HeaderMap) -> Option<f64> {
    header_str(h, "x-fal-billable-units").and_then(|s| s.trim().parse().ok())
}

fn bad_answer(what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("unexpected answer from fal: {what}"),
    )
}
