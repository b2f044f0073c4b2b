//! Keys pinned to one algorithm: [`PublicKey`] verifies, [`SigningKey`] signs.
//!
//! A key's algorithm follows from its type and nothing else (EC P-256 → ES256, RSA → RS256), so a
//! token can never choose how its signature is checked (no HS256-with-a-public-key, no `none`).

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{json, Map, Value};

use super::alg::Alg;
use super::b64;
use super::der;
use super::errors::{auth_error, AuthErrorCode};
use crate::error::Result;

/// Smallest RSA modulus accepted anywhere (SpacetimeDB's RS256 and NIST both want 2048).
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus for verification (bounds the cost of one verify).
pub const RSA_MAX_VERIFY_BITS: usize = 8192;
/// Largest RSA modulus *ring* signs with.
pub const RSA_MAX_SIGN_BITS: usize = 4096;
/// Longest `kid` accepted (it travels in every token header).
pub const KID_MAX_BYTES: usize = 256;

/// The public half of a key, as published in a JWKS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicMaterial {
    /// An uncompressed P-256 point: `0x04 ‖ x ‖ y` (65 bytes).
    Ec { point: Vec<u8> },
    /// RSA modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicMaterial {
    /// An EC P-256 point from its 32-byte coordinates.
    pub fn ec_from_coordinates(x: &[u8], y: &[u8]) -> Result<Self> {
        if x.len() != 32 || y.len() != 32 {
            return Err(invalid("a P-256 key needs 32-byte x and y coordinates"));
        }
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Ok(PublicMaterial::Ec { point })
    }

    /// An EC P-256 point in SEC1 uncompressed form, checked for shape.
    pub fn ec_from_point(point: &[u8]) -> Result<Self> {
        match point {
            [0x04, rest @ ..] if rest.len() == 64 => Ok(PublicMaterial::Ec { point: point.to_vec() }),
            [0x02 | 0x03, ..] => Err(invalid("compressed EC points are not supported; export the key uncompressed")),
            _ => Err(invalid("the EC public key is not a 65-byte uncompressed P-256 point")),
        }
    }

    /// RSA components, checked for the size SpacetimeDB and this package accept.
    pub fn rsa(n: &[u8], e: &[u8]) -> Result<Self> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = bit_length(n);
        if bits < RSA_MIN_BITS {
            return Err(auth_error(
                AuthErrorCode::KeyUnsupported,
                format!("the RSA key has {bits} bits; at least {RSA_MIN_BITS} are required"),
            ));
        }
        if bits > RSA_MAX_VERIFY_BITS {
            return Err(auth_error(
                AuthErrorCode::KeyUnsupported,
                format!("the RSA key has {bits} bits; at most {RSA_MAX_VERIFY_BITS} are supported"),
            ));
        }
        // ring's bounds: odd, at least 3, below 2^33.
        let e_value = e.iter().try_fold(0u64, |acc, &b| (acc < 1 << 55).then_some((acc << 8) | b as u64));
        match e_value {
            Some(v) if v >= 3 && v % 2 == 1 && v < 1 << 33 => {}
            _ => return Err(invalid("the RSA public exponent is not an odd number between 3 and 2^33")),
        }
        Ok(PublicMaterial::Rsa { n: n.to_vec(), e: e.to_vec() })
    }

    /// The algorithm this key is pinned to.
    pub fn alg(&self) -> Alg {
        match self {
            PublicMaterial::Ec { .. } => Alg::Es256,
            PublicMaterial::Rsa { .. } => Alg::Rs256,
        }
    }

    /// The JWK members that define the key (RFC 7638 "required members"), without `kid`/`alg`/`use`.
    fn required_jwk_members(&self) -> Map<String, Value> {
        let value = match self {
            PublicMaterial::Ec { point } => json!({
                "crv": "P-256", "kty": "EC", "x": b64::encode(&point[1..33]), "y": b64::encode(&point[33..65]),
            }),
            PublicMaterial::Rsa { n, e } => json!({ "e": b64::encode(e), "kty": "RSA", "n": b64::encode(n) }),
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url): a stable default `kid`.
    pub fn thumbprint(&self) -> String {
        // serde_json's default map is sorted, which is the lexicographic order RFC 7638 requires.
        let canonical = serde_json::to_string(&self.required_jwk_members()).unwrap_or_default();
        b64::encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()))
    }

    /// SubjectPublicKeyInfo DER (the body of a `PUBLIC KEY` PEM).
    pub fn to_spki_der(&self) -> Vec<u8> {
        let mut algorithm = Vec::new();
        let mut key_bits = vec![0u8]; // BIT STRING: zero unused bits
        match self {
            PublicMaterial::Ec { point } => {
                der::write(der::OID, der::oid::EC_PUBLIC_KEY, &mut algorithm);
                der::write(der::OID, der::oid::P256, &mut algorithm);
                key_bits.extend_from_slice(point);
            }
            PublicMaterial::Rsa { n, e } => {
                der::write(der::OID, der::oid::RSA_ENCRYPTION, &mut algorithm);
                der::write(der::NULL, &[], &mut algorithm);
                let mut rsa_key = Vec::new();
                der::write_unsigned_integer(n, &mut rsa_key);
                der::write_unsigned_integer(e, &mut rsa_key);
                der::write(der::SEQUENCE, &rsa_key, &mut key_bits);
            }
        }
        let mut body = Vec::new();
        der::write(der::SEQUENCE, &algorithm, &mut body);
        der::write(der::BIT_STRING, &key_bits, &mut body);
        let mut out = Vec::new();
        der::write(der::SEQUENCE, &body, &mut out);
        out
    }

    /// Checks `signature` over `message` with this key and its pinned algorithm.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicMaterial::Ec { point } => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(message, signature).is_ok()
            }
            PublicMaterial::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }

    /// A human description for messages: `EC P-256` or `RSA-2048`.
    pub fn describe(&self) -> String {
        match self {
            PublicMaterial::Ec { .. } => "EC P-256".into(),
            PublicMaterial::Rsa { n, .. } => format!("RSA-{}", bit_length(n)),
        }
    }
}

/// A published verification key: material plus its `kid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub material: PublicMaterial,
}

impl PublicKey {
    pub fn alg(&self) -> Alg {
        self.material.alg()
    }

    /// The public JWK as published: `kty`, key members, `kid`, `alg`, `use: "sig"`.
    pub fn to_jwk(&self) -> Value {
        let mut map = self.material.required_jwk_members();
        map.insert("kid".into(), Value::String(self.kid.clone()));
        map.insert("alg".into(), Value::String(self.alg().as_str().into()));
        map.insert("use".into(), Value::String("sig".into()));
        Value::Object(map)
    }
}

/// The private half in the forms *ring* loads.
pub enum PrivateMaterial {
    /// The P-256 private scalar (32 bytes) and its public point (65 bytes).
    Ec { d: Vec<u8>, point: Vec<u8> },
    /// A PKCS#1 `RSAPrivateKey` DER document.
    RsaPkcs1(Vec<u8>),
}

impl PrivateMaterial {
    /// The public half (checked for size and shape; the pair's consistency is checked by *ring* on load).
    pub fn public_material(&self) -> Result<PublicMaterial> {
        match self {
            PrivateMaterial::Ec { point, .. } => PublicMaterial::ec_from_point(point),
            PrivateMaterial::RsaPkcs1(pkcs1) => {
                let (n, e) = rsa_public_of_pkcs1(pkcs1)
                    .ok_or_else(|| invalid("the RSA private key is not a valid PKCS#1 structure"))?;
                PublicMaterial::rsa(n, e)
            }
        }
    }
}

enum Signer {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A key that signs: its public half, the loaded *ring* key, and the encoded JWS header it always uses.
pub struct SigningKey {
    public: PublicKey,
    signer: Signer,
    /// `base64url({"alg":…,"kid":…,"typ":"JWT"})`, computed once: every token of this key has it.
    header_b64: String,
    rng: SystemRandom,
}

/// Shows which key it is, never the private material.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.public.kid).field("alg", &self.alg()).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a private key; `kid` must already be validated.
    pub fn new(kid: String, private: PrivateMaterial) -> Result<Self> {
        let rng = SystemRandom::new();
        let material = private.public_material()?;
        let signer = match private {
            PrivateMaterial::Ec { d, point } => {
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &d,
                    &point,
                    &rng,
                )
                .map_err(|e| {
                    invalid(format!("the P-256 private key is not usable ({e}): is the public point its own?"))
                })?;
                Signer::Ec(pair)
            }
            PrivateMaterial::RsaPkcs1(pkcs1) => {
                let bits = match &material {
                    PublicMaterial::Rsa { n, .. } => bit_length(n),
                    PublicMaterial::Ec { .. } => 0,
                };
                if bits > RSA_MAX_SIGN_BITS {
                    return Err(auth_error(
                        AuthErrorCode::KeyUnsupported,
                        format!("the RSA key has {bits} bits; signing supports at most {RSA_MAX_SIGN_BITS}"),
                    ));
                }
                let pair = RsaKeyPair::from_der(&pkcs1)
                    .map_err(|e| invalid(format!("the RSA private key is not usable: {e}")))?;
                Signer::Rsa(pair)
            }
        };
        let public = PublicKey { kid, material };
        let header = json!({ "alg": public.alg().as_str(), "kid": public.kid, "typ": "JWT" });
        let header_b64 = b64::encode(serde_json::to_vec(&header).unwrap_or_default());
        Ok(SigningKey { public, signer, header_b64, rng })
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    pub fn alg(&self) -> Alg {
        self.public.alg()
    }

    /// The encoded protected header of every token this key signs.
    pub fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// Signs `message` (the JWS signing input) with the pinned algorithm.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = || auth_error(AuthErrorCode::KeyInvalid, format!("signing with key `{}` failed", self.public.kid));
        match &self.signer {
            Signer::Ec(pair) => pair.sign(&self.rng, message).map(|s| s.as_ref().to_vec()).map_err(|_| failed()),
            Signer::Rsa(pair) => {
                let mut out = vec![0u8; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut out).map_err(|_| failed())?;
                Ok(out)
            }
        }
    }

    /// The public point of an EC key as *ring* computed it (used to check imported pairs).
    pub fn ec_public_point(&self) -> Option<&[u8]> {
        match &self.signer {
            Signer::Ec(pair) => Some(pair.public_key().as_ref()),
            Signer::Rsa(_) => None,
        }
    }
}

/// `(n, e)` of a PKCS#1 `RSAPrivateKey ::= SEQUENCE { version, n, e, d, p, q, dP, dQ, qInv }`.
pub fn rsa_public_of_pkcs1(pkcs1: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut seq = der::Reader::new(pkcs1).sequence()?;
    seq.read(der::INTEGER)?; // version
    Some((seq.unsigned_integer()?, seq.unsigned_integer()?))
}

/// Checks a `kid`: present, not blank, bounded, no control characters.
pub fn validate_kid(kid: &str) -> Result<()> {
    if kid.trim().is_empty() {
        return Err(auth_error(AuthErrorCode::KeyIdInvalid, "the key's `kid` is empty"));
    }
    if kid.len() > KID_MAX_BYTES {
        return Err(auth_error(
            AuthErrorCode::KeyIdInvalid,
            format!("the key's `kid` is {} bytes; at most {KID_MAX_BYTES} are allowed", kid.len()),
        ));
    }
    if kid.chars().any(char::is_control) {
        return Err(auth_error(AuthErrorCode::KeyIdInvalid, "the key's `kid` contains control characters"));
    }
    Ok(())
}

pub(crate) fn invalid(message: impl Into<String>) -> crate::error::GatewayError {
    auth_error(AuthErrorCode::KeyInvalid, message)
}

pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Bit length of a big-endian magnitude without leading zeros.
pub(crate) fn bit_length(magnitude: &[u8]) -> usize {
    match magnitude.first() {
        None => 0,
        Some(&top) => (magnitude.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}
