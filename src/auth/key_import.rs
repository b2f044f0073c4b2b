//! Reading key material from PEM (SPKI, PKCS#8, PKCS#1, SEC1) and from JWK objects.
//!
//! Keys SpacetimeDB would refuse are recognised and refused with the reason (`KEY_UNSUPPORTED`): an
//! Ed25519 key is "EdDSA is not accepted", not "unknown key".

use serde_json::{Map, Value};

use super::alg::rejection_reason;
use super::b64;
use super::der::{self, oid, Reader};
use super::errors::{auth_error, AuthErrorCode};
use super::keys::{invalid, PrivateMaterial, PublicMaterial};
use super::pem;
use crate::error::Result;

/// What a key text or object turned out to hold.
pub enum ImportedKey {
    Public(PublicMaterial),
    Private(PrivateMaterial),
}

impl ImportedKey {
    /// The public half, whichever half was imported.
    pub fn public_material(&self) -> Result<PublicMaterial> {
        match self {
            ImportedKey::Public(material) => Ok(material.clone()),
            ImportedKey::Private(private) => private.public_material(),
        }
    }
}

fn unsupported(alg: &str) -> crate::error::GatewayError {
    auth_error(AuthErrorCode::KeyUnsupported, rejection_reason(alg))
}

/// Maps an algorithm OID (+ curve) to `Ok(())` for the supported ones or the reason it is refused.
fn check_algorithm(algorithm: &[u8], curve: Option<&[u8]>) -> Result<bool> {
    // Ok(true) = EC P-256, Ok(false) = RSA.
    match algorithm {
        a if a == oid::EC_PUBLIC_KEY => match curve {
            Some(c) if c == oid::P256 => Ok(true),
            Some(c) if c == oid::P384 => Err(unsupported("ES384")),
            Some(c) if c == oid::P521 => Err(unsupported("ES512")),
            Some(c) if c == oid::SECP256K1 => Err(unsupported("ES256K")),
            _ => Err(invalid("the EC key uses an unknown or explicit curve; only P-256 (prime256v1) is supported")),
        },
        a if a == oid::RSA_ENCRYPTION => Ok(false),
        a if a == oid::RSASSA_PSS => Err(unsupported("PS256")),
        a if a == oid::ED25519 || a == oid::ED448 => Err(unsupported("EdDSA")),
        _ => Err(invalid("the key's algorithm is not EC or RSA")),
    }
}

/// Reads the first PEM block of `text`.
pub fn from_pem(text: &str) -> Result<ImportedKey> {
    let block = pem::decode(text).map_err(invalid)?;
    let der = &block.der;
    let bad = |what: &str| invalid(format!("the {} block is not a valid {what}", block.label));
    match block.label.as_str() {
        "PUBLIC KEY" => spki(der).ok_or_else(|| bad("SubjectPublicKeyInfo"))?.map(ImportedKey::Public),
        "RSA PUBLIC KEY" => {
            let mut seq = Reader::new(der).sequence().ok_or_else(|| bad("PKCS#1 public key"))?;
            let (n, e) = (seq.unsigned_integer(), seq.unsigned_integer());
            let (n, e) = n.zip(e).ok_or_else(|| bad("PKCS#1 public key"))?;
            PublicMaterial::rsa(n, e).map(ImportedKey::Public)
        }
        "PRIVATE KEY" => pkcs8(der).ok_or_else(|| bad("PKCS#8 private key"))?.map(ImportedKey::Private),
        "RSA PRIVATE KEY" => Ok(ImportedKey::Private(PrivateMaterial::RsaPkcs1(der.clone()))),
        "EC PRIVATE KEY" => sec1(der, None).ok_or_else(|| bad("SEC1 EC private key"))?.map(ImportedKey::Private),
        "ENCRYPTED PRIVATE KEY" => {
            Err(invalid("the private key is encrypted; decrypt it first (openssl pkcs8 -nocrypt)"))
        }
        "CERTIFICATE" => Err(invalid("this is a certificate, not a key; export its public key (openssl x509 -pubkey)")),
        other => Err(invalid(format!("a `{other}` PEM block is not a key this package reads"))),
    }
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }`. Outer `None` = malformed.
fn spki(der: &[u8]) -> Option<Result<PublicMaterial>> {
    let mut seq = Reader::new(der).sequence()?;
    let (algorithm, curve) = der::algorithm_identifier(&mut seq)?;
    let key = seq.bit_string()?;
    Some(match check_algorithm(algorithm, curve) {
        Err(e) => Err(e),
        Ok(true) => PublicMaterial::ec_from_point(key),
        Ok(false) => {
            let mut rsa = Reader::new(key).sequence()?;
            let (n, e) = (rsa.unsigned_integer()?, rsa.unsigned_integer()?);
            PublicMaterial::rsa(n, e)
        }
    })
}

/// `PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, OCTET STRING privateKey, … }`.
fn pkcs8(der: &[u8]) -> Option<Result<PrivateMaterial>> {
    let mut seq = Reader::new(der).sequence()?;
    seq.read(der::INTEGER)?;
    let (algorithm, curve) = der::algorithm_identifier(&mut seq)?;
    let inner = seq.read(der::OCTET_STRING)?;
    Some(match check_algorithm(algorithm, curve) {
        Err(e) => Err(e),
        Ok(true) => return sec1(inner, curve),
        Ok(false) => Ok(PrivateMaterial::RsaPkcs1(inner.to_vec())),
    })
}

/// `ECPrivateKey ::= SEQUENCE { 1, OCTET STRING d, [0] curve OPTIONAL, [1] BIT STRING point OPTIONAL }`.
/// `outer_curve` is the curve named by an enclosing PKCS#8 header, if any.
fn sec1(der: &[u8], outer_curve: Option<&[u8]>) -> Option<Result<PrivateMaterial>> {
    let mut seq = Reader::new(der).sequence()?;
    if seq.unsigned_integer()? != [1] {
        return None;
    }
    let d = seq.read(der::OCTET_STRING)?;
    let curve = match seq.read_optional(der::CONTEXT_0) {
        Some(params) => Some(Reader::new(params).read(der::OID)?),
        None => outer_curve,
    };
    if let Err(e) = check_algorithm(oid::EC_PUBLIC_KEY, curve) {
        return Some(Err(e));
    }
    let point = match seq.read_optional(der::CONTEXT_1) {
        Some(wrapped) => Reader::new(wrapped).bit_string()?,
        None => {
            return Some(Err(invalid(
                "the EC private key does not embed its public key; re-export it (openssl pkey, or Node's crypto) so it does",
            )))
        }
    };
    if d.len() != 32 {
        return Some(Err(invalid("the P-256 private scalar is not 32 bytes")));
    }
    Some(Ok(PrivateMaterial::Ec { d: d.to_vec(), point: point.to_vec() }))
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    jwk.get(name).and_then(Value::as_str).ok_or_else(|| invalid(format!("the JWK has no string member `{name}`")))
}

fn member_bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>> {
    b64::decode(member(jwk, name)?).ok_or_else(|| invalid(format!("the JWK member `{name}` is not base64url")))
}

/// Reads a JWK (public, or private when it has `d`). `kid` is the caller's business.
pub fn from_jwk(jwk: &Map<String, Value>) -> Result<ImportedKey> {
    let kty = member(jwk, "kty")?;
    let alg = jwk.get("alg").and_then(Value::as_str);
    if let Some(usage) = jwk.get("use").and_then(Value::as_str) {
        if usage != "sig" {
            return Err(invalid(format!("the JWK is for `use: {usage}`, not for signatures")));
        }
    }
    let expect_alg = |wanted: &str| match alg {
        Some(a) if a != wanted => Err(unsupported(a)),
        _ => Ok(()),
    };
    match kty {
        "EC" => {
            match member(jwk, "crv")? {
                "P-256" => {}
                "P-384" => return Err(unsupported("ES384")),
                "P-521" => return Err(unsupported("ES512")),
                "secp256k1" => return Err(unsupported("ES256K")),
                other => return Err(invalid(format!("unknown EC curve `{other}`"))),
            }
            expect_alg("ES256")?;
            let public = PublicMaterial::ec_from_coordinates(&member_bytes(jwk, "x")?, &member_bytes(jwk, "y")?)?;
            if !jwk.contains_key("d") {
                return Ok(ImportedKey::Public(public));
            }
            let d = member_bytes(jwk, "d")?;
            if d.len() != 32 {
                return Err(invalid("the P-256 private scalar `d` is not 32 bytes"));
            }
            let PublicMaterial::Ec { point } = public else {
                return Err(invalid("the EC JWK did not yield an EC point"));
            };
            Ok(ImportedKey::Private(PrivateMaterial::Ec { d, point }))
        }
        "RSA" => {
            expect_alg("RS256")?;
            let public = PublicMaterial::rsa(&member_bytes(jwk, "n")?, &member_bytes(jwk, "e")?)?;
            if !jwk.contains_key("d") {
                return Ok(ImportedKey::Public(public));
            }
            if jwk.contains_key("oth") {
                return Err(auth_error(
                    AuthErrorCode::KeyUnsupported,
                    "multi-prime RSA keys (`oth`) are not supported",
                ));
            }
            // Rebuild the PKCS#1 document *ring* loads: version 0, n, e, d, p, q, dP, dQ, qInv.
            let mut body = Vec::new();
            der::write_unsigned_integer(&[0], &mut body);
            for name in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
                der::write_unsigned_integer(&member_bytes(jwk, name)?, &mut body);
            }
            let mut pkcs1 = Vec::new();
            der::write(der::SEQUENCE, &body, &mut pkcs1);
            Ok(ImportedKey::Private(PrivateMaterial::RsaPkcs1(pkcs1)))
        }
        "OKP" => Err(unsupported("EdDSA")),
        "oct" => Err(unsupported(alg.unwrap_or("HS256"))),
        other => Err(invalid(format!("unknown JWK key type `{other}`"))),
    }
}
