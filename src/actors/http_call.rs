//! Per-user calls over SpacetimeDB's HTTP call route, `POST /v1/database/:db/call/:reducer` with the
//! user's token (protocol doc §4.2): the module sees the user as `ctx.sender`, and no connection is held
//! between calls. The server runs the module's connect/disconnect lifecycle reducers around each call.
//! The answer carries no reducer timestamp and no request id: only success, or the failure text.

use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE};

use super::sats_json::SatsArgs;
use crate::error::{ErrorCode, GatewayError, Result};
use crate::session::http::{error_chain, http_client};
use crate::session::uri::ServerAddress;

/// What the server reported for a committed call over HTTP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpOutcome {
    /// `spacetime-execution-duration-micros`, when sent.
    pub duration_micros: Option<i64>,
    /// `spacetime-energy-used`, when sent (a decimal u128).
    pub energy_used: Option<String>,
}

/// Calls reducers of one database over HTTP.
pub struct HttpCaller {
    address: ServerAddress,
    database: String,
    args: SatsArgs,
}

impl HttpCaller {
    /// A caller for `database` at `address`; `args` converts arguments to SpacetimeDB's JSON.
    pub fn new(address: ServerAddress, database: String, args: SatsArgs) -> Self {
        HttpCaller { address, database, args }
    }

    /// Calls `reducer` with BSATN `args` as the holder of `token`. Sent at most once (no retries).
    pub async fn call(&self, token: &str, reducer: &str, args: &[u8], timeout: Duration) -> Result<HttpOutcome> {
        let body = self.args.to_json(reducer, args)?;
        // Reducer names are identifiers (the schema lookup above found it): no path escaping needed.
        let url = self.address.database_url(&self.database, &format!("/call/{reducer}"));
        let sent = http_client()
            .post(&url)
            .timeout(timeout)
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| request_error(&e, reducer, &self.address.http_base, timeout))?;
        let status = sent.status().as_u16();
        let outcome = outcome_of(sent.headers());
        let text = sent.text().await.unwrap_or_default();
        check_status(status, text.trim(), reducer, &self.database).map(|()| outcome)
    }
}

fn header<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn outcome_of(headers: &HeaderMap) -> HttpOutcome {
    HttpOutcome {
        duration_micros: header(headers, "spacetime-execution-duration-micros"),
        energy_used: header::<u128>(headers, "spacetime-energy-used").map(|e| e.to_string()),
    }
}

/// Maps the call route's answer: 200 committed; 530 the reducer failed (the body is its message).
pub fn check_status(status: u16, body: &str, reducer: &str, database: &str) -> Result<()> {
    let detail = if body.is_empty() { String::new() } else { format!(": {body}") };
    let (code, message) = match status {
        200..=299 => return Ok(()),
        530 => return Err(GatewayError::new(ErrorCode::ReducerFailed, body)),
        // The energy budget is exhausted: the reducer did not run to completion.
        402 => (ErrorCode::ReducerFailed, format!("reducer '{reducer}' ran out of energy{detail}")),
        401 => (ErrorCode::Unauthorized, format!("SpacetimeDB rejected the user token{detail}")),
        // The module's client_connected reducer refused this identity.
        403 => (ErrorCode::Unauthorized, format!("the module refused the connection of this identity{detail}")),
        404 if body.to_ascii_lowercase().contains("reducer") => {
            (ErrorCode::InvalidArgument, format!("database '{database}' has no reducer '{reducer}'{detail}"))
        }
        404 => (ErrorCode::NoSuchDatabase, format!("SpacetimeDB has no database '{database}'{detail}")),
        400 => (ErrorCode::InvalidArgument, format!("SpacetimeDB refused the arguments of '{reducer}'{detail}")),
        _ => (ErrorCode::Protocol, format!("the call route answered HTTP {status} for '{reducer}'{detail}")),
    };
    Err(GatewayError::new(code, message))
}

/// A request that got no HTTP answer. A connect failure means nothing was sent; anything later leaves
/// the outcome unknown.
fn request_error(e: &reqwest::Error, reducer: &str, base: &str, timeout: Duration) -> GatewayError {
    if e.is_timeout() {
        return GatewayError::new(
            ErrorCode::Timeout,
            format!("no answer for reducer '{reducer}' within {} ms; it may still commit", timeout.as_millis()),
        );
    }
    let outcome = if e.is_connect() { "the call was not sent" } else { "the outcome of the call is unknown" };
    GatewayError::new(
        ErrorCode::Disconnected,
        format!("could not reach SpacetimeDB at {base} ({}); {outcome}", error_chain(e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_answer_to_a_code() {
        assert!(check_status(200, "", "r", "db").is_ok());
        let failed = check_status(530, "title must not be empty", "r", "db").unwrap_err();
        assert_eq!((failed.code, failed.message.as_str()), (ErrorCode::ReducerFailed, "title must not be empty"));
        for (status, body, code, says) in [
            (401, "InvalidToken", ErrorCode::Unauthorized, "rejected the user token: InvalidToken"),
            (403, "", ErrorCode::Unauthorized, "refused the connection"),
            (402, "", ErrorCode::ReducerFailed, "ran out of energy"),
            (404, "No such reducer", ErrorCode::InvalidArgument, "has no reducer 'r'"),
            (404, "", ErrorCode::NoSuchDatabase, "no database 'db'"),
            (400, "bad args", ErrorCode::InvalidArgument, "refused the arguments of 'r': bad args"),
            (500, "boom", ErrorCode::Protocol, "HTTP 500"),
        ] {
            let e = check_status(status, body, "r", "db").unwrap_err();
            assert_eq!(e.code, code, "{status}");
            assert!(e.message.contains(says), "{status}: {}", e.message);
        }
    }

    #[test]
    fn reads_duration_and_energy_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("spacetime-execution-duration-micros", "123".parse().unwrap());
        headers.insert("spacetime-energy-used", "340282366920938463463374607431768211455".parse().unwrap());
        let outcome = outcome_of(&headers);
        assert_eq!(outcome.duration_micros, Some(123));
        assert_eq!(outcome.energy_used.as_deref(), Some("340282366920938463463374607431768211455"));
        assert_eq!(outcome_of(&HeaderMap::new()), HttpOutcome::default());
    }

    #[tokio::test]
    async fn an_unreachable_server_means_not_sent() {
        let address = ServerAddress::parse("http://127.0.0.1:9").unwrap();
        let args = SatsArgs::from_schema_json(crate::codec::tests::REFERENCE_SCHEMA_JSON).unwrap();
        let caller = HttpCaller::new(address, "db".into(), args);
        let bytes = crate::codec::tests::reference_schema()
            .reducer("create_tenant")
            .unwrap()
            .encode_args(&serde_json::json!(["t", "n"]))
            .unwrap();
        let e = caller.call("a.b.c", "create_tenant", &bytes, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Disconnected);
        assert!(e.message.contains("not sent") && !e.message.contains("a.b.c"), "{}", e.message);
    }
}
