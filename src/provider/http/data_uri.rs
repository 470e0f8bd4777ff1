//! Images as text: `data:` URIs and base64 bodies in answers, reference files encoded
//! for providers that take data URIs, and the MIME type of encoded bytes.

use base64::Engine as _;

use super::IMAGE_CAP;
use crate::provider::{ErrorKind, ProviderError};

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
