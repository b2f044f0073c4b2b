//! The few HTTP requests the client makes (the module schema, for now).

use std::sync::OnceLock;
use std::time::Duration;

use super::uri::ServerAddress;
use crate::codec::{ModuleDefVersion, Schema};
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

/// The module schema and its JSON text (`Schema::from_json` reads it; so does the HTTP call route's
/// argument converter).
///
/// Asks for `GET /v1/database/:db/schema?version=10` first: a 2.x server serves both V10 and V9, and only
/// V10 says which tables are event tables (`SchemaVersion` in `crates/client-api/src/routes/database.rs`,
/// v2.8.3). A 1.x server knows only `9` and refuses `10` with HTTP 400 (axum's query rejection: "unknown
/// variant `10`, expected `9`", 1.3.0 `routes/database.rs:187-196`); then — or if a V10 answer does not
/// read, e.g. a newer server's changed section — it asks for `?version=9`, which every server serves.
pub async fn fetch_schema(
    address: &ServerAddress,
    database: &str,
    token: Option<&str>,
    timeout: Duration,
) -> Result<(String, Schema)> {
    if let Some(json) = fetch_schema_version(address, database, token, timeout, ModuleDefVersion::V10).await? {
        match Schema::from_json(&json) {
            Ok(schema) => return Ok((json, schema)),
            Err(e) => {
                tracing::warn!(error = %e, "the V10 module definition does not read; reading V9 (no event-table facts)")
            }
        }
    }
    let json = fetch_schema_version(address, database, token, timeout, ModuleDefVersion::V9)
        .await?
        .expect("an HTTP 400 to version 9 is an error");
    Schema::from_json(&json).map(|schema| (json, schema))
}

/// `GET /v1/database/:db/schema?version=<version>`: the JSON text, or `None` if the server answers V10
/// with HTTP 400 (it does not serve that version).
async fn fetch_schema_version(
    address: &ServerAddress,
    database: &str,
    token: Option<&str>,
    timeout: Duration,
    version: ModuleDefVersion,
) -> Result<Option<String>> {
    let url = address.database_url(database, &format!("/schema?version={}", version.query_value()));
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
        200 => Ok(Some(body)),
        400 if version == ModuleDefVersion::V10 => Ok(None),
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const V10_JSON: &str = include_str!("../../tests/fixtures/module-2x.v10.json");
    const V9_JSON: &str = include_str!("../../tests/fixtures/module-2x.v9.json");

    /// A schema route answering `?version=10` and `?version=9` with the given status and body; records the
    /// request lines it was sent.
    async fn schema_route(
        v10: (u16, &'static str),
        v9: (u16, &'static str),
    ) -> (ServerAddress, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = ServerAddress::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_string();
                let (status, body) = if line.contains("version=10 ") { v10 } else { v9 };
                record.lock().unwrap().push(line);
                let response =
                    format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        (address, seen)
    }

    async fn fetch(address: &ServerAddress) -> Result<(String, Schema)> {
        fetch_schema(address, "chat", None, Duration::from_secs(5)).await
    }

    #[tokio::test]
    async fn a_2x_server_is_read_at_version_10() {
        let (address, seen) = schema_route((200, V10_JSON), (200, V9_JSON)).await;
        let (json, schema) = fetch(&address).await.unwrap();
        assert_eq!((json.as_str(), schema.version), (V10_JSON, ModuleDefVersion::V10));
        assert_eq!(*seen.lock().unwrap(), ["GET /v1/database/chat/schema?version=10 HTTP/1.1"]);
    }

    /// 1.3.0 refuses `version=10` with HTTP 400 (checked live by every gateway connect in the vitest suites).
    #[tokio::test]
    async fn a_1x_server_is_read_at_version_9_after_refusing_10() {
        let refusal = "Failed to deserialize query string: version: unknown variant `10`, expected `9`";
        let (address, seen) = schema_route((400, refusal), (200, V9_JSON)).await;
        let (json, schema) = fetch(&address).await.unwrap();
        assert_eq!((json.as_str(), schema.version), (V9_JSON, ModuleDefVersion::V9));
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_unreadable_v10_falls_back_to_v9_and_other_failures_do_not() {
        let (address, _) = schema_route((200, r#"{"sections": [{"Tables": 1}]}"#), (200, V9_JSON)).await;
        assert_eq!(fetch(&address).await.unwrap().1.version, ModuleDefVersion::V9);

        let (address, _) = schema_route((400, "no"), (400, "bad request")).await;
        let e = fetch(&address).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::ConnectFailed);
        assert!(e.message.contains("HTTP 400 Bad Request: bad request"), "{e}");

        let (address, seen) = schema_route((404, ""), (200, V9_JSON)).await;
        assert_eq!(fetch(&address).await.unwrap_err().code, ErrorCode::NoSuchDatabase);
        assert_eq!(seen.lock().unwrap().len(), 1, "a missing database is not retried at version 9");
    }
}
