//! Atlas Cloud: submit `POST {base}/api/v1/model/generateImage` with `{model, …}`, then
//! poll `GET {base}/api/v1/model/prediction/{id}`, as Atlas Cloud's MCP server, ComfyUI
//! client and n8n node do.
//!
//! The id is `data.id` in all of them. Some of Atlas Cloud's translated docs read a
//! `predictionId` instead and poll `/model/getResult?predictionId=`; both readings are
//! handled cheaply: the id is also looked for under `predictionId`/`prediction_id`, and a
//! 404 from the prediction route switches the next read to the other route (the ComfyUI
//! client also tolerates a 404 just after creation, which this covers too). The submit is
//! sent once ([`Http::submit`]); status reads are retried in place on 429 and 5xx, as
//! Atlas Cloud's own agent notes say. There is no cancel call.
//!
//! Build evidence: the `model` the prediction reports when it does; per call, the id,
//! `metrics` and `has_nsfw_contents`. Seedream takes `size` as `W*H`; references go as
//! `images` (data URIs, as the ComfyUI nodes send), or as a single `image` on the
//! Seedream 5.0 Lite edit model, whose node sends one. A first output flagged in
//! `has_nsfw_contents` is Atlas Cloud's mark on the sample ([`prediction::generation`]).

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

const HOST: &str = "https://api.atlascloud.ai";
const WHO: &str = "Atlas Cloud";
/// Wait between two status reads where the suite sets no `poll_interval_ms`.
const POLL_EVERY: Duration = Duration::from_millis(1000);

/// The Atlas Cloud provider.
#[derive(Debug)]
pub struct AtlasCloud {
    http: Http,
    schedule: poll::Schedule,
}

impl AtlasCloud {
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
        let model = req.model.endpoint.trim_matches('/');
        let mut body = json!({
            "model": model,
            "prompt": req.case.prompt,
            "size": format!("{}*{}", req.case.size.width, req.case.size.height),
            "enable_base64_output": false,
        });
        if let Some(seed) = seed_to_send(req) {
            body["seed"] = json!(seed);
        }
        let refs: Vec<Value> = read_references(req.case)?
            .iter()
            .map(|(_, b)| Value::String(data_uri(b)))
            .collect();
        if let [one] = refs.as_slice()
            && model.ends_with("seedream-v5.0-lite/edit")
        {
            body["image"] = one.clone();
        } else if !refs.is_empty() {
            body["images"] = Value::Array(refs);
        }
        merge_params(&mut body, &req.case.params);
        Ok(body)
    }

    /// The two readings of the result route, the id as one escaped path segment or query
    /// value.
    fn routes(&self, id: &str) -> Result<[Url; 2], ProviderError> {
        let mut official = self.http.url(HOST, "/api/v1/model/prediction")?;
        official
            .path_segments_mut()
            .map_err(|()| prediction::bad_answer(WHO, "the base URL cannot take a path"))?
            .push(id);
        let mut translated = self.http.url(HOST, "/api/v1/model/getResult")?;
        translated.query_pairs_mut().append_pair("predictionId", id);
        Ok([official, translated])
    }
}

/// The prediction id in a submit answer: `data.id`, or the other reading.
fn prediction_id(data: &Value) -> Option<String> {
    ["id", "predictionId", "prediction_id"]
        .iter()
        .find_map(|k| match data.get(*k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// A submitted prediction, polled on whichever route answers.
struct Task<'a> {
    atlas: &'a AtlasCloud,
    id: String,
    routes: [Url; 2],
    route: usize,
}

impl poll::Job for Task<'_> {
    type Output = Value;

    fn label(&self) -> String {
        format!("Atlas Cloud prediction {}", self.id)
    }

    fn next(&mut self, _: Option<&Value>) -> Result<reqwest::RequestBuilder, ProviderError> {
        let url = self.routes[self.route].clone();
        Ok(self.atlas.auth(self.atlas.http.client().get(url)))
    }

    fn read(&self, answer: Value) -> Result<Value, ProviderError> {
        prediction::data(&self.atlas.http, &answer, &HeaderMap::new(), WHO)?;
        Ok(answer)
    }

    fn inspect(&mut self, state: &Value) -> Result<Step<Value>, ProviderError> {
        let data = prediction::data(&self.atlas.http, state, &HeaderMap::new(), WHO)?;
        match prediction::inspect(data, &self.label(), WHO)? {
            Step::Pending => Ok(Step::Pending),
            Step::Done(()) => Ok(Step::Done(data.clone())),
        }
    }

    fn cancel(&self, _: Option<&Value>) -> Option<reqwest::RequestBuilder> {
        None
    }

    fn tolerate(&mut self, e: &ProviderError) -> bool {
        if e.status == Some(404) {
            self.route = 1 - self.route;
            return true;
        }
        e.kind.is_retryable()
    }

    fn gave_up(&self, e: ProviderError) -> ProviderError {
        prediction::lost(e, &self.label())
    }
}

impl Provider for AtlasCloud {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        let start = Instant::now();
        let body = Self::body(&req)?;
        let url = self.http.url(HOST, "/api/v1/model/generateImage")?;
        let (_, answer, headers) = self
            .http
            .submit(self.auth(self.http.client().post(url)).json(&body))
            .await?;
        let submitted = prediction::data(&self.http, &answer, &headers, WHO)?;
        let id = prediction_id(submitted)
            .ok_or_else(|| prediction::bad_answer(WHO, "the submit answer has no data.id"))?;
        let task = Task {
            atlas: self,
            routes: self.routes(&id)?,
            route: 0,
            id: id.clone(),
        };
        let first = prediction::first_state(&answer);
        let data = poll::wait(&self.http, self.schedule, task, first).await?;
        let label = format!("Atlas Cloud prediction {id}");
        let seed = seed_to_send(&req);
        let answer = prediction::Answer {
            who: WHO,
            label: &label,
            prefix: "atlascloud.",
        };
        prediction::generation(&self.http, &data, id, &answer, seed, start).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_under_either_name() {
        assert_eq!(prediction_id(&json!({"id": "p1"})).as_deref(), Some("p1"));
        assert_eq!(
            prediction_id(&json!({"predictionId": "p2"})).as_deref(),
            Some("p2")
        );
        assert_eq!(prediction_id(&json!({"id": ""})), None);
    }
}
