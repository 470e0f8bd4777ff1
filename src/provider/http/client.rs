//! The client every hosted provider shares: timeouts, the `base_url` override,
//! size-capped reads, the `-vv` request log, and URLs checked against the policy in
//! [`super::url_policy`] before anything is sent to them.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, Url};
use serde_json::Value;

use super::classify::classify;
use super::data_uri::{decode_b64, decode_data_uri};
use super::url_policy::{allowed, is_loopback};
use super::{IMAGE_CAP, JSON_CAP};
use crate::provider::secret::ApiKey;
use crate::provider::text::{clip, one_line};
use crate::provider::{BuildError, ErrorKind, ProviderError};
use crate::suite::ModelPin;

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
    /// Whether each request is logged on stderr (`-vv`): method, URL without its query,
    /// and header names only, because header values carry the API key. Default: false.
    pub log_requests: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(180),
            log_requests: false,
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
    /// Whether requests are logged on stderr (`-vv`).
    log: bool,
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
            log: opts.log_requests,
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

    /// Sends a request that creates a billable job, which must never be sent twice.
    /// Only failures that prove nothing was created stay retryable: the connection was
    /// never made, or the platform answered 429 (a refusal). A timeout, a dropped
    /// connection, a 5xx or an unreadable 2xx may follow a job the platform did create,
    /// so they become fatal for this sample instead of a second, billed submission.
    pub(crate) async fn submit(
        &self,
        rb: RequestBuilder,
    ) -> Result<(u16, Value, HeaderMap), ProviderError> {
        let resp = match self.send_raw(rb).await {
            Ok(r) => r,
            Err(e) if e.is_connect() || e.is_builder() => return Err(self.transport(&e)),
            Err(e) => return Err(may_exist(self.transport(&e))),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_capped(resp, JSON_CAP)
            .await
            .map_err(|e| may_exist(self.transport_or(e)))?;
        if !(200..300).contains(&status) {
            let e = self.classify(status, &headers, &body);
            return Err(if e.kind == ErrorKind::Transient {
                may_exist(e)
            } else {
                e
            });
        }
        let value = serde_json::from_slice(&body).map_err(|e| {
            may_exist(ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "the provider answered HTTP {status} with a body that is not JSON ({e}): {}",
                    self.key.scrub(&clip(&String::from_utf8_lossy(&body), 200))
                ),
            ))
        })?;
        Ok((status, value, headers))
    }

    /// Sends a request, logging it at `-vv`.
    async fn send(&self, rb: RequestBuilder) -> Result<Response, ProviderError> {
        self.send_raw(rb).await.map_err(|e| self.transport(&e))
    }

    async fn send_raw(&self, rb: RequestBuilder) -> Result<Response, reqwest::Error> {
        let req = rb.build()?;
        let log = self.log;
        if log {
            eprintln!("{}", one_line(&self.key.scrub(&describe(&req))));
        }
        let started = Instant::now();
        let resp = self.client.execute(req).await?;
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

/// A submit failure after which the job may exist: not retried, and saying why.
fn may_exist(mut e: ProviderError) -> ProviderError {
    e.kind = ErrorKind::Fatal;
    e.message = format!(
        "{}; the job may have been created, so it is not submitted again (the platform may still run and bill it)",
        e.message
    );
    e
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
