//! The HTTP layer every hosted provider shares: one client with timeouts, the
//! `base_url` override, status → [`ErrorKind`] classification, size-capped reads, and the
//! rules for following URLs a provider hands back.
//!
//! Provider-returned URLs are untrusted input: only `https` is followed, and never into
//! loopback or private ranges, unless the suite itself points at a loopback `base_url`
//! (an emulator), in which case plain `http` to loopback is allowed too.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, Url};
use serde_json::Value;

use super::secret::ApiKey;
use super::{BuildError, ErrorKind, ProviderError};
use crate::suite::ModelPin;

/// Largest image download accepted.
pub(crate) const IMAGE_CAP: usize = 64 << 20;
/// Largest JSON body accepted; OpenRouter and OpenAI return images inline as base64,
/// so this is larger than any plain API answer needs.
pub(crate) const JSON_CAP: usize = 128 << 20;

/// Whether requests are logged on stderr (`-vv`); set once at startup.
static LOG_REQUESTS: AtomicBool = AtomicBool::new(false);

/// Turns the `-vv` request log on or off: method, URL without query, and header names
/// only, because header values carry the API key.
pub fn log_requests(on: bool) {
    LOG_REQUESTS.store(on, Ordering::Relaxed);
}

/// One request as the `-vv` log shows it.
fn describe(req: &reqwest::Request) -> String {
    let url = req.url();
    let query = if url.query().is_some() { "?…" } else { "" };
    let names: Vec<&str> = req
        .headers()
        .keys()
        .map(reqwest::header::HeaderName::as_str)
        .collect();
    format!(
        "-> {} {}{}{query} (headers: {}; values redacted)",
        req.method(),
        url.origin().ascii_serialization(),
        url.path(),
        names.join(", ")
    )
}

/// Timeouts of the HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    /// Longest wait for a TCP+TLS connection. Default: 10 s.
    pub connect_timeout: Duration,
    /// Longest time one HTTP request may take, body included. Default: 180 s.
    pub timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(180),
        }
    }
}

/// A configured client for one suite's provider.
#[derive(Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    key: ApiKey,
    key_env: String,
    base: Option<Url>,
    loopback: bool,
}

impl Http {
    /// A client for `model`, authenticating with `key` (read from `key_env`).
    pub(crate) fn new(
        model: &ModelPin,
        key: ApiKey,
        key_env: &str,
        opts: HttpOptions,
    ) -> Result<Self, BuildError> {
        let base = match &model.base_url {
            None => None,
            Some(b) => Some(Url::parse(b).map_err(|e| BuildError::BaseUrl(format!("`{b}`: {e}")))?),
        };
        let loopback = base.as_ref().is_some_and(is_loopback);
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if let Err(why) = allowed(attempt.url(), loopback) {
                attempt.error(why)
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .redirect(policy)
            .user_agent(concat!("driftgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BuildError::Client(e.to_string()))?;
        Ok(Self {
            client,
            key,
            key_env: key_env.to_string(),
            base,
            loopback,
        })
    }

    /// The key, for the provider's auth header.
    pub(crate) fn key(&self) -> &ApiKey {
        &self.key
    }

    /// The underlying client.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `path` on the provider's host, or on the suite's `base_url` when set. The
    /// override replaces scheme, host and port; a path prefix in it is kept in front of
    /// the provider's path, so proxies mounted under a prefix work too.
    pub(crate) fn url(&self, default_base: &str, path: &str) -> Result<Url, ProviderError> {
        let joined = match &self.base {
            Some(b) => format!("{}{}", b.as_str().trim_end_matches('/'), path),
            None => format!("{default_base}{path}"),
        };
        Url::parse(&joined).map_err(|e| {
            ProviderError::new(ErrorKind::Fatal, format!("bad request URL `{joined}`: {e}"))
        })
    }

    /// Checks a URL the provider returned before anything is sent to it.
    pub(crate) fn returned_url(&self, raw: &str) -> Result<Url, ProviderError> {
        let url = Url::parse(raw).map_err(|e| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "the provider returned an unusable URL `{}`: {e}",
                    clip(raw, 120)
                ),
            )
        })?;
        allowed(&url, self.loopback).map_err(|why| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("refusing to follow `{}`: {why}", clip(raw, 120)),
            )
        })?;
        Ok(url)
    }

    /// Sends a request and returns its JSON body and headers; a non-2xx status becomes
    /// a classified error.
    pub(crate) async fn json(
        &self,
        rb: RequestBuilder,
    ) -> Result<(u16, Value, HeaderMap), ProviderError> {
        let (status, headers, body) = self.fetch(rb, JSON_CAP).await?;
        let value = serde_json::from_slice(&body).map_err(|e| {
            ProviderError::new(
                ErrorKind::Transient,
                format!(
                    "the provider answered HTTP {status} with a body that is not JSON ({e}): {}",
                    self.key.scrub(&clip(&String::from_utf8_lossy(&body), 200))
                ),
            )
        })?;
        Ok((status, value, headers))
    }

    /// Sends a request and reads at most `cap` bytes of its body; a non-2xx status becomes
    /// a classified error.
    async fn fetch(
        &self,
        rb: RequestBuilder,
        cap: usize,
    ) -> Result<(u16, HeaderMap, Vec<u8>), ProviderError> {
        let resp = self.send(rb).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_capped(resp, cap)
            .await
            .map_err(|e| self.transport_or(e))?;
        if !(200..300).contains(&status) {
            return Err(self.classify(status, &headers, &body));
        }
        Ok((status, headers, body))
    }

    /// The image of a `data[]` item of an images API: inline `b64_json`, or a `url` to
    /// fetch. `who` names the provider in the error.
    pub(crate) async fn b64_or_url(
        &self,
        item: &Value,
        who: &str,
    ) -> Result<Vec<u8>, ProviderError> {
        if let Some(b) = item.get("b64_json").and_then(Value::as_str) {
            decode_b64(b)
        } else if let Some(u) = item.get("url").and_then(Value::as_str) {
            self.image(u).await
        } else {
            Err(ProviderError::new(
                ErrorKind::Fatal,
                format!("unexpected answer from {who}: the image has neither b64_json nor url"),
            ))
        }
    }

    /// The bytes behind an image reference: a `data:` URI or a URL, fetched with a cap.
    pub(crate) async fn image(&self, src: &str) -> Result<Vec<u8>, ProviderError> {
        if let Some(rest) = src.strip_prefix("data:") {
            return decode_data_uri(rest);
        }
        let url = self.returned_url(src)?;
        match self.fetch(self.client.get(url), IMAGE_CAP).await {
            Ok((_, _, body)) => Ok(body),
            Err(mut e) if e.status.is_some() => {
                e.message = format!("downloading the image: {}", e.message);
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends a request, logging it at `-vv`.
    async fn send(&self, rb: RequestBuilder) -> Result<Response, ProviderError> {
        let req = rb.build().map_err(|e| self.transport(&e))?;
        let log = LOG_REQUESTS.load(Ordering::Relaxed);
        if log {
            eprintln!("{}", self.key.scrub(&describe(&req)));
        }
        let started = Instant::now();
        let resp = self
            .client
            .execute(req)
            .await
            .map_err(|e| self.transport(&e))?;
        if log {
            eprintln!(
                "<- HTTP {} in {} ms",
                resp.status().as_u16(),
                started.elapsed().as_millis()
            );
        }
        Ok(resp)
    }

    /// A network failure: timeouts and connection errors are transient.
    pub(crate) fn transport(&self, e: &reqwest::Error) -> ProviderError {
        let (kind, what) = if e.is_timeout() {
            (ErrorKind::Transient, "timed out")
        } else if e.is_connect() {
            (ErrorKind::Transient, "cannot connect")
        } else if e.is_redirect() {
            (ErrorKind::Fatal, "redirect refused")
        } else {
            (ErrorKind::Transient, "network error")
        };
        // The causes carry the why (for a redirect: the refused target and the rule).
        let mut msg = format!("{what}: {e}");
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        ProviderError::new(kind, self.key.scrub(&msg))
    }

    fn transport_or(&self, e: ReadError) -> ProviderError {
        match e {
            ReadError::Net(e) => self.transport(&e),
            ReadError::TooLarge(cap) => ProviderError::new(
                ErrorKind::Fatal,
                format!("the response is larger than the {} MiB limit", cap >> 20),
            ),
        }
    }

    /// Classifies a non-2xx answer, keeping the provider's own message.
    pub(crate) fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        let mut e = classify(status, headers, body, &self.key_env);
        e.message = self.key.scrub(&e.message);
        e
    }
}

/// Why a body read stopped.
enum ReadError {
    Net(reqwest::Error),
    TooLarge(usize),
}

async fn read_capped(mut resp: Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ReadError::TooLarge(cap));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Net)? {
        if out.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge(cap));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Decodes the part of a `data:` URI after the scheme.
pub(crate) fn decode_data_uri(rest: &str) -> Result<Vec<u8>, ProviderError> {
    let Some((meta, data)) = rest.split_once(',') else {
        return Err(ProviderError::new(
            ErrorKind::Fatal,
            "malformed data URI in the response",
        ));
    };
    if !meta.ends_with(";base64") {
        return Err(ProviderError::new(
            ErrorKind::Fatal,
            "data URI in the response is not base64",
        ));
    }
    decode_b64(data)
}

/// Decodes a base64 image body, refusing anything above the image cap.
pub(crate) fn decode_b64(data: &str) -> Result<Vec<u8>, ProviderError> {
    if data.len() / 4 * 3 > IMAGE_CAP {
        return Err(ProviderError::new(
            ErrorKind::Fatal,
            format!(
                "inline image is larger than the {} MiB limit",
                IMAGE_CAP >> 20
            ),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!("inline image is not valid base64: {e}"),
            )
        })
}

/// A reference image as a `data:` URI, for providers that take URLs and accept data URIs.
pub(crate) fn data_uri(bytes: &[u8]) -> String {
    format!(
        "data:{};base64,{}",
        mime_of(bytes),
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The MIME type of encoded image bytes, by magic number.
pub(crate) fn mime_of(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        "image/jpeg"
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

/// Reads the reference files of a case.
pub(crate) fn read_references(
    case: &crate::suite::Case,
) -> Result<Vec<(String, Vec<u8>)>, ProviderError> {
    case.references
        .iter()
        .map(|r| {
            std::fs::read(&r.path)
                .map(|b| (r.name.clone(), b))
                .map_err(|e| {
                    ProviderError::new(
                        ErrorKind::Fatal,
                        format!("cannot read reference `{}`: {e}", r.name),
                    )
                })
        })
        .collect()
}

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
    v.get("message").and_then(s)
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

/// Whether a URL may be requested: https anywhere public; http and private or loopback
/// hosts only when the suite targets a loopback emulator.
fn allowed(url: &Url, loopback_ok: bool) -> Result<(), &'static str> {
    match url.scheme() {
        "https" => {}
        "http" if loopback_ok && is_loopback(url) => {}
        "http" => return Err("only https URLs are followed"),
        _ => return Err("unsupported URL scheme"),
    }
    if !loopback_ok && is_private(url) {
        return Err("the host is a loopback or private address");
    }
    Ok(())
}

fn host_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

fn is_loopback(url: &Url) -> bool {
    url.host_str() == Some("localhost") || host_ip(url).is_some_and(|ip| ip.is_loopback())
}

fn is_private(url: &Url) -> bool {
    if let Some(h) = url.host_str()
        && (h == "localhost" || h.ends_with(".localhost") || h.ends_with(".internal"))
    {
        return true;
    }
    match host_ip(url) {
        Some(IpAddr::V4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64
        }
        Some(IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private())
        }
        None => false,
    }
}

/// The first `n` characters of `s`, marked when cut.
pub(crate) fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn urls_are_checked() {
        assert!(allowed(&url("https://v3b.fal.media/x.png"), false).is_ok());
        assert!(allowed(&url("http://v3b.fal.media/x.png"), false).is_err());
        assert!(allowed(&url("https://127.0.0.1/x"), false).is_err());
        assert!(allowed(&url("https://10.1.2.3/x"), false).is_err());
        assert!(allowed(&url("https://[::1]/x"), false).is_err());
        assert!(allowed(&url("https://169.254.169.254/latest"), false).is_err());
        assert!(allowed(&url("http://127.0.0.1:9/x"), true).is_ok());
        assert!(allowed(&url("file:///etc/passwd"), true).is_err());
    }

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
