//! The page around the cases: head, style, Content Security Policy and script.

use base64::Engine as _;
use maud::{Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use crate::report::model::{RunReport, RunVerdict};

const STYLE: &str = include_str!("../assets/report.css");
const SCRIPT: &str = include_str!("../assets/report.js");

/// The Content Security Policy of the page.
///
/// `img-src 'self' file:`: whether `'self'` matches `file:` URLs for a page opened from
/// disk differs between browsers and versions (Chromium 156 allows it; browsers that
/// give each file its own opaque origin do not), so `file:` is named too; a page served
/// over HTTP(S), such as a CI artifact viewer, is covered by `'self'`. `file:` only
/// reaches the local disk, never the network. Nothing else may be fetched, framed,
/// posted or connected to, and only the page's own script (by hash) runs.
fn csp() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
    format!(
        "default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; \
         script-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'"
    )
}

pub(super) fn verdict_class(v: RunVerdict) -> &'static str {
    match v {
        RunVerdict::Pass => "pass",
        RunVerdict::Drift => "drift",
        RunVerdict::Incomplete => "incomplete",
    }
}

/// Everything up to and including `<body>`.
pub(super) fn opening(r: &RunReport) -> Markup {
    html! {
        (PreEscaped("<!doctype html><html lang=\"en\">"))
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width,initial-scale=1";
            meta http-equiv="Content-Security-Policy" content=(csp());
            meta name="referrer" content="no-referrer";
            title { "driftgate " (verdict_class(r.verdict)) ": " (r.run_id) }
            // The stylesheet is this crate's own asset, not input.
            style { (PreEscaped(STYLE)) }
        }
        (PreEscaped("<body>"))
    }
}

/// The script and the end of the page.
pub(super) fn ending() -> Markup {
    html! {
        // The script is this crate's own asset; the CSP admits it by hash.
        script { (PreEscaped(SCRIPT)) }
        (PreEscaped("</body></html>"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_admits_exactly_the_page_script() {
        let want = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
        assert!(csp().contains(&format!("script-src 'sha256-{want}'")));
        // A known digest: the standard alphabet with padding, as CSP expects.
        let empty = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(""));
        assert_eq!(empty, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        // The hashed text is the text the page carries, byte for byte.
        let end = ending().into_string();
        assert!(end.starts_with(&format!("<script>{SCRIPT}</script>")));
    }
}
