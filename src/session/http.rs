//! The few HTTP requests the client makes (the module schema, for now).

use std::sync::OnceLock;
use std::time::Duration;

use super::uri::ServerAddress;
use crate::error::{ErrorCode, GatewayError, Result};

/// One HTTP client per process: it pools connections and holds the TLS configuration.
pub fn http_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(concat!("spacetime-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client configuration is static")
    })
}

/// `GET /v1/database/:db/schema?version=9`, as JSON text.
pub async fn fetch_schema(
    address: &ServerAddress,
    database: &str,
    token: Option<&str>,
    timeout: Duration,
) -> Result<String> {
    let url = address.database_url(database, "/schema?version=9");
    let mut request = http_client().get(&url).timeout(timeout);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| {
        let code = if e.is_timeout() { ErrorCode::Timeout } else { ErrorCode::ConnectFailed };
        GatewayError::new(
            code,
            format!("could not fetch the schema of '{database}' from {}: {}", address.http_base, error_chain(&e)),
        )
    })?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match status.as_u16() {
        200 => Ok(body),
        404 => Err(GatewayError::new(
            ErrorCode::NoSuchDatabase,
            format!("SpacetimeDB at {} has no database '{database}'", address.http_base),
        )),
        401 => Err(GatewayError::new(
            ErrorCode::Unauthorized,
            format!("SpacetimeDB at {} rejected the token: {}", address.http_base, body.trim()),
        )),
        _ => Err(GatewayError::new(
            ErrorCode::ConnectFailed,
            format!(
                "fetching the schema of '{database}' from {} failed with HTTP {status}: {}",
                address.http_base,
                body.trim()
            ),
        )),
    }
}

/// An error with its causes ("error sending request: connection refused"), which reqwest's Display omits.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
