//! What a failed answer means: HTTP status to [`ErrorKind`], the provider's own message
//! from the error shapes the platforms use, content-filter markers, and `Retry-After`.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use crate::provider::text::clip;
use crate::provider::{ErrorKind, ProviderError};

/// Markers of a content-filter refusal across platforms: fal `content_policy_violation`,
/// OpenAI `moderation_blocked`, Ark `*RiskDetection`, OpenRouter moderation metadata.
const FILTER_MARKERS: &[&str] = &[
    "content_policy_violation",
    "moderation_blocked",
    "riskdetection",
    "safety system",
    "nsfw",
    "flagged",
];

/// Whether a provider message or code says its content filter refused.
pub(crate) fn is_content_filter(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    FILTER_MARKERS.iter().any(|m| lower.contains(m))
}

/// Status → kind, with the provider's message taken from its JSON error body.
pub(crate) fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    key_env: &str,
) -> ProviderError {
    let text = String::from_utf8_lossy(body);
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let message = json.as_ref().and_then(error_message).unwrap_or_else(|| {
        let t = clip(text.trim(), 300);
        if t.is_empty() {
            "(empty body)".to_string()
        } else {
            t
        }
    });
    let retry_after = retry_after(headers);
    let filtered = (400..500).contains(&status) && status != 429 && is_content_filter(&text);
    let (kind, message) = match status {
        _ if filtered => (ErrorKind::ContentFiltered, message),
        429 => (ErrorKind::RateLimited, message),
        408 | 425 | 500..=599 => (ErrorKind::Transient, message),
        401 | 403 => (
            ErrorKind::Fatal,
            format!("{message} (check the API key in {key_env})"),
        ),
        402 => (
            ErrorKind::Fatal,
            format!("{message} (the account is out of credits)"),
        ),
        _ => (ErrorKind::Rejected, message),
    };
    ProviderError {
        kind,
        message,
        status: Some(status),
        retry_after,
        marked: None,
    }
}

/// The provider's own words from the error shapes the platforms use:
/// `{"error":{"message","code","type"}}`, `{"error":"…"}`, `{"detail":"…"}`,
/// `{"detail":[{"msg","type","loc"}]}` (fal validation), `{"message":"…"}`.
pub(crate) fn error_message(v: &Value) -> Option<String> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    if let Some(err) = v.get("error") {
        if let Some(m) = s(err) {
            return Some(m);
        }
        if let Some(m) = err.get("message").and_then(&s) {
            let code = err.get("code").and_then(|c| {
                c.as_str()
                    .map(str::to_string)
                    .or_else(|| c.as_i64().map(|n| n.to_string()))
            });
            return Some(match code {
                Some(c) if !m.contains(&c) => format!("{m} [{c}]"),
                _ => m,
            });
        }
    }
    if let Some(d) = v.get("detail") {
        if let Some(m) = s(d) {
            return Some(m);
        }
        if let Some(items) = d.as_array() {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| {
                    let msg = i.get("msg").and_then(Value::as_str)?;
                    let loc = i
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|l| {
                            l.iter()
                                .filter_map(|p| {
                                    p.as_str()
                                        .map(str::to_string)
                                        .or_else(|| p.as_i64().map(|n| n.to_string()))
                                })
                                .collect::<Vec<_>>()
                                .join(".")
                        })
                        .unwrap_or_default();
                    let ty = i.get("type").and_then(Value::as_str).unwrap_or("");
                    Some(format!("{loc}: {msg} [{ty}]"))
                })
                .collect();
            if !parts.is_empty() {
                return Some(parts.join("; "));
            }
        }
    }
    // `{"message":"…"}` (WaveSpeed's envelope), `{"msg":"…"}` (Atlas Cloud).
    v.get("message")
        .and_then(&s)
        .or_else(|| v.get("msg").and_then(&s))
}

/// `Retry-After` as seconds or an HTTP date.
/// A response header's value, when it is present and text.
pub(crate) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_string)
}

pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(raw).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_are_classified() {
        let h = HeaderMap::new();
        let k = |s, b: &str| classify(s, &h, b.as_bytes(), "FAL_KEY").kind;
        assert_eq!(k(503, ""), ErrorKind::Transient);
        assert_eq!(k(408, ""), ErrorKind::Transient);
        assert_eq!(k(429, ""), ErrorKind::RateLimited);
        assert_eq!(
            k(
                422,
                r#"{"detail":[{"msg":"bad","type":"value_error","loc":["body","x"]}]}"#
            ),
            ErrorKind::Rejected
        );
        assert_eq!(
            k(
                422,
                r#"{"detail":[{"msg":"no","type":"content_policy_violation"}]}"#
            ),
            ErrorKind::ContentFiltered
        );
        assert_eq!(
            k(
                400,
                r#"{"error":{"message":"blocked","code":"moderation_blocked"}}"#
            ),
            ErrorKind::ContentFiltered
        );
        let e = classify(401, &h, b"{\"error\":\"bad key\"}", "FAL_KEY");
        assert_eq!(e.kind, ErrorKind::Fatal);
        assert!(e.message.contains("FAL_KEY"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn messages_come_from_each_shape() {
        let m = |s: &str| error_message(&serde_json::from_str(s).unwrap());
        assert_eq!(
            m(r#"{"error":{"message":"nope","code":400}}"#).unwrap(),
            "nope [400]"
        );
        assert_eq!(
            m(r#"{"detail":"Request timed out"}"#).unwrap(),
            "Request timed out"
        );
        assert!(m(r#"{"detail":[{"loc":["body","image_urls"],"msg":"field required","type":"missing"}]}"#).unwrap().contains("body.image_urls: field required"));
    }
}
