//! Issuer strings: what makes one usable by SpacetimeDB, where its documents live, and whether it is a
//! local development issuer.
//!
//! SpacetimeDB fetches `{iss}/.well-known/openid-configuration` (one trailing `/` stripped) but derives
//! the Identity from `iss` *verbatim*, so `https://app.example.com/api/auth` and `…/api/auth/` discover the
//! same keys yet give every user a different Identity. The broker therefore holds one canonical form.

use reqwest::Url;

use super::errors::{auth_error, AuthErrorCode};
use crate::error::Result;

/// SpacetimeDB's limit for `iss` and `sub` (bytes).
pub const MAX_CLAIM_BYTES: usize = 128;

/// The suffix OIDC discovery appends to the issuer (OpenID Connect Discovery §4).
pub const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";

/// Where the broker publishes its JWKS unless told otherwise (beside the discovery document).
pub const DEFAULT_JWKS_SUFFIX: &str = "/.well-known/jwks.json";

fn invalid(message: impl Into<String>) -> crate::error::GatewayError {
    auth_error(AuthErrorCode::IssuerInvalid, message)
}

/// Parses an issuer as SpacetimeDB will use it: an http(s) URL with a host, no query or fragment,
/// at most 128 bytes. Returns the parsed URL (the issuer string itself is always kept verbatim).
pub fn parse_issuer(issuer: &str) -> Result<Url> {
    if issuer.is_empty() {
        return Err(invalid("the issuer is empty"));
    }
    if issuer.len() > MAX_CLAIM_BYTES {
        return Err(invalid(format!(
            "the issuer is {} bytes; SpacetimeDB accepts at most {MAX_CLAIM_BYTES}",
            issuer.len()
        )));
    }
    if issuer == "localhost" {
        return Err(invalid(
            "`localhost` is the SpacetimeDB server's own issuer; use your app's URL (e.g. https://app.example.com/api/auth)",
        ));
    }
    let url = Url::parse(issuer).map_err(|e| {
        invalid(format!(
            "the issuer `{issuer}` is not a URL ({e}); SpacetimeDB discovers keys at <issuer>{DISCOVERY_SUFFIX}"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("the issuer `{issuer}` must be an http(s) URL")));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("the issuer `{issuer}` has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() || issuer.contains(char::is_whitespace) {
        return Err(invalid(format!("the issuer `{issuer}` must not have a query, a fragment or spaces")));
    }
    Ok(url)
}

/// Checks `issuer` against the canonical form the deployment's identities were derived from
/// (`canonical`, default: `issuer` without trailing `/`). A variant that differs only by trailing `/`
/// is refused unless `allow_trailing_slash`, because every Identity would change.
pub fn check_canonical(issuer: &str, canonical: Option<&str>, allow_trailing_slash: bool) -> Result<()> {
    let trimmed = issuer.trim_end_matches('/');
    let canonical = canonical.unwrap_or(trimmed);
    if issuer == canonical {
        return Ok(());
    }
    if differ_only_by_trailing_slash(issuer, canonical) {
        if allow_trailing_slash {
            return Ok(());
        }
        return Err(invalid(format!(
            "the issuer `{issuer}` differs from the canonical `{canonical}` only by a trailing `/`: SpacetimeDB \
             would give every user a different Identity. Use exactly `{canonical}` (or set allowIssuerTrailingSlash)"
        )));
    }
    Err(invalid(format!("the issuer `{issuer}` is not the canonical issuer `{canonical}`")))
}

/// True for text that starts like an http(s) URL (the only schemes SpacetimeDB fetches keys over).
pub fn is_http_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

/// Two different issuer strings that are equal once trailing `/` are removed: the same discovery
/// URL, but different Identities for every user.
pub fn differ_only_by_trailing_slash(a: &str, b: &str) -> bool {
    a != b && a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// `<issuer>/.well-known/openid-configuration`, as SpacetimeDB requests it.
pub fn discovery_url(issuer: &str) -> String {
    format!("{}{DISCOVERY_SUFFIX}", issuer.trim_end_matches('/'))
}

/// The default JWKS location for a broker: `<issuer>/.well-known/jwks.json`.
pub fn default_jwks_url(issuer: &str) -> String {
    format!("{}{DEFAULT_JWKS_SUFFIX}", issuer.trim_end_matches('/'))
}

/// The path part of a URL (what an app's router matches), e.g. `/api/auth/.well-known/openid-configuration`.
pub fn path_of(url: &str) -> String {
    Url::parse(url).map(|u| u.path().to_string()).unwrap_or_default()
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// A development issuer: plain http, or a loopback host (localhost, 127.x, ::1). Fine against a local
/// SpacetimeDB; against any other server its keys could be served by whoever controls that address.
pub fn is_dev_issuer(issuer: &str) -> bool {
    match Url::parse(issuer) {
        Ok(url) => url.scheme() == "http" || is_loopback(&url),
        Err(_) => issuer == "localhost",
    }
}

/// A SpacetimeDB URL on this machine (loopback host).
pub fn is_local_server(url: &str) -> bool {
    Url::parse(url).map(|u| is_loopback(&u)).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::errors::auth_code;

    fn code(r: Result<impl Sized>) -> AuthErrorCode {
        auth_code(&r.err().expect("should fail")).unwrap()
    }

    #[test]
    fn accepts_urls_with_paths_and_refuses_the_rest() {
        for ok in ["https://app.example.com", "https://app.example.com/api/auth", "http://127.0.0.1:4000"] {
            parse_issuer(ok).unwrap();
        }
        for bad in [
            "",
            "localhost",
            "app.example.com",
            "ftp://x.example",
            "https://x.example/?a=1",
            "https://x.example/#f",
            "https://",
        ] {
            assert_eq!(code(parse_issuer(bad)), AuthErrorCode::IssuerInvalid, "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(120));
        assert!(parse_issuer(&long).unwrap_err().message.contains("at most 128"));
    }

    #[test]
    fn trailing_slash_variants_are_refused_unless_allowed() {
        check_canonical("https://a.example/api/auth", None, false).unwrap();
        assert_eq!(code(check_canonical("https://a.example/api/auth/", None, false)), AuthErrorCode::IssuerInvalid);
        check_canonical("https://a.example/api/auth/", None, true).unwrap();
        // An explicitly canonical trailing slash is fine, and then the slash-less form is the variant.
        check_canonical("https://a.example/", Some("https://a.example/"), false).unwrap();
        let err = check_canonical("https://a.example", Some("https://a.example/"), false).unwrap_err();
        assert!(err.message.contains("different Identity"));
        assert!(check_canonical("https://b.example", Some("https://a.example"), true).is_err());
    }

    #[test]
    fn discovery_is_appended_to_the_issuer_path() {
        assert_eq!(
            discovery_url("https://app.example.com/api/auth"),
            "https://app.example.com/api/auth/.well-known/openid-configuration"
        );
        assert_eq!(discovery_url("https://a.example/"), "https://a.example/.well-known/openid-configuration");
        assert_eq!(path_of(&default_jwks_url("https://a.example/api/auth")), "/api/auth/.well-known/jwks.json");
    }

    #[test]
    fn tells_dev_issuers_and_local_servers() {
        for dev in [
            "http://app.example.com",
            "https://localhost:3000",
            "https://127.0.0.5",
            "http://[::1]:80",
            "localhost",
            "https://dev.localhost",
        ] {
            assert!(is_dev_issuer(dev), "{dev}");
        }
        assert!(!is_dev_issuer("https://app.example.com/api/auth"));
        assert!(is_local_server("http://127.0.0.1:3000"));
        assert!(is_local_server("http://localhost:3000"));
        assert!(!is_local_server("https://maincloud.spacetimedb.com"));
        assert!(!is_local_server("http://10.0.0.5:3000"));
    }
}
