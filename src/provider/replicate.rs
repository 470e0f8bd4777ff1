//! Replicate predictions.
//!
//! With `version` set the prediction is created on `POST /v1/predictions` pinned to that
//! 64-hex id, the strongest pin any platform offers; without one it goes to the official
//! model route `POST /v1/models/{owner}/{name}/predictions`, which Replicate may advance.
//! `Prefer: wait` lets a fast prediction finish in the create call; otherwise `urls.get`
//! is polled. A prediction still running at the run's deadline is cancelled.
//!
//! Replicate ignores inputs a version does not declare, silently, and still bills the
//! prediction. So before the first prediction the version's input schema is read once
//! (`GET /v1/models/{owner}/{name}/versions/{id}`, or the model's `latest_version` when
//! unpinned) and every input is checked against it: the case's size goes to the fields
//! the schema has (`size` tiers, `width`/`height`, `aspect_ratio`), a seed only where
//! `seed` exists, and anything else undeclared is refused before it costs money.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;

use super::http::{Http, data_uri, is_content_filter, read_references};
use super::poll::{self, Step};
use super::{
    ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError, elapsed_ms,
    merge_params, seed_to_send,
};
use crate::suite::{ModelPin, Size};

const HOST: &str = "https://api.replicate.com";
/// Wait between two status reads where the suite sets no `poll_interval_ms`.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// The Replicate provider.
#[derive(Debug)]
pub struct Replicate {
    http: Http,
    schedule: poll::Schedule,
    /// The version's declared inputs, read once per suite; `None` inside when the
    /// platform published no schema. A failed read is not kept, so a retry reads again.
    schema: OnceCell<Option<InputSchema>>,
}

impl Replicate {
    /// The key this provider sends, for scrubbing what comes back.
    pub(super) fn key(&self) -> &super::ApiKey {
        self.http.key()
    }

    pub(super) fn new(http: Http, model: &ModelPin, deadline: Option<Instant>) -> Self {
        Self {
            http,
            schedule: poll::Schedule::for_model(model, POLL_EVERY, deadline),
            schema: OnceCell::new(),
        }
    }

    fn get(&self, url: reqwest::Url) -> reqwest::RequestBuilder {
        self.http
            .client()
            .get(url)
            .bearer_auth(self.http.key().expose())
    }

    /// The input schema of the version predictions will run on, read on first use.
    async fn schema(&self, model: &ModelPin) -> Result<Option<&InputSchema>, ProviderError> {
        self.schema
            .get_or_try_init(|| self.read_schema(model))
            .await
            .map(Option::as_ref)
    }

    async fn read_schema(&self, model: &ModelPin) -> Result<Option<InputSchema>, ProviderError> {
        let endpoint = model.endpoint.trim_matches('/');
        let path = match &model.version {
            Some(v) => format!("/v1/models/{endpoint}/versions/{v}"),
            None => format!("/v1/models/{endpoint}"),
        };
        let url = self.http.url(HOST, &path)?;
        let (_, answer, _) = self.http.json(self.get(url)).await.map_err(|mut e| {
            e.message = format!(
                "cannot read the input schema of {endpoint} (GET {path}): {}",
                e.message
            );
            e
        })?;
        let (version, source) = match &model.version {
            Some(v) => (&answer, format!("{endpoint} version {}", short(v))),
            None => {
                let latest = &answer["latest_version"];
                let id = latest.get("id").and_then(Value::as_str).unwrap_or("?");
                (latest, format!("{endpoint} (latest version {})", short(id)))
            }
        };
        Ok(InputSchema::from_version(version, source))
    }

    /// The prediction input, and whether the suite's seed had to be left out because
    /// the version declares none.
    fn input(
        req: &GenerationRequest<'_>,
        schema: Option<&InputSchema>,
    ) -> Result<(Value, bool), ProviderError> {
        let mut input = json!({ "prompt": req.case.prompt });
        // Model inputs differ per model; size keys are sent only when the suite does
        // not choose its own (`size` other than `custom`, `aspect_ratio`, `width`).
        let p = &req.case.params;
        let custom = p.get("size").and_then(Value::as_str) == Some("custom");
        let chooses = |keys: &[&str]| keys.iter().any(|k| p.contains_key(*k));
        let pixels = match schema {
            Some(s) if !chooses(&["size", "aspect_ratio", "width", "height"]) => {
                if let Some(obj) = input.as_object_mut() {
                    obj.extend(s.size_fields(req.case.size));
                }
                false
            }
            Some(_) => custom && !chooses(&["width", "height"]),
            None => custom || !chooses(&["size", "aspect_ratio", "width"]),
        };
        if pixels {
            input["width"] = json!(req.case.size.width);
            input["height"] = json!(req.case.size.height);
        }
        let mut seed_dropped = false;
        if let Some(seed) = seed_to_send(req) {
            if schema.is_none_or(|s| s.has("seed")) {
                input["seed"] = json!(seed);
            } else {
                seed_dropped = true;
            }
        }
        let refs = read_references(req.case)?;
        if !refs.is_empty() {
            input["image_input"] = refs
                .iter()
                .map(|(_, b)| Value::String(data_uri(b)))
                .collect();
        }
        merge_params(&mut input, p);
        if let (Some(s), Some(obj)) = (schema, input.as_object()) {
            s.check(obj.keys())?;
        }
        Ok((input, seed_dropped))
    }
}

impl Provider for Replicate {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        let start = Instant::now();
        let schema = self.schema(req.model).await?;
        let (input, seed_dropped) = Self::input(&req, schema)?;
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
        // Official-model predictions answer `version: "hidden"`: a constant, so recording
        // it as a pin would make a new version impossible to see.
        let hidden = pred.get("version").and_then(Value::as_str) == Some("hidden");
        let version = pred
            .get("version")
            .and_then(Value::as_str)
            .filter(|_| !hidden);
        let reported = match (pred.get("model").and_then(Value::as_str), version) {
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
                seed: seed_to_send(&req).filter(|_| !seed_dropped),
                duration_ms: elapsed_ms(start),
                headers: super::Headers::default(),
                no_version_evidence: hidden,
                seed_not_honoured: seed_dropped,
                predict_time_s: pred
                    .pointer("/metrics/predict_time")
                    .and_then(Value::as_f64),
                ..Metadata::default()
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

/// A version id as shown in messages.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// The inputs a Replicate version declares: `openapi_schema.components.schemas.Input`.
#[derive(Debug, Clone, PartialEq)]
struct InputSchema {
    /// Which version, for messages.
    source: String,
    /// Each declared input with its schema, `$ref`s to sibling schemas merged in (Cog
    /// puts an enum's values in a schema of its own and points to it from `allOf`).
    props: BTreeMap<String, Value>,
}

impl InputSchema {
    fn from_version(version: &Value, source: String) -> Option<Self> {
        let schemas = version.pointer("/openapi_schema/components/schemas")?;
        let props = schemas.pointer("/Input/properties")?.as_object()?;
        let props = props
            .iter()
            .map(|(k, v)| (k.clone(), resolve(v, schemas)))
            .collect();
        Some(Self { source, props })
    }

    fn has(&self, name: &str) -> bool {
        self.props.contains_key(name)
    }

    /// The values an input allows, when it is an enumeration.
    fn allowed(&self, name: &str) -> Option<Vec<&str>> {
        let values = self.props.get(name)?.get("enum")?.as_array()?;
        Some(values.iter().filter_map(Value::as_str).collect())
    }

    /// Whether `v` is inside the declared `minimum`..`maximum` of a numeric input.
    fn fits(&self, name: &str, v: u32) -> bool {
        let Some(p) = self.props.get(name) else {
            return false;
        };
        let v = f64::from(v);
        p.get("minimum")
            .and_then(Value::as_f64)
            .is_none_or(|m| v >= m)
            && p.get("maximum")
                .and_then(Value::as_f64)
                .is_none_or(|m| v <= m)
    }

    /// The case's size in the version's own terms: exact pixels through `size: custom`
    /// or `width`/`height` when declared and in range, else the smallest `size` tier
    /// that covers the longer side plus the `aspect_ratio`, else `aspect_ratio` alone.
    fn size_fields(&self, size: Size) -> Map<String, Value> {
        let (w, h) = (size.width, size.height);
        let exact = self.fits("width", w) && self.fits("height", h);
        let mut out = Map::new();
        if let Some(tiers) = self.allowed("size") {
            if exact && tiers.contains(&"custom") {
                out.insert("size".into(), json!("custom"));
                out.insert("width".into(), json!(w));
                out.insert("height".into(), json!(h));
                return out;
            }
            if let Some(t) = tier(&tiers, w.max(h)) {
                out.insert("size".into(), json!(t));
            }
        } else if exact {
            out.insert("width".into(), json!(w));
            out.insert("height".into(), json!(h));
            return out;
        }
        let ratio = aspect_ratio(w, h);
        let accepted = match self.allowed("aspect_ratio") {
            Some(values) => values.contains(&ratio.as_str()),
            None => self.has("aspect_ratio"),
        };
        if accepted {
            out.insert("aspect_ratio".into(), json!(ratio));
        }
        out
    }

    /// Refuses the first input the version does not declare.
    fn check<'a>(&self, names: impl Iterator<Item = &'a String>) -> Result<(), ProviderError> {
        for name in names {
            if !self.has(name) {
                let declared: Vec<&str> = self.props.keys().map(String::as_str).collect();
                let how = if name == "image_input" {
                    "the case has references, but"
                } else {
                    "the case sends it, but"
                };
                return Err(ProviderError::new(
                    ErrorKind::Rejected,
                    format!(
                        "input `{name}` is not declared by {}: {how} Replicate would ignore it silently and still bill the prediction; declared inputs: {}",
                        self.source,
                        declared.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `v` with the schemas it points to (`$ref`, or `allOf` of `$ref`s) merged in; its own
/// keys win.
fn resolve(v: &Value, schemas: &Value) -> Value {
    let mut out = v.as_object().cloned().unwrap_or_default();
    let refs = v
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(v.get("$ref").map(|_| v))
        .filter_map(|r| r.get("$ref").and_then(Value::as_str))
        .filter_map(|r| r.strip_prefix("#/components/schemas/"))
        .filter_map(|name| schemas.get(name).and_then(Value::as_object));
    for target in refs.collect::<Vec<_>>() {
        for (k, val) in target {
            out.entry(k.clone()).or_insert_with(|| val.clone());
        }
    }
    Value::Object(out)
}

/// The smallest `NK` tier (N x 1024 px) covering `side`, else the largest.
fn tier<'a>(tiers: &[&'a str], side: u32) -> Option<&'a str> {
    let mut px: Vec<(u32, &str)> = tiers
        .iter()
        .filter_map(|t| Some((t.strip_suffix('K')?.parse::<u32>().ok()? * 1024, *t)))
        .collect();
    px.sort_unstable();
    px.iter()
        .find(|(p, _)| *p >= side)
        .or_else(|| px.last())
        .map(|(_, t)| *t)
}

/// `w:h` in lowest terms (`16:9`).
fn aspect_ratio(w: u32, h: u32) -> String {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let g = gcd(w, h).max(1);
    format!("{}:{}", w / g, h / g)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of Seedream 4.5 version 9fe3b828's schema: `size` is an `allOf` `$ref`
    /// to an enum with `custom`, and `width`/`height` are bounded.
    fn seedream(custom: bool) -> InputSchema {
        let mut tiers = vec!["2K", "4K"];
        let mut input = json!({
            "prompt": {"type": "string"},
            "image_input": {"type": "array"},
            "size": {"allOf": [{"$ref": "#/components/schemas/size"}], "default": "2K"},
            "aspect_ratio": {"allOf": [{"$ref": "#/components/schemas/aspect_ratio"}]},
        });
        if custom {
            tiers.push("custom");
            input["width"] = json!({"type": "integer", "minimum": 1024, "maximum": 4096});
            input["height"] = json!({"type": "integer", "minimum": 1024, "maximum": 4096});
        }
        let version = json!({"openapi_schema": {"components": {"schemas": {
            "Input": {"type": "object", "properties": input},
            "size": {"enum": tiers, "type": "string"},
            "aspect_ratio": {"enum": ["match_input_image", "1:1", "4:3", "16:9"], "type": "string"},
        }}}});
        InputSchema::from_version(&version, "v".into()).expect("schema")
    }

    fn size(width: u32, height: u32) -> Size {
        Size { width, height }
    }

    #[test]
    fn size_goes_to_the_fields_the_version_declares() {
        let with_custom = seedream(true);
        assert_eq!(
            Value::Object(with_custom.size_fields(size(2048, 1536))),
            json!({"size": "custom", "width": 2048, "height": 1536})
        );
        // Below the declared minimum: a tier and the ratio instead of a 422.
        assert_eq!(
            Value::Object(with_custom.size_fields(size(512, 512))),
            json!({"size": "2K", "aspect_ratio": "1:1"})
        );
        let tiers_only = seedream(false);
        assert_eq!(
            Value::Object(tiers_only.size_fields(size(3840, 2160))),
            json!({"size": "4K", "aspect_ratio": "16:9"})
        );
        // A ratio the enum lacks is left to the model's default.
        assert_eq!(
            Value::Object(tiers_only.size_fields(size(1000, 700))),
            json!({"size": "2K"})
        );
    }

    #[test]
    fn undeclared_inputs_are_named_with_the_declared_ones() {
        let s = seedream(false);
        let e = s
            .check(["prompt".to_string(), "seed".to_string()].iter())
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert!(e.message.contains("input `seed` is not declared"), "{e}");
        assert!(
            e.message
                .contains("declared inputs: aspect_ratio, image_input, prompt, size"),
            "{e}"
        );
        assert!(s.check(["prompt".to_string()].iter()).is_ok());
    }

    #[test]
    fn tiers_and_ratios() {
        assert_eq!(tier(&["1K", "2K", "4K", "custom"], 1024), Some("1K"));
        assert_eq!(tier(&["2K", "4K"], 2049), Some("4K"));
        assert_eq!(tier(&["2K", "4K"], 9000), Some("4K"));
        assert_eq!(tier(&["custom"], 9000), None);
        assert_eq!(aspect_ratio(1536, 1024), "3:2");
        assert_eq!(aspect_ratio(0, 0), "0:0");
    }
}
