//! The prediction shape WaveSpeed and Atlas Cloud share: every answer is an envelope
//! `{code, message, data}` whose `code` repeats an HTTP status (a 200 answer can carry a
//! failing `code`), and `data` is a prediction `{id, model, status, outputs, error, …}`.
//! Atlas Cloud's MCP server and ComfyUI client read the same fields, with `output` as an
//! older name of `outputs` and outputs that may be objects with a `url`.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::http::{Http, is_content_filter};
use super::poll::Step;
use super::{ErrorKind, ProviderError};

/// `data` of an answer, or the error its envelope `code` reports. `who` names the
/// platform in messages.
pub(crate) fn data<'a>(
    http: &Http,
    v: &'a Value,
    headers: &HeaderMap,
    who: &str,
) -> Result<&'a Value, ProviderError> {
    let code = v.get("code").and_then(|c| {
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.trim().parse().ok()))
    });
    if let Some(code) = code.filter(|c| !(200..300).contains(c)) {
        // The envelope's code is the platform's own status for what went wrong.
        let status = u16::try_from(code).unwrap_or(500);
        let status = if (400..600).contains(&status) {
            status
        } else {
            500
        };
        return Err(http.classify(status, headers, v.to_string().as_bytes()));
    }
    v.get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| bad_answer(who, "the answer has no data object"))
}

/// Reads a prediction's state. `label` names it in messages (`WaveSpeed task 123`).
pub(crate) fn inspect(data: &Value, label: &str, who: &str) -> Result<Step<()>, ProviderError> {
    let status = data.get("status").and_then(Value::as_str).unwrap_or("");
    match status {
        // `created`/`processing` (WaveSpeed), `starting`/`pending`/`running` (Atlas Cloud).
        "created" | "pending" | "starting" | "processing" | "running" | "queued" => {
            Ok(Step::Pending)
        }
        "completed" | "succeeded" => Ok(Step::Done(())),
        "failed" => {
            let msg = error_text(data);
            let kind = if is_content_filter(&msg) || msg.to_ascii_lowercase().contains("sensitive")
            {
                ErrorKind::ContentFiltered
            } else {
                ErrorKind::Rejected
            };
            Err(ProviderError::new(kind, format!("{label} failed: {msg}")))
        }
        // The platform gave up (its own time limit) or someone cancelled or deleted the
        // task: nothing about the request itself was wrong.
        "cancelled" | "canceled" | "timeout" | "deleted" => {
            let msg = error_text(data);
            Err(ProviderError::new(
                ErrorKind::Transient,
                format!("{label} ended as `{status}`: {msg}"),
            ))
        }
        other => Err(bad_answer(
            who,
            &format!("unknown status `{other}` of {label}"),
        )),
    }
}

/// The platform's mark on the image this sample keeps, the first output:
/// `has_nsfw_contents` holds one flag per output, as the legacy Python client's
/// `Prediction` types it (`List[bool]`). The flagged image may be blanked, so the mark
/// makes its case drift whatever the image scores.
fn nsfw_mark(data: &Value, who: &str) -> Option<String> {
    let flagged = data
        .get("has_nsfw_contents")
        .and_then(|f| f.get(0))
        .and_then(Value::as_bool);
    (flagged == Some(true)).then(|| format!("has_nsfw_contents ({who})"))
}

fn error_text(data: &Value) -> String {
    match data.get("error") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(v) if !v.is_null() && v != &Value::String(String::new()) => v.to_string(),
        _ => "(no error message)".to_string(),
    }
}

/// The first output of a finished prediction: a URL, a data URI, or an object with `url`.
pub(crate) fn first_output<'a>(data: &'a Value, label: &str) -> Result<&'a str, ProviderError> {
    let outputs = data
        .get("outputs")
        .filter(|o| !o.is_null())
        .or_else(|| data.get("output"));
    let first = match outputs {
        Some(Value::Array(a)) => a.first(),
        Some(v @ Value::String(_)) => Some(v),
        _ => None,
    };
    first
        .and_then(|o| o.as_str().or_else(|| o.get("url").and_then(Value::as_str)))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("{label} completed without an image output"),
            )
        })
}

/// Who answered a prediction, for its sample's metadata and messages.
pub(crate) struct Answer<'a> {
    /// The platform, as its mark names it (`WaveSpeed`).
    pub who: &'a str,
    /// The prediction, in messages (`WaveSpeed task 123`).
    pub label: &'a str,
    /// The prefix of its per-call evidence (`wavespeed.`).
    pub prefix: &'a str,
}

/// The finished prediction `data` as a sample: its first output downloaded, what the
/// platform reported as the build (`model`), the per-call evidence and the platform's
/// mark on that output. A flagged prediction without an output is the platform's mark
/// on the sample instead of an image (`ProviderError::marked`), as Ark's filtered item is.
pub(crate) async fn generation(
    http: &Http,
    data: &Value,
    id: String,
    answer: &Answer<'_>,
    seed: Option<u64>,
    start: std::time::Instant,
) -> Result<super::Generation, ProviderError> {
    let mark = nsfw_mark(data, answer.who);
    let metadata = super::Metadata {
        request_id: Some(id),
        model: data
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
        seed,
        duration_ms: super::elapsed_ms(start),
        per_call: per_call(data, answer.prefix),
        platform_mark: mark.clone(),
        ..super::Metadata::default()
    };
    let url = match (first_output(data, answer.label), mark) {
        (Ok(url), _) => url,
        (Err(_), Some(mark)) => {
            return Err(ProviderError::marked(
                ErrorKind::ContentFiltered,
                format!("{} completed without an image output: {mark}", answer.label),
                metadata,
            ));
        }
        (Err(e), None) => return Err(e),
    };
    let bytes = http.image(url).await?;
    Ok(super::Generation { bytes, metadata })
}

/// Evidence from one call that is not part of the build identity: the platform's own
/// timings and its safety verdict, under `prefix`.
pub(crate) fn per_call(data: &Value, prefix: &str) -> super::Headers {
    let mut out = super::Headers::default();
    let scalar = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    for group in ["timings", "metrics"] {
        if let Some(obj) = data.get(group).and_then(Value::as_object) {
            for (k, v) in obj {
                if let Some(s) = scalar(v) {
                    out.insert(format!("{prefix}{group}.{k}"), s);
                }
            }
        }
    }
    for k in ["executionTime", "created_at"] {
        if let Some(s) = data.get(k).and_then(scalar) {
            out.insert(format!("{prefix}{k}"), s);
        }
    }
    if let Some(a) = data.get("has_nsfw_contents").and_then(Value::as_array) {
        let flags: Vec<String> = a.iter().filter_map(scalar).collect();
        out.insert(format!("{prefix}has_nsfw_contents"), flags.join(","));
    }
    out
}

/// The error for a task whose state could no longer be read: final, because the task
/// exists and a second submission would be billed again.
pub(crate) fn lost(mut e: ProviderError, label: &str) -> ProviderError {
    e.kind = ErrorKind::Fatal;
    e.message = format!(
        "gave up reading the state of {label} after {} failed reads ({}); it is not submitted again",
        super::poll::MAX_POLL_FAILURES,
        e.message
    );
    e
}

/// The state to start polling from: the submit answer, when it already carries one.
pub(crate) fn first_state(answer: &Value) -> Option<Value> {
    answer
        .pointer("/data/status")
        .is_some_and(Value::is_string)
        .then(|| answer.clone())
}

pub(crate) fn bad_answer(who: &str, what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("unexpected answer from {who}: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_come_as_strings_objects_or_the_older_name() {
        let d = json!({"outputs": ["https://x/a.png"]});
        assert_eq!(first_output(&d, "t").unwrap(), "https://x/a.png");
        let d = json!({"outputs": [{"url": "https://x/b.png"}]});
        assert_eq!(first_output(&d, "t").unwrap(), "https://x/b.png");
        let d = json!({"output": "https://x/c.png"});
        assert_eq!(first_output(&d, "t").unwrap(), "https://x/c.png");
        let d = json!({"outputs": []});
        assert_eq!(first_output(&d, "t").unwrap_err().kind, ErrorKind::Fatal);
    }

    #[test]
    fn statuses_are_read() {
        let s = |v: Value| inspect(&v, "task 1", "X");
        assert!(matches!(
            s(json!({"status": "processing"})),
            Ok(Step::Pending)
        ));
        assert!(matches!(
            s(json!({"status": "completed"})),
            Ok(Step::Done(()))
        ));
        let e = s(json!({"status": "failed", "error": "size out of range"}))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert!(e.message.contains("size out of range"));
        // A flagged output is the platform's mark on the sample, not a failed task.
        assert!(matches!(
            s(json!({"status": "completed", "has_nsfw_contents": [true]})),
            Ok(Step::Done(()))
        ));
        let e = s(json!({"status": "timeout"})).err().unwrap();
        assert_eq!(e.kind, ErrorKind::Transient);
        let e = s(json!({"status": "exploded"})).err().unwrap();
        assert_eq!(e.kind, ErrorKind::Fatal);
    }

    #[test]
    fn has_nsfw_contents_marks_the_first_output_only() {
        let m = |v: Value| nsfw_mark(&v, "WaveSpeed");
        assert_eq!(
            m(json!({"has_nsfw_contents": [true]})).as_deref(),
            Some("has_nsfw_contents (WaveSpeed)")
        );
        // One flag per output: the sample keeps the first, so only its flag counts.
        assert_eq!(m(json!({"has_nsfw_contents": [false, true]})), None);
        assert_eq!(m(json!({"has_nsfw_contents": [false]})), None);
        assert_eq!(m(json!({"has_nsfw_contents": []})), None);
        assert_eq!(m(json!({"has_nsfw_contents": "true"})), None);
        assert_eq!(m(json!({})), None);
    }
}
