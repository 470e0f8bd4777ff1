//! Which URLs may be requested: the rule for URLs a provider hands back and for the
//! redirects the client follows.
//!
//! Provider-returned URLs are untrusted input: only `https` is followed, and never into
//! loopback or private ranges, unless the suite itself points at a loopback `base_url`
//! (an emulator), in which case plain `http` to loopback is allowed too.

use std::net::IpAddr;

use reqwest::Url;

/// Whether a URL may be requested: https anywhere public; http and private or loopback
/// hosts only when the suite targets a loopback emulator.
pub(super) fn allowed(url: &Url, loopback_ok: bool) -> Result<(), &'static str> {
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

pub(super) fn is_loopback(url: &Url) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
