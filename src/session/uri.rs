//! Where a database lives: the websocket and HTTP addresses derived from the user's `uri`.

use crate::error::{ErrorCode, GatewayError, Result};

/// The two base addresses of one SpacetimeDB host, without a trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerAddress {
    /// `ws://host:port[/prefix]` or `wss://…`
    pub ws_base: String,
    /// `http://host:port[/prefix]` or `https://…`
    pub http_base: String,
}

impl ServerAddress {
    /// Accepts `ws://`, `wss://`, `http://` and `https://` URIs (any path prefix is kept, so a server
    /// mounted behind a reverse proxy under `/spacetime` works).
    pub fn parse(uri: &str) -> Result<ServerAddress> {
        let uri = uri.trim();
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad_uri(uri, "it has no scheme"))?;
        let (ws, http) = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => ("ws", "http"),
            "wss" | "https" => ("wss", "https"),
            _ => return Err(bad_uri(uri, "the scheme must be ws, wss, http or https")),
        };
        let rest = rest.trim_end_matches('/');
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            return Err(bad_uri(uri, "it has no host"));
        }
        if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
            return Err(bad_uri(uri, "it must not contain a query, a fragment or spaces"));
        }
        Ok(ServerAddress { ws_base: format!("{ws}://{rest}"), http_base: format!("{http}://{rest}") })
    }

    /// `…/v1/database/<db>/subscribe?…` for every websocket protocol. `confirmed=true` always: a 2.x
    /// server then sends a change only once it is durable (its default for v2/v3, not for v1), so the
    /// gateway never relays a change a crash loses; 1.3.0 has no such parameter and ignores it
    /// (`docs/protocol-2x.md` §2). `light` only matters for v1.
    pub fn subscribe_url(&self, database: &str, compression: Compression, light: bool) -> String {
        format!(
            "{}/v1/database/{}/subscribe?compression={}&light={}&confirmed=true",
            self.ws_base,
            encode_path_segment(database),
            compression.query_value(),
            light
        )
    }

    /// `…/v1/database/<db><suffix>` over HTTP.
    pub fn database_url(&self, database: &str, suffix: &str) -> String {
        format!("{}/v1/database/{}{}", self.http_base, encode_path_segment(database), suffix)
    }
}

/// The compression the server applies to messages larger than 1 KiB (smaller ones are never compressed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Brotli,
}

impl Compression {
    pub fn parse(value: &str) -> Result<Compression> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "brotli" => Ok(Compression::Brotli),
            _ => Err(GatewayError::invalid_argument(format!(
                "compression must be 'none', 'gzip' or 'brotli', got '{value}'"
            ))),
        }
    }

    fn query_value(self) -> &'static str {
        match self {
            Compression::None => "None",
            Compression::Gzip => "Gzip",
            Compression::Brotli => "Brotli",
        }
    }
}

fn bad_uri(uri: &str, why: &str) -> GatewayError {
    GatewayError::new(ErrorCode::InvalidArgument, format!("invalid uri '{uri}': {why}"))
}

/// Percent-encodes a database name for use as one path segment.
fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_scheme_to_both_bases() {
        for (uri, ws, http) in [
            ("ws://127.0.0.1:3000", "ws://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://127.0.0.1:3000/", "ws://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("wss://db.example.com", "wss://db.example.com", "https://db.example.com"),
            ("HTTPS://db.example.com/stdb/", "wss://db.example.com/stdb", "https://db.example.com/stdb"),
        ] {
            let a = ServerAddress::parse(uri).unwrap();
            assert_eq!((a.ws_base.as_str(), a.http_base.as_str()), (ws, http), "{uri}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_server_uri() {
        for uri in ["127.0.0.1:3000", "ftp://x", "http://", "http:///x", "http://h/?q=1", "http://h x"] {
            let e = ServerAddress::parse(uri).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{uri}");
            assert!(e.message.contains(uri.trim()), "{}", e.message);
        }
    }

    #[test]
    fn builds_the_subscribe_url_with_an_encoded_name() {
        let a = ServerAddress::parse("http://h:1").unwrap();
        assert_eq!(
            a.subscribe_url("my db/x", Compression::Gzip, true),
            "ws://h:1/v1/database/my%20db%2Fx/subscribe?compression=Gzip&light=true&confirmed=true"
        );
        assert_eq!(a.database_url("d", "/schema?version=9"), "http://h:1/v1/database/d/schema?version=9");
    }

    #[test]
    fn parses_compression_names() {
        assert_eq!(Compression::parse("Brotli").unwrap(), Compression::Brotli);
        assert_eq!(Compression::parse("none").unwrap(), Compression::None);
        assert_eq!(Compression::parse("zstd").unwrap_err().code, ErrorCode::InvalidArgument);
    }
}
