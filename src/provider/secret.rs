//! API keys: a newtype that never prints its value.
//!
//! Keys reach error messages, logs and reports only through `Debug`/`Display`, which
//! both print `****`; the one way to the real value is [`ApiKey::expose`], used where
//! the header is built.

use std::fmt;

/// A provider API key.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// Reads a key from an environment variable; empty counts as unset.
    #[must_use]
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Self(v.trim().to_string()))
    }

    /// The key itself, for the request header only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by `****`, for provider
    /// messages that echo the request back.
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "****")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(****)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let k = ApiKey::new("sk-secret-value");
        assert_eq!(format!("{k}"), "****");
        assert!(!format!("{k:?}").contains("secret"));
        assert_eq!(k.scrub("bad key sk-secret-value"), "bad key ****");
    }
}
