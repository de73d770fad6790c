//! `[web]` and `[[web_client]]`: where the browser endpoint listens, and which pages
//! (by their `Origin`) may use it with which fields.
//!
//! The listener is on loopback only. A page is known by the `Origin` its browser sends;
//! since a local process can send any `Origin`, a rule's optional `token` keeps other
//! local users out, and its `fields` should be what its page needs and no more.

use std::net::SocketAddr;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::fields::FieldSet;

/// The longest `Origin` considered, in bytes (a real one is far shorter).
pub const MAX_ORIGIN: usize = 512;
/// The longest token accepted in the configuration or from a page, in bytes.
pub const MAX_TOKEN: usize = 256;
/// The shortest token accepted in the configuration, in bytes.
pub const MIN_TOKEN: usize = 16;

/// `[web]`, when on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Web {
    /// The loopback addresses listened on.
    pub listen: Vec<SocketAddr>,
    /// Serve the operator page at `/`.
    pub operator_page: bool,
    /// WebSocket connections served at once.
    pub max_connections: usize,
}

/// `[[web_client]]`: pages from these origins get these fields.
#[derive(Clone)]
pub struct WebClientRule {
    /// The rule's name, reported by `info` (as `web:NAME`) and in logs.
    pub name: String,
    /// The exact origins (`http://127.0.0.1:8470`) accepted.
    pub origins: Vec<String>,
    /// The fields the page may have.
    pub fields: FieldSet,
    /// The token the page must present, if any.
    pub token: Option<Zeroizing<String>>,
}

impl core::fmt::Debug for WebClientRule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebClientRule")
            .field("name", &self.name)
            .field("origins", &self.origins)
            .field("fields", &self.fields)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl WebClientRule {
    /// Whether `token` is this rule's token; compared in constant time (over digests, so
    /// that the length does not show either). A rule without a token accepts none.
    pub fn token_matches(&self, token: &[u8]) -> bool {
        let Some(expected) = &self.token else {
            return false;
        };
        let a = Sha256::digest(expected.as_bytes());
        let b = Sha256::digest(token);
        bool::from(a.as_slice().ct_eq(b.as_slice()))
    }
}

/// The first rule that accepts the `Origin` header value `origin` (bytes as received).
/// A missing, over-long or non-ASCII origin, and `null`, match nothing.
pub fn rule_for_origin<'a>(
    rules: &'a [WebClientRule],
    origin: Option<&[u8]>,
) -> Option<&'a WebClientRule> {
    let origin = origin?;
    if origin.len() > MAX_ORIGIN || !origin.is_ascii() || origin == b"null" {
        return None;
    }
    rules
        .iter()
        .find(|r| r.origins.iter().any(|o| o.as_bytes() == origin))
}

/// Checks an origin as written in the configuration: `http` or `https`, a host, an
/// optional port, nothing else (no path, no trailing slash), in the lowercase form
/// browsers send.
pub fn check_origin(origin: &str) -> Result<(), String> {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| format!("origin {origin:?} must start with http:// or https://"))?;
    if rest.is_empty() || origin.len() > MAX_ORIGIN {
        return Err(format!("origin {origin:?} has no host or is too long"));
    }
    let ok = rest
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:[]".contains(&b));
    if !ok {
        return Err(format!(
            "origin {origin:?} must be scheme://host[:port] in lowercase, without a path"
        ));
    }
    Ok(())
}

/// Whether `addr` is one of the loopback addresses the endpoint may listen on.
pub fn is_allowed_listen(addr: &SocketAddr) -> bool {
    match addr {
        SocketAddr::V4(a) => *a.ip() == std::net::Ipv4Addr::LOCALHOST,
        SocketAddr::V6(a) => *a.ip() == std::net::Ipv6Addr::LOCALHOST,
    }
}

/// `[web]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WebFile {
    enabled: Option<bool>,
    #[serde(default)]
    listen: Vec<String>,
    operator_page: Option<bool>,
    max_connections: Option<usize>,
}

/// `[[web_client]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebClientFile {
    name: String,
    origins: Vec<String>,
    fields: Vec<String>,
    token: Option<String>,
}

/// The default address: loopback, IPv4.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

/// Checks `[web]` and `[[web_client]]`. Off unless `[web]` is present with `enabled`
/// not false.
pub fn parse(
    web: Option<WebFile>,
    clients: Option<Vec<WebClientFile>>,
) -> Result<(Option<Web>, Vec<WebClientRule>), String> {
    let mut rules = Vec::new();
    for c in clients.unwrap_or_default() {
        if c.name.is_empty() || c.name.len() > 128 {
            return Err(format!("web_client {:?}: name empty or too long", c.name));
        }
        let fields = FieldSet::parse(c.fields.iter().map(String::as_str))
            .map_err(|e| format!("web_client {:?}: fields: {e}", c.name))?;
        if c.origins.is_empty() {
            return Err(format!("web_client {:?}: origins is empty", c.name));
        }
        for o in &c.origins {
            check_origin(o).map_err(|e| format!("web_client {:?}: origins: {e}", c.name))?;
        }
        if let Some(t) = &c.token {
            let ok = (MIN_TOKEN..=MAX_TOKEN).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
            if !ok {
                return Err(format!(
                    "web_client {:?}: token must be {MIN_TOKEN} to {MAX_TOKEN} letters, digits or -_.~",
                    c.name
                ));
            }
        }
        rules.push(WebClientRule {
            name: c.name,
            origins: c.origins,
            fields,
            token: c.token.map(Zeroizing::new),
        });
    }
    let Some(web) = web.filter(|w| w.enabled != Some(false)) else {
        return Ok((None, rules));
    };
    let listen = if web.listen.is_empty() {
        vec![DEFAULT_LISTEN.to_owned()]
    } else {
        web.listen
    };
    let mut addrs = Vec::new();
    for a in &listen {
        let addr: SocketAddr = a
            .parse()
            .map_err(|_| format!("web.listen: {a:?} is not an address:port"))?;
        if !is_allowed_listen(&addr) {
            return Err(format!(
                "web.listen: {a:?} is not a loopback address (only 127.0.0.1 and [::1] are allowed)"
            ));
        }
        addrs.push(addr);
    }
    let max_connections = web.max_connections.unwrap_or(32);
    if !(1..=1024).contains(&max_connections) {
        return Err("web.max_connections must be 1 to 1024".into());
    }
    Ok((
        Some(Web {
            listen: addrs,
            operator_page: web.operator_page.unwrap_or(false),
            max_connections,
        }),
        rules,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn web_is_off_by_default_and_loopback_only() {
        let c = Config::parse("").unwrap();
        assert!(c.web.is_none() && c.web_clients.is_empty());
        let c = Config::parse("[web]\n").unwrap();
        assert_eq!(c.web.unwrap().listen, vec![DEFAULT_LISTEN.parse().unwrap()]);
        let c = Config::parse("[web]\nlisten = [\"[::1]:9000\", \"127.0.0.1:9000\"]\n").unwrap();
        assert_eq!(c.web.unwrap().listen.len(), 2);
        for bad in [
            "0.0.0.0:80",
            "192.168.1.2:80",
            "127.0.0.2:80",
            "[::]:80",
            "localhost:80",
        ] {
            let e = Config::parse(&format!("[web]\nlisten = [\"{bad}\"]\n")).unwrap_err();
            assert!(e.contains("web.listen"), "{e}");
        }
    }

    #[test]
    fn origins_match_exactly() {
        let c = Config::parse(
            "[[web_client]]\nname = \"kiosk\"\norigins = [\"http://127.0.0.1:8470\"]\nfields = [\"full_name\"]\ntoken = \"0123456789abcdef\"\n",
        )
        .unwrap();
        let rules = &c.web_clients;
        assert!(rule_for_origin(rules, Some(b"http://127.0.0.1:8470")).is_some());
        for other in [
            &b"http://127.0.0.1:8471"[..],
            b"http://127.0.0.1:8470/",
            b"HTTP://127.0.0.1:8470",
            b"null",
            b"",
        ] {
            assert!(rule_for_origin(rules, Some(other)).is_none());
        }
        assert!(rule_for_origin(rules, None).is_none());
        let rule = &rules[0];
        assert!(rule.token_matches(b"0123456789abcdef"));
        assert!(!rule.token_matches(b"0123456789abcde"));
        assert!(
            !format!("{rule:?}").contains("0123"),
            "the token is redacted"
        );
        for bad in ["127.0.0.1:8470", "http://x/path", "http://X", "file://"] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
        assert!(
            Config::parse("[[web_client]]\nname = \"a\"\norigins = [\"http://a\"]\nfields = []\ntoken = \"short\"\n")
                .is_err()
        );
    }
}
