//! WaveSpeedAI: submit `POST {base}/api/v3/{model}`, then poll
//! `GET {base}/api/v3/predictions/{id}/result` until the task is `completed`, as the
//! official Python, Go and JavaScript SDKs do.
//!
//! The submit is sent once: the SDKs never resend a POST that may have created a task,
//! so only a 429 or a connection never made is retried ([`Http::submit`]); status reads
//! are retried in place on 429 and 5xx, the statuses the SDKs retry. WaveSpeed has no
//! cancel call, so a task still running at the run's deadline is left to finish.
//!
//! Build evidence: the `model` the task reports; per call, the task id, `timings` and
//! `has_nsfw_contents`. Seedream takes `size` as `W*H`; references go as `images`
//! (data URIs, which the platform's AI SDK provider also sends). A first output flagged
//! in `has_nsfw_contents` is WaveSpeed's mark on the sample ([`prediction::generation`]).

use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::http::{Http, data_uri, read_references};
use super::poll::{self, Step};
use super::{
    Generation, GenerationRequest, Provider, ProviderError, merge_params, prediction, seed_to_send,
};
use crate::suite::ModelPin;

const HOST: &str = "https://api.wavespeed.ai";
const WHO: &str = "WaveSpeed";
/// Wait between two status reads where the suite sets no `poll_interval_ms`.
const POLL_EVERY: Duration = Duration::from_millis(1000);

/// The WaveSpeedAI provider.
#[derive(Debug)]
pub struct WaveSpeed {
    http: Http,
    schedule: poll::Schedule,
}

impl WaveSpeed {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http, model: &ModelPin, deadline: Option<Instant>) -> Self {
        Self {
            http,
            schedule: poll::Schedule::for_model(model, POLL_EVERY, deadline),
        }
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.bearer_auth(self.http.key().expose())
    }

    fn body(req: &GenerationRequest<'_>) -> Result<Value, ProviderError> {
        let mut body = json!({
            "prompt": req.case.prompt,
            "size": format!("{}*{}", req.case.size.width, req.case.size.height),
            "enable_base64_output": false,
            "enable_sync_mode": false,
        });
        if let Some(seed) = seed_to_send(req) {
            body["seed"] = json!(seed);
        }
        let refs = read_references(req.case)?;
        if !refs.is_empty() {
            body["images"] = refs
                .iter()
                .map(|(_, b)| Value::String(data_uri(b)))
                .collect();
        }
        merge_params(&mut body, &req.case.params);
        Ok(body)
    }

    /// `/api/v3/predictions/{id}/result`, the id as one escaped path segment.
    fn result_url(&self, id: &str) -> Result<Url, ProviderError> {
        let mut url = self.http.url(HOST, "/api/v3/predictions")?;
        url.path_segments_mut()
            .map_err(|()| prediction::bad_answer(WHO, "the base URL cannot take a path"))?
            .push(id)
            .push("result");
        Ok(url)
    }
}

/// A submitted task, polled at its result route.
struct Task<'a> {
    ws: &'a WaveSpeed,
    id: String,
    url: Url,
}

impl poll::Job for Task<'_> {
    type Output = Value;

    fn label(&self) -> String {
        format!("WaveSpeed task {}", self.id)
    }

    fn next(&mut self, _: Option<&Value>) -> Result<reqwest::RequestBuilder, ProviderError> {
        Ok(self.ws.auth(self.ws.http.client().get(self.url.clone())))
    }

    fn read(&self, answer: Value) -> Result<Value, ProviderError> {
        prediction::data(&self.ws.http, &answer, &HeaderMap::new(), WHO)?;
        Ok(answer)
    }

    fn inspect(&mut self, state: &Value) -> Result<Step<Value>, ProviderError> {
        let data = prediction::data(&self.ws.http, state, &HeaderMap::new(), WHO)?;
        match prediction::inspect(data, &self.label(), WHO)? {
            Step::Pending => Ok(Step::Pending),
            Step::Done(()) => Ok(Step::Done(data.clone())),
        }
    }

    fn cancel(&self, _: Option<&Value>) -> Option<reqwest::RequestBuilder> {
        None
    }

    fn gave_up(&self, e: ProviderError) -> ProviderError {
        prediction::lost(e, &self.label())
    }
}

impl Provider for WaveSpeed {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        let start = Instant::now();
        let body = Self::body(&req)?;
        let model = req.model.endpoint.trim_matches('/');
        let url = self.http.url(HOST, &format!("/api/v3/{model}"))?;
        let (_, answer, headers) = self
            .http
            .submit(self.auth(self.http.client().post(url)).json(&body))
            .await?;
        let submitted = prediction::data(&self.http, &answer, &headers, WHO)?;
        let id = submitted
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| prediction::bad_answer(WHO, "the submit answer has no data.id"))?
            .to_string();
        let task = Task {
            ws: self,
            url: self.result_url(&id)?,
            id: id.clone(),
        };
        // The submit answer is a state too (`created`, or already `completed`).
        let first = prediction::first_state(&answer);
        let data = poll::wait(&self.http, self.schedule, task, first).await?;
        let label = format!("WaveSpeed task {id}");
        let seed = seed_to_send(&req);
        let answer = prediction::Answer {
            who: WHO,
            label: &label,
            prefix: "wavespeed.",
        };
        prediction::generation(&self.http, &data, id, &answer, seed, start).await
    }
}
