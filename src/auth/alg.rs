//! The two JWS algorithms this package signs and verifies, and why every other one is refused.
//!
//! SpacetimeDB accepts ES256, RS256 and HS256 (protocol doc §5.1). HS256 is never used here: a shared
//! secret cannot be published, and SpacetimeDB 1.3.0 verifies HS256 with a *public* key's bytes as the
//! secret (anyone can forge tokens). So the accepted set is ES256 and RS256, each pinned to its key type.

use std::fmt;

/// An algorithm SpacetimeDB accepts and this package supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// ECDSA on P-256 with SHA-256 (64-byte `r‖s` signature).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA modulus of 2048 bits or more.
    Rs256,
}

impl Alg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
        }
    }

    /// Parses `ES256` / `RS256` (exact case, as in a JWS header).
    pub fn parse(name: &str) -> Option<Alg> {
        match name {
            "ES256" => Some(Alg::Es256),
            "RS256" => Some(Alg::Rs256),
            _ => None,
        }
    }

    /// The JWK `kty` of keys for this algorithm.
    pub const fn key_type(self) -> &'static str {
        match self {
            Alg::Es256 => "EC",
            Alg::Rs256 => "RSA",
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an `alg` value other than ES256/RS256 is refused, in one sentence that names the fix.
pub fn rejection_reason(alg: &str) -> String {
    match alg {
        "none" | "None" | "NONE" => "`alg: none` means an unsigned token; it is never accepted".into(),
        "HS256" | "HS384" | "HS512" => format!(
            "{alg} is a shared-secret (HMAC) algorithm; it is never accepted: a secret cannot be published, \
             and SpacetimeDB 1.3.0 verifies HS256 with a public key as the secret (forgeable). Sign with ES256 or RS256"
        ),
        "EdDSA" | "Ed25519" | "Ed448" => format!(
            "{alg} is not accepted by SpacetimeDB (it allows ES256 and RS256 only); Better Auth's jwt plugin signs \
             EdDSA by default: set jwks.keyPairConfig.alg to \"ES256\" or \"RS256\""
        ),
        "ES384" | "ES512" | "ES256K" => {
            format!("{alg} is not accepted by SpacetimeDB (it allows ES256 on P-256 and RS256 only)")
        }
        "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            format!("{alg} is not accepted by SpacetimeDB (for RSA keys it allows RS256 only)")
        }
        other => format!("`{other}` is not an algorithm SpacetimeDB accepts (ES256 or RS256)"),
    }
}

/// True for the HMAC family, the one that turns a public key into a forgery tool.
pub fn is_hmac(alg: &str) -> bool {
    matches!(alg, "HS256" | "HS384" | "HS512")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_the_two_supported_names() {
        assert_eq!(Alg::parse("ES256"), Some(Alg::Es256));
        assert_eq!(Alg::parse("RS256"), Some(Alg::Rs256));
        for other in ["es256", "HS256", "none", "EdDSA", "PS256", ""] {
            assert_eq!(Alg::parse(other), None, "{other}");
        }
    }

    #[test]
    fn reasons_name_the_cause() {
        assert!(rejection_reason("none").contains("unsigned"));
        assert!(rejection_reason("HS256").contains("shared-secret"));
        assert!(rejection_reason("EdDSA").contains("keyPairConfig"));
        assert!(rejection_reason("ES384").contains("P-256"));
        assert!(rejection_reason("PS256").contains("RS256 only"));
        assert!(rejection_reason("XYZ").contains("`XYZ`"));
    }
}
