//! The HTTP layer every hosted provider shares, one idea per file: the client
//! (`client`), what a failed answer means (`classify`), which URLs may be followed
//! (`url_policy`), and images carried as text (`data_uri`).

mod classify;
mod client;
mod data_uri;
mod url_policy;

pub(crate) use classify::{header_str, is_content_filter};
pub(crate) use client::Http;
pub use client::HttpOptions;
pub(crate) use data_uri::{data_uri, decode_b64, mime_of, read_references};

/// Largest image download accepted.
pub(crate) const IMAGE_CAP: usize = 64 << 20;
/// Largest JSON body accepted; OpenRouter and OpenAI return images inline as base64,
/// so this is larger than any plain API answer needs.
pub(crate) const JSON_CAP: usize = 128 << 20;
