//! Fresh key pairs for the broker: ES256 (P-256, by *ring*) or RS256 (2048-bit RSA).
//!
//! *ring* cannot generate RSA keys, so RSA generation uses the `rsa` crate — for generation only; the
//! key is then loaded into *ring* like any imported key, which also proves the pair is consistent.

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs8::EncodePrivateKey;
use serde_json::{json, Value};

use super::alg::Alg;
use super::errors::{auth_error, AuthErrorCode};
use super::keys::{validate_kid, PublicKey};
use super::pem;
use crate::error::Result;

/// The RSA modulus size of generated RS256 keys.
pub const RSA_GENERATED_BITS: usize = 2048;

/// A generated key pair in the shape every key parameter accepts as-is.
#[derive(Clone, Debug)]
pub struct GeneratedKeyPair {
    pub alg: Alg,
    pub kid: String,
    /// PKCS#8 `PRIVATE KEY` PEM.
    pub private_key_pem: String,
    /// SPKI `PUBLIC KEY` PEM.
    pub public_key_pem: String,
    /// The public JWK (with `kid`, `alg`, `use`), as the JWKS publishes it.
    pub public_jwk: Value,
}

impl GeneratedKeyPair {
    /// The object form (`{ alg, kid, privateKeyPem, publicKeyPem, publicJwk }`) that key parameters take.
    pub fn to_value(&self) -> Value {
        json!({
            "alg": self.alg.as_str(),
            "kid": self.kid,
            "privateKeyPem": self.private_key_pem,
            "publicKeyPem": self.public_key_pem,
            "publicJwk": self.public_jwk,
        })
    }
}

fn failed(what: &str) -> crate::error::GatewayError {
    auth_error(AuthErrorCode::KeyInvalid, format!("key generation failed: {what}"))
}

/// Generates a key pair for `alg`. Without `kid`, the kid is the key's RFC 7638 thumbprint.
pub fn generate_key_pair(alg: Alg, kid: Option<&str>) -> Result<GeneratedKeyPair> {
    if let Some(kid) = kid {
        validate_kid(kid)?;
    }
    let private_pkcs8: Vec<u8> = match alg {
        Alg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| failed("the system random source failed"))?
            .as_ref()
            .to_vec(),
        Alg::Rs256 => {
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_GENERATED_BITS)
                .map_err(|e| failed(&e.to_string()))?;
            key.to_pkcs8_der().map_err(|e| failed(&e.to_string()))?.as_bytes().to_vec()
        }
    };
    let private_key_pem = pem::encode("PRIVATE KEY", &private_pkcs8);
    // Load it back through the ordinary import path: what we hand out is what we can read.
    let placeholder = json!({ "kid": "generated", "privateKeyPem": private_key_pem });
    let signing = super::key_input::signing_key(&placeholder)?;
    let material = signing.public().material.clone();
    let kid = kid.map(str::to_string).unwrap_or_else(|| material.thumbprint());
    let public = PublicKey { kid: kid.clone(), material };
    let public_key_pem = pem::encode("PUBLIC KEY", &public.material.to_spki_der());
    Ok(GeneratedKeyPair { alg, kid, private_key_pem, public_key_pem, public_jwk: public.to_jwk() })
}
