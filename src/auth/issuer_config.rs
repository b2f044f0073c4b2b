//! One issuer's verification settings as a caller gives them (the JS `VerifyTokenOptions`), checked and
//! bound to their keys: exactly one key source, algorithms within ES256/RS256, a bounded clock tolerance.
//! With several issuers, an error also names the entry (`issuers[1] (https://…)`), so a long list is
//! fixable from the message alone.

use std::sync::Arc;

use serde_json::Value;

use super::issuer::{is_http_url, parse_issuer};
use super::keyset::KeySet;
use super::remote_jwks::{RemoteJwks, RemoteSource};
use super::trusted_issuers::TrustedIssuers;
use super::verify::{KeySource, Verifier, VerifyOptions};
use crate::error::{GatewayError, Result};

/// The settings of one trusted issuer.
#[derive(Clone, Debug, Default)]
pub struct IssuerConfig {
    /// The exact `iss`.
    pub issuer: String,
    /// Accepted audiences.
    pub audience: Vec<String>,
    /// An in-memory JWKS, as JSON text.
    pub jwks_json: Option<String>,
    /// A remote JWKS.
    pub jwks_uri: Option<String>,
    /// Find the JWKS through `<issuer>/.well-known/openid-configuration`.
    pub discovery: bool,
    /// A subset of ES256/RS256 (default both).
    pub algorithms: Option<Vec<String>>,
    /// Clock skew tolerated, in seconds (a JS number: whole, 0 to 300).
    pub clock_tolerance_seconds: Option<f64>,
}

/// A whole number of seconds from a JS number: finite, not negative, at most ~31 years.
pub fn whole_seconds(name: &str, value: Option<f64>) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 1e9 => Ok(Some(v as u64)),
        Some(v) => {
            Err(GatewayError::invalid_argument(format!("{name} must be a whole number of seconds ≥ 0, got {v}")))
        }
    }
}

/// Parses JSON text given for `name`.
pub fn parse_json(name: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| GatewayError::invalid_argument(format!("{name} is not valid JSON: {e}")))
}

impl IssuerConfig {
    /// The issuer's verifier: an in-memory key set, or the process-wide cache of a remote one.
    pub fn into_verifier(self) -> Result<Verifier> {
        let mut options = VerifyOptions::new(self.issuer.clone(), self.audience)?;
        if let Some(algorithms) = &self.algorithms {
            options = options.with_algorithms(algorithms)?;
        }
        if let Some(tolerance) = whole_seconds("clockToleranceSeconds", self.clock_tolerance_seconds)? {
            options = options.with_clock_tolerance(tolerance)?;
        }
        let source = match (self.jwks_json, self.jwks_uri, self.discovery) {
            (Some(json), None, false) => KeySource::Local(Arc::new(KeySet::from_jwks(&parse_json("jwks", &json)?)?)),
            (None, Some(uri), false) => {
                if !is_http_url(&uri) {
                    return Err(GatewayError::invalid_argument(format!("jwksUri must be an http(s) URL, got {uri:?}")));
                }
                KeySource::Remote(RemoteJwks::shared(RemoteSource::JwksUri(uri)))
            }
            (None, None, true) => {
                parse_issuer(&self.issuer)?;
                KeySource::Remote(RemoteJwks::shared(RemoteSource::Discovery { issuer: self.issuer }))
            }
            _ => {
                return Err(GatewayError::invalid_argument(
                    "give exactly one key source: `jwks`, `jwksUri` or `discovery: true`",
                ))
            }
        };
        Ok(Verifier { options, source })
    }
}

/// Several issuers' verifiers; an entry's error keeps its code and names the entry.
pub fn trusted_issuers(configs: Vec<IssuerConfig>) -> Result<TrustedIssuers> {
    let verifiers = configs
        .into_iter()
        .enumerate()
        .map(|(i, config)| {
            let issuer = config.issuer.clone();
            config
                .into_verifier()
                .map_err(|e| GatewayError { message: format!("issuers[{i}] ({issuer}): {}", e.message), ..e })
        })
        .collect::<Result<Vec<_>>>()?;
    TrustedIssuers::new(verifiers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::errors::AuthErrorCode;
    use crate::error::ErrorCode;

    fn config(issuer: &str) -> IssuerConfig {
        IssuerConfig {
            issuer: issuer.into(),
            audience: vec!["spacetimedb".into()],
            jwks_json: Some(r#"{"keys":[]}"#.into()),
            ..Default::default()
        }
    }

    #[test]
    fn an_entry_error_keeps_its_code_and_names_the_entry() {
        let bad_alg = IssuerConfig { algorithms: Some(vec!["EdDSA".into()]), ..config("https://b.example") };
        let e = trusted_issuers(vec![config("https://a.example"), bad_alg]).err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.starts_with("issuers[1] (https://b.example): verify: EdDSA"), "{}", e.message);
        let not_a_url = IssuerConfig { jwks_json: None, discovery: true, ..config("issuer.example") };
        let e = trusted_issuers(vec![not_a_url]).err().unwrap();
        assert_eq!(e.code, ErrorCode::Auth(AuthErrorCode::IssuerInvalid));
        assert!(e.message.starts_with("issuers[0] (issuer.example): "), "{}", e.message);
    }

    #[test]
    fn exactly_one_key_source_and_a_bounded_tolerance() {
        let none = IssuerConfig { jwks_json: None, ..config("https://a.example") };
        assert!(none.into_verifier().err().unwrap().message.contains("exactly one key source"));
        let two = IssuerConfig { discovery: true, ..config("https://a.example") };
        assert!(two.into_verifier().err().unwrap().message.contains("exactly one key source"));
        let ftp =
            IssuerConfig { jwks_json: None, jwks_uri: Some("ftp://x/jwks".into()), ..config("https://a.example") };
        assert!(ftp.into_verifier().err().unwrap().message.contains("http(s) URL"));
        let half = IssuerConfig { clock_tolerance_seconds: Some(1.5), ..config("https://a.example") };
        assert!(half.into_verifier().err().unwrap().message.contains("whole number of seconds"));
        let long = IssuerConfig { clock_tolerance_seconds: Some(301.0), ..config("https://a.example") };
        assert!(long.into_verifier().err().unwrap().message.contains("at most 300"));
        assert_eq!(whole_seconds("x", Some(5.0)).unwrap(), Some(5));
    }
}
