//! The key shapes users pass in, turned into pinned keys with a checked `kid`.
//!
//! Accepted wherever a key is expected:
//! - the object `generateKeyPair` returns (`{ alg, kid, privateKeyPem, publicKeyPem, publicJwk }`),
//! - `{ kid, pem }`, `{ kid, privateKeyPem }` or `{ kid, publicKeyPem }` (optional `alg`, checked),
//! - a JWK with `kid` (public, or private with `d`).
//!
//! A bare PEM string has no `kid`, and SpacetimeDB needs one on every published key, so it is refused
//! with `KEY_ID_INVALID` and a message that says how to add one.

use serde_json::{Map, Value};

use super::alg::Alg;
use super::errors::{auth_error, AuthErrorCode};
use super::key_import::{self, ImportedKey};
use super::keys::{invalid, validate_kid, PublicKey, SigningKey};
use crate::error::{GatewayError, Result};

/// Prefixes an error's message with where the key came from (`keys.retiring[1]: …`).
pub fn located(place: &str) -> impl Fn(GatewayError) -> GatewayError + '_ {
    move |e| GatewayError::new(e.code, format!("{place}: {}", e.message))
}

fn kid_of(object: &Map<String, Value>) -> Result<String> {
    match object.get("kid") {
        Some(Value::String(kid)) => validate_kid(kid).map(|_| kid.clone()),
        Some(_) => Err(auth_error(AuthErrorCode::KeyIdInvalid, "the key's `kid` is not a string")),
        None => Err(auth_error(
            AuthErrorCode::KeyIdInvalid,
            "the key has no `kid`; SpacetimeDB needs one on every published key: add `kid` (generateKeyPair sets one)",
        )),
    }
}

fn string_member<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("`{name}` must be a string"))),
    }
}

/// Reads one key value: its `kid` and material, with a declared `alg` checked against the key type.
pub fn parse_key(value: &Value) -> Result<(String, ImportedKey)> {
    let object = match value {
        Value::String(text) => {
            key_import::from_pem(text)?; // a broken PEM is reported as such first
            return Err(auth_error(
                AuthErrorCode::KeyIdInvalid,
                "a PEM string carries no `kid`; pass { kid, pem } or the object generateKeyPair returns",
            ));
        }
        Value::Object(object) => object,
        _ => return Err(invalid("a key must be an object (JWK, { kid, pem } or a generated key pair)")),
    };
    if object.contains_key("kty") {
        let imported = key_import::from_jwk(object)?;
        return Ok((kid_of(object)?, imported));
    }
    let private = string_member(object, "privateKeyPem")?;
    let public = string_member(object, "publicKeyPem")?;
    let pem = string_member(object, "pem")?;
    let text = private
        .or(pem)
        .or(public)
        .ok_or_else(|| invalid("a key object needs `kty` (a JWK) or one of `privateKeyPem`, `publicKeyPem`, `pem`"))?;
    let imported = key_import::from_pem(text)?;
    let kid = kid_of(object)?;
    if let Some(declared) = string_member(object, "alg")? {
        let actual = imported.public_material()?.alg();
        if Alg::parse(declared) != Some(actual) {
            return Err(auth_error(
                AuthErrorCode::KeyUnsupported,
                format!("`alg` says {declared} but the key is a {} key (usable with {actual} only)", actual.key_type()),
            ));
        }
    }
    if let (Some(_), Some(public_text)) = (private, public) {
        check_pair(&imported, public_text)?;
    }
    Ok((kid, imported))
}

/// A `publicKeyPem` given next to a `privateKeyPem` must be the same key (catches mixed-up files).
fn check_pair(private: &ImportedKey, public_text: &str) -> Result<()> {
    let ImportedKey::Public(given) = key_import::from_pem(public_text)? else {
        return Err(invalid("`publicKeyPem` holds a private key"));
    };
    if private.public_material()? != given {
        return Err(invalid("`publicKeyPem` is not the public half of `privateKeyPem`"));
    }
    Ok(())
}

/// A key that can sign (a private key in any accepted shape).
pub fn signing_key(value: &Value) -> Result<SigningKey> {
    match parse_key(value)? {
        (kid, ImportedKey::Private(material)) => SigningKey::new(kid, material),
        (_, ImportedKey::Public(_)) => Err(invalid("this is a public key; signing needs the private key")),
    }
}

/// The public half of a key in any accepted shape.
pub fn public_key(value: &Value) -> Result<PublicKey> {
    match parse_key(value)? {
        (kid, ImportedKey::Private(material)) => Ok(SigningKey::new(kid, material)?.public().clone()),
        (kid, ImportedKey::Public(material)) => Ok(PublicKey { kid, material }),
    }
}

/// The broker's keys: one that signs, and retiring (or upcoming) ones that are only published.
#[derive(Debug)]
pub struct KeyRing {
    pub active: SigningKey,
    pub retiring: Vec<PublicKey>,
}

impl KeyRing {
    /// Reads `keys`: a single key, or `{ active, retiring?: [...] }`.
    pub fn from_value(value: &Value) -> Result<KeyRing> {
        let (active_value, retiring_values) = match value {
            Value::Object(object) if object.contains_key("active") => {
                let retiring = match object.get("retiring") {
                    None | Some(Value::Null) => &[][..],
                    Some(Value::Array(items)) => items.as_slice(),
                    Some(_) => return Err(invalid("keys.retiring must be an array of keys")),
                };
                (&object["active"], retiring)
            }
            Value::Array(_) => {
                return Err(invalid("keys must be one key or { active, retiring: [...] }, not an array"));
            }
            single => (single, &[][..]),
        };
        let active = signing_key(active_value).map_err(located("keys.active"))?;
        let mut retiring = Vec::with_capacity(retiring_values.len());
        for (i, value) in retiring_values.iter().enumerate() {
            let key = public_key(value).map_err(located(&format!("keys.retiring[{i}]")))?;
            if key.kid == active.kid() || retiring.iter().any(|k: &PublicKey| k.kid == key.kid) {
                return Err(auth_error(
                    AuthErrorCode::KeyIdInvalid,
                    format!(
                        "keys.retiring[{i}]: kid `{}` is used by another key; every key needs its own kid",
                        key.kid
                    ),
                ));
            }
            retiring.push(key);
        }
        Ok(KeyRing { active, retiring })
    }

    /// Every published key, the active one first.
    pub fn published(&self) -> impl Iterator<Item = &PublicKey> {
        std::iter::once(self.active.public()).chain(self.retiring.iter())
    }
}
