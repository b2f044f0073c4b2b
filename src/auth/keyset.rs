//! A set of verification keys (a JWKS), and the choice of key for a token.
//!
//! The key decides the algorithm: a token's `alg` must equal the algorithm its key is pinned to, so an
//! HS256 token naming an RSA `kid` (the algorithm-confusion attack) is refused before any crypto runs.

use serde_json::{Map, Value};

use super::alg::Alg;
use super::errors::{auth_error, AuthErrorCode};
use super::jwt::DecodedJwt;
use super::key_import::{self, ImportedKey};
use super::keys::{PublicKey, PublicMaterial};
use crate::error::{GatewayError, Result};

/// Most keys read from one JWKS: real sets hold a handful; the bound caps the work per token.
pub const MAX_JWKS_KEYS: usize = 100;

/// One usable key of a set. `kid` is optional in a JWKS we read (SpacetimeDB requires it; the
/// diagnostics say so), but always present in keys we publish.
#[derive(Clone, Debug)]
pub struct KeyEntry {
    pub kid: Option<String>,
    pub material: PublicMaterial,
}

/// A key of a set that cannot be used, and why (e.g. an Ed25519 key: SpacetimeDB refuses EdDSA).
#[derive(Clone, Debug)]
pub struct UnusableKey {
    pub kid: Option<String>,
    pub reason: GatewayError,
}

/// The keys of a JWKS, split into usable (pinned) and unusable ones.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    pub usable: Vec<KeyEntry>,
    pub unusable: Vec<UnusableKey>,
}

fn jwks_invalid(message: impl Into<String>) -> GatewayError {
    auth_error(AuthErrorCode::JwksInvalid, message)
}

impl KeySet {
    /// A set of our own published keys.
    pub fn from_public_keys<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> Self {
        let usable =
            keys.into_iter().map(|k| KeyEntry { kid: Some(k.kid.clone()), material: k.material.clone() }).collect();
        KeySet { usable, unusable: Vec::new() }
    }

    /// Reads a JWKS document `{ "keys": [ … ] }`. Keys that cannot be used are kept aside with the reason;
    /// a document that is not a JWKS at all is `JWKS_INVALID`.
    pub fn from_jwks(document: &Value) -> Result<Self> {
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| jwks_invalid("the JWKS is not an object with a `keys` array"))?;
        if keys.len() > MAX_JWKS_KEYS {
            return Err(jwks_invalid(format!("the JWKS has {} keys; at most {MAX_JWKS_KEYS} are read", keys.len())));
        }
        let mut set = KeySet::default();
        for key in keys {
            let Some(object) = key.as_object() else {
                return Err(jwks_invalid("a JWKS entry is not an object"));
            };
            let kid = object.get("kid").and_then(Value::as_str).map(str::to_string);
            match Self::entry_material(object) {
                Ok(material) => set.usable.push(KeyEntry { kid, material }),
                Err(reason) => set.unusable.push(UnusableKey { kid, reason }),
            }
        }
        Ok(set)
    }

    fn entry_material(object: &Map<String, Value>) -> Result<PublicMaterial> {
        // A published private key is a leak; refuse to use it (the diagnostics flag it).
        if object.contains_key("d") {
            return Err(auth_error(
                AuthErrorCode::KeyInvalid,
                "the JWKS publishes a private key (`d`): rotate that key now and publish public keys only",
            ));
        }
        match key_import::from_jwk(object)? {
            ImportedKey::Public(material) => Ok(material),
            ImportedKey::Private(_) => Err(auth_error(AuthErrorCode::KeyInvalid, "the JWKS entry is a private key")),
        }
    }

    /// Number of keys in the document (usable or not).
    pub fn len(&self) -> usize {
        self.usable.len() + self.unusable.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys without `kid` (SpacetimeDB refuses the whole JWKS if there is one).
    pub fn keys_without_kid(&self) -> usize {
        self.usable.iter().filter(|k| k.kid.is_none()).count()
            + self.unusable.iter().filter(|k| k.kid.is_none()).count()
    }

    pub fn contains_kid(&self, kid: &str) -> bool {
        self.usable.iter().any(|k| k.kid.as_deref() == Some(kid))
            || self.unusable.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The usable key with this `kid`.
    pub fn find(&self, kid: &str) -> Option<&KeyEntry> {
        self.usable.iter().find(|k| k.kid.as_deref() == Some(kid))
    }

    /// What the set says about `kid`, for an error message (`RSA-2048 key`, `unusable key: …`).
    pub fn describe_kid(&self, kid: &str) -> Option<String> {
        if let Some(entry) = self.find(kid) {
            return Some(format!("a {} key pinned to {}", entry.material.describe(), entry.material.alg()));
        }
        self.unusable
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .map(|k| format!("an unusable key ({})", k.reason.message))
    }

    fn kid_list(&self) -> String {
        let kids: Vec<&str> = self.usable.iter().filter_map(|k| k.kid.as_deref()).collect();
        if kids.is_empty() {
            "none with a kid".into()
        } else {
            kids.join(", ")
        }
    }

    /// Picks the key for a token whose `alg` is already known to be allowed, and checks the signature.
    /// With a `kid`: that key, whose pinned algorithm must equal `alg`. Without: every key of `alg`.
    pub fn verify_signature(&self, jwt: &DecodedJwt<'_>, alg: Alg) -> Result<&KeyEntry> {
        let message = jwt.signing_input.as_bytes();
        if let Some(kid) = jwt.kid() {
            let Some(entry) = self.find(kid) else {
                if let Some(unusable) = self.unusable.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                    return Err(auth_error(
                        AuthErrorCode::TokenAlgRejected,
                        format!("the token's key `{kid}` cannot be used: {}", unusable.reason.message),
                    ));
                }
                return Err(auth_error(
                    AuthErrorCode::TokenKeyNotFound,
                    format!("no published key has kid `{kid}` (the JWKS has: {})", self.kid_list()),
                ));
            };
            if entry.material.alg() != alg {
                return Err(auth_error(
                    AuthErrorCode::TokenAlgRejected,
                    format!(
                        "the token says {alg} but its key `{kid}` is a {} key pinned to {}",
                        entry.material.describe(),
                        entry.material.alg()
                    ),
                ));
            }
            return if entry.material.verify(message, &jwt.signature) {
                Ok(entry)
            } else {
                Err(auth_error(
                    AuthErrorCode::TokenBadSignature,
                    format!("the signature does not verify with key `{kid}`"),
                ))
            };
        }
        let mut candidates = self.usable.iter().filter(|k| k.material.alg() == alg).peekable();
        if candidates.peek().is_none() {
            return Err(auth_error(
                AuthErrorCode::TokenKeyNotFound,
                format!("the token has no kid and the JWKS has no {alg} key"),
            ));
        }
        candidates.find(|k| k.material.verify(message, &jwt.signature)).ok_or_else(|| {
            auth_error(AuthErrorCode::TokenBadSignature, format!("the signature does not verify with any {alg} key"))
        })
    }
}
