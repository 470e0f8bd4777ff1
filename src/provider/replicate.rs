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
use super::poll::{self, Step};
use super::{
    ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError, elapsed_ms,
    merge_params, seed_to_send,
};
use crate::suite::ModelPin;

const HOST: &str = "https://api.replicate.com";

/// The Replicate provider.
#[derive(Debug)]
pub struct Replicate {
    http: Http,
    schedule: poll::Schedule,
}

impl Replicate {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http, model: &ModelPin, deadline: Option<Instant>) -> Self {
        Self {
            http,
            schedule: poll::Schedule {
                every: Duration::from_millis(model.poll_interval_ms.unwrap_or(500)),
                deadline,
            },
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
        let (_, created, _) = self.http.json(rb).await?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let job = Prediction {
            replicate: self,
            id: id.clone(),
        };
        let pred = poll::wait(&self.http, self.schedule, job, Some(created)).await?;
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
                per_call: super::Headers::default(),
            },
        })
    }
}

/// A created prediction, polled through the `urls.get` of its latest state.
struct Prediction<'a> {
    replicate: &'a Replicate,
    id: String,
}

impl poll::Job for Prediction<'_> {
    type Output = Value;

    fn label(&self) -> String {
        format!("prediction {}", self.id)
    }

    fn next(&mut self, last: Option<&Value>) -> Result<reqwest::RequestBuilder, ProviderError> {
        let get = last
            .and_then(|p| p.pointer("/urls/get"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Fatal,
                    "unexpected answer from Replicate: no urls.get",
                )
            })?;
        Ok(self.replicate.get(self.replicate.http.returned_url(get)?))
    }

    fn inspect(&mut self, pred: &Value) -> Result<Step<Value>, ProviderError> {
        let id = &self.id;
        match pred.get("status").and_then(Value::as_str).unwrap_or("") {
            "succeeded" => Ok(Step::Done(pred.clone())),
            "failed" => {
                let msg = pred.get("error").map_or_else(String::new, |e| {
                    e.as_str().map_or_else(|| e.to_string(), str::to_string)
                });
                let kind =
                    if is_content_filter(&msg) || msg.to_ascii_lowercase().contains("sensitive") {
                        ErrorKind::ContentFiltered
                    } else {
                        ErrorKind::Rejected
                    };
                Err(ProviderError::new(
                    kind,
                    format!("prediction {id} failed: {msg}"),
                ))
            }
            s @ ("canceled" | "aborted") => Err(ProviderError::new(
                ErrorKind::Transient,
                format!("prediction {id} was {s}"),
            )),
            _ => Ok(Step::Pending),
        }
    }

    fn cancel(&self, last: Option<&Value>) -> Option<reqwest::RequestBuilder> {
        let u = last?.pointer("/urls/cancel").and_then(Value::as_str)?;
        let url = self.replicate.http.returned_url(u).ok()?;
        Some(
            self.replicate
                .http
                .client()
                .post(url)
                .bearer_auth(self.replicate.http.key().expose()),
        )
    }
}
