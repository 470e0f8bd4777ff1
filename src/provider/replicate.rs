//! Replicate predictions.
//!
//! With `version` set the prediction is created on `POST /v1/predictions` pinned to that
//! 64-hex id, the strongest pin any platform offers; without one it goes to the official
//! model route `POST /v1/models/{owner}/{name}/predictions`, which Replicate may advance.
//! `Prefer: wait` lets a fast prediction finish in the create call; otherwise `urls.get`
//! is polled. A prediction still running at the run's deadline is cancelled.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http::{Http, data_uri, is_content_filter, read_references};
use super::{
    ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError, elapsed_ms,
    merge_params, seed_to_send,
};
use crate::suite::ModelPin;

const HOST: &str = "https://api.replicate.com";
const MAX_POLL_FAILURES: u32 = 5;

/// The Replicate provider.
#[derive(Debug)]
pub struct Replicate {
    http: Http,
    poll: Duration,
    deadline: Option<Instant>,
}

impl Replicate {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http, model: &ModelPin, deadline: Option<Instant>) -> Self {
        Self {
            http,
            poll: Duration::from_millis(model.poll_interval_ms.unwrap_or(500)),
            deadline,
        }
    }

    fn get(&self, url: reqwest::Url) -> reqwest::RequestBuilder {
        self.http
            .client()
            .get(url)
            .bearer_auth(self.http.key().expose())
    }

    fn input(req: &GenerationRequest<'_>) -> Result<Value, ProviderError> {
        let mut input = json!({ "prompt": req.case.prompt });
        // Model inputs differ per model; size keys are sent only when the suite does
        // not choose its own (`size` other than `custom`, `aspect_ratio`, `width`).
        let p = &req.case.params;
        let custom = p.get("size").and_then(Value::as_str) == Some("custom");
        if custom
            || !(p.contains_key("size")
                || p.contains_key("aspect_ratio")
                || p.contains_key("width"))
        {
            input["width"] = json!(req.case.size.width);
            input["height"] = json!(req.case.size.height);
        }
        if let Some(seed) = seed_to_send(req) {
            input["seed"] = json!(seed);
        }
        let refs = read_references(req.case)?;
        if !refs.is_empty() {
            input["image_input"] = refs
                .iter()
                .map(|(_, b)| Value::String(data_uri(b)))
                .collect();
        }
        merge_params(&mut input, p);
        Ok(input)
    }

    async fn cancel(&self, prediction: &Value) {
        if let Some(u) = prediction.pointer("/urls/cancel").and_then(Value::as_str)
            && let Ok(url) = self.http.returned_url(u)
        {
            let rb = self
                .http
                .client()
                .post(url)
                .bearer_auth(self.http.key().expose())
                .timeout(Duration::from_secs(3));
            let _ = rb.send().await;
        }
    }
}

impl Provider for Replicate {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        let start = Instant::now();
        let input = Self::input(&req)?;
        let (path, body) = match &req.model.version {
            Some(v) => (
                "/v1/predictions".to_string(),
                json!({ "version": v, "input": input }),
            ),
            None => (
                format!(
                    "/v1/models/{}/predictions",
                    req.model.endpoint.trim_matches('/')
                ),
                json!({ "input": input }),
            ),
        };
        let url = self.http.url(HOST, &path)?;
        let rb = self
            .http
            .client()
            .post(url)
            .bearer_auth(self.http.key().expose())
            .header("Prefer", "wait=60")
            .json(&body);
        let (_, mut pred, _) = self.http.json(rb).await?;
        let id = pred
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut failures = 0;
        loop {
            match pred.get("status").and_then(Value::as_str).unwrap_or("") {
                "succeeded" => break,
                "failed" => {
                    let msg = pred.get("error").map_or_else(String::new, |e| {
                        e.as_str().map_or_else(|| e.to_string(), str::to_string)
                    });
                    let kind = if is_content_filter(&msg)
                        || msg.to_ascii_lowercase().contains("sensitive")
                    {
                        ErrorKind::ContentFiltered
                    } else {
                        ErrorKind::Rejected
                    };
                    return Err(ProviderError::new(
                        kind,
                        format!("prediction {id} failed: {msg}"),
                    ));
                }
                "canceled" | "aborted" => {
                    return Err(ProviderError::new(
                        ErrorKind::Transient,
                        format!(
                            "prediction {id} was {}",
                            pred["status"].as_str().unwrap_or("")
                        ),
                    ));
                }
                _ => {}
            }
            if self
                .deadline
                .is_some_and(|d| Instant::now() + self.poll >= d)
            {
                self.cancel(&pred).await;
                return Err(ProviderError::new(
                    ErrorKind::Transient,
                    format!("the run deadline was reached; prediction {id} was cancelled"),
                ));
            }
            tokio::time::sleep(self.poll).await;
            let get = pred
                .pointer("/urls/get")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::Fatal,
                        "unexpected answer from Replicate: no urls.get",
                    )
                })?;
            match self
                .http
                .json(self.get(self.http.returned_url(&get)?))
                .await
            {
                Ok((_, v, _)) => {
                    failures = 0;
                    pred = v;
                }
                Err(e) if e.kind.is_retryable() && failures + 1 < MAX_POLL_FAILURES => {
                    failures += 1
                }
                Err(e) => return Err(e),
            }
        }
        let out = match pred.get("output") {
            Some(Value::String(s)) => Some(s.as_str()),
            Some(Value::Array(a)) => a.first().and_then(Value::as_str),
            _ => None,
        }
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("prediction {id} succeeded without an image output"),
            )
        })?;
        let bytes = self.http.image(out).await?;
        let reported = match (
            pred.get("model").and_then(Value::as_str),
            pred.get("version").and_then(Value::as_str),
        ) {
            (Some(m), Some(v)) => Some(format!("{m}:{v}")),
            (None, Some(v)) => Some(v.to_string()),
            (Some(m), None) => Some(m.to_string()),
            (None, None) => None,
        };
        Ok(Generation {
            bytes,
            metadata: Metadata {
                request_id: Some(id).filter(|s| !s.is_empty()),
                model: reported,
                seed: seed_to_send(&req),
                duration_ms: elapsed_ms(start),
                headers: super::Headers::default(),
            },
        })
    }
}
