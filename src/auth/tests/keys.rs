//! Key import: every accepted shape loads, every refused one is refused with the right code.

use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{json, Value};

use super::support::{code, es256, rs256};
use crate::auth::alg::Alg;
use crate::auth::b64;
use crate::auth::der;
use crate::auth::errors::AuthErrorCode;
use crate::auth::key_input::{public_key, signing_key, KeyRing};
use crate::auth::keygen::generate_key_pair;
use crate::auth::keys::PublicMaterial;
use crate::auth::pem;

fn spki(algorithm: &[&[u8]], key: &[u8]) -> String {
    let mut alg = Vec::new();
    for oid in algorithm {
        der::write(der::OID, oid, &mut alg);
    }
    let mut body = Vec::new();
    der::write(der::SEQUENCE, &alg, &mut body);
    let mut bits = vec![0];
    bits.extend_from_slice(key);
    der::write(der::BIT_STRING, &bits, &mut body);
    let mut out = Vec::new();
    der::write(der::SEQUENCE, &body, &mut out);
    pem::encode("PUBLIC KEY", &out)
}

#[test]
fn generated_pairs_are_accepted_as_is_and_are_consistent() {
    for key in [es256(), rs256()] {
        let value = key.to_value();
        let signer = signing_key(&value).unwrap();
        assert_eq!(signer.kid(), key.kid);
        assert_eq!(signer.public().to_jwk(), key.public_jwk);
        // The public PEM and the public JWK describe the same key.
        let from_pem = public_key(&json!({ "kid": "x", "publicKeyPem": key.public_key_pem })).unwrap();
        let from_jwk = public_key(&key.public_jwk).unwrap();
        assert_eq!(from_pem.material, from_jwk.material);
        assert_eq!(from_jwk.kid, key.kid);
    }
    assert_eq!(es256().public_jwk["alg"], "ES256");
    assert_eq!(rs256().public_jwk["alg"], "RS256");
    assert_eq!(rs256().public_jwk["kty"], "RSA");
}

#[test]
fn the_default_kid_is_the_thumbprint() {
    let key = generate_key_pair(Alg::Es256, None).unwrap();
    let material = public_key(&key.public_jwk).unwrap().material;
    assert_eq!(key.kid, material.thumbprint());
    assert_eq!(key.kid.len(), 43);
}

#[test]
fn our_rsa_spki_matches_the_rsa_crate_encoding() {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let reference = rsa::pkcs8::EncodePublicKey::to_public_key_der(&private.to_public_key()).unwrap();
    let pkcs8 = private.to_pkcs8_pem(LineEnding::LF).unwrap();
    let signer = signing_key(&json!({ "kid": "k", "privateKeyPem": pkcs8.as_str() })).unwrap();
    assert_eq!(signer.public().material.to_spki_der(), reference.as_bytes());
}

#[test]
fn reads_pkcs1_sec1_and_jwk_private_keys() {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let pkcs1 = private.to_pkcs1_pem(LineEnding::LF).unwrap();
    let a = signing_key(&json!({ "kid": "k", "pem": pkcs1.as_str() })).unwrap();
    let public_pkcs1 = private.to_public_key().to_pkcs1_pem(LineEnding::LF).unwrap();
    let b = public_key(&json!({ "kid": "k", "pem": public_pkcs1 })).unwrap();
    assert_eq!(a.public().material, b.material);

    // SEC1 "EC PRIVATE KEY" with the curve and the public point, built from the generated key's parts.
    let jwk = es256().public_jwk.clone();
    let signer = signing_key(&es256().to_value()).unwrap();
    let point = signer.ec_public_point().unwrap().to_vec();
    let d = ec_scalar_of(&es256().private_key_pem);
    let mut body = Vec::new();
    der::write_unsigned_integer(&[1], &mut body);
    der::write(der::OCTET_STRING, &d, &mut body);
    let mut curve = Vec::new();
    der::write(der::OID, der::oid::P256, &mut curve);
    der::write(der::CONTEXT_0, &curve, &mut body);
    let mut bits = vec![0];
    bits.extend_from_slice(&point);
    let mut wrapped = Vec::new();
    der::write(der::BIT_STRING, &bits, &mut wrapped);
    der::write(der::CONTEXT_1, &wrapped, &mut body);
    let mut sec1 = Vec::new();
    der::write(der::SEQUENCE, &body, &mut sec1);
    let from_sec1 = signing_key(&json!({ "kid": "k", "pem": pem::encode("EC PRIVATE KEY", &sec1) })).unwrap();
    assert_eq!(from_sec1.public().to_jwk()["x"], jwk["x"]);

    // The same key as a private JWK.
    let mut private_jwk = jwk.clone();
    private_jwk["d"] = Value::String(b64::encode(&d));
    let from_jwk = signing_key(&private_jwk).unwrap();
    assert_eq!(from_jwk.public().material, signer.public().material);
}

/// The private scalar inside a PKCS#8 P-256 key (test helper).
fn ec_scalar_of(pkcs8_pem: &str) -> Vec<u8> {
    let der_bytes = pem::decode(pkcs8_pem).unwrap().der;
    let mut outer = der::Reader::new(&der_bytes).sequence().unwrap();
    outer.read(der::INTEGER).unwrap();
    outer.sequence().unwrap();
    let inner = outer.read(der::OCTET_STRING).unwrap();
    let mut ec = der::Reader::new(inner).sequence().unwrap();
    ec.read(der::INTEGER).unwrap();
    ec.read(der::OCTET_STRING).unwrap().to_vec()
}

#[test]
fn refuses_algorithms_spacetimedb_does_not_accept() {
    let ed25519 = spki(&[der::oid::ED25519], &[7u8; 32]);
    let mut p384_point = vec![4u8];
    p384_point.extend_from_slice(&[1u8; 96]);
    let p384 = spki(&[der::oid::EC_PUBLIC_KEY, der::oid::P384], &p384_point);
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "kid": "k", "pem": ed25519 }), "EdDSA"),
        (json!({ "kid": "k", "pem": p384 }), "ES384"),
        (
            json!({ "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "k" }),
            "EdDSA",
        ),
        (json!({ "kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "k" }), "ES384"),
        (json!({ "kty": "oct", "k": "c2VjcmV0", "kid": "k", "alg": "HS256" }), "shared-secret"),
        (json!({ "kty": "oct", "k": "c2VjcmV0", "kid": "k" }), "shared-secret"),
        (with(rs256().public_jwk.clone(), "alg", "PS256"), "PS256"),
        (with(rs256().public_jwk.clone(), "alg", "RS512"), "RS512"),
        (with(es256().public_jwk.clone(), "alg", "ES384"), "ES384"),
        (json!({ "kid": "k", "alg": "ES256", "publicKeyPem": rs256().public_key_pem }), "RSA key"),
    ];
    for (value, needle) in cases {
        let err = public_key(&value).unwrap_err();
        assert_eq!(crate::auth::errors::auth_code(&err), Some(AuthErrorCode::KeyUnsupported), "{value}");
        assert!(err.message.contains(needle), "{:?} should mention {needle}", err.message);
    }
}

fn with(mut value: Value, name: &str, v: &str) -> Value {
    value[name] = Value::String(v.into());
    value
}

#[test]
fn refuses_small_rsa_keys() {
    let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let pem_text = small.to_pkcs8_pem(LineEnding::LF).unwrap();
    let err = signing_key(&json!({ "kid": "k", "pem": pem_text.as_str() })).unwrap_err();
    assert!(err.message.contains("1024 bits"), "{}", err.message);
    assert_eq!(code(signing_key(&json!({ "kid": "k", "pem": pem_text.as_str() }))), AuthErrorCode::KeyUnsupported);
    let n = small.to_public_key();
    let n_bytes = rsa::traits::PublicKeyParts::n(&n).to_bytes_be();
    assert_eq!(code(PublicMaterial::rsa(&n_bytes, &[1, 0, 1])), AuthErrorCode::KeyUnsupported);
}

#[test]
fn refuses_keys_without_a_usable_kid() {
    let pem_only = Value::String(es256().private_key_pem.clone());
    assert_eq!(code(signing_key(&pem_only)), AuthErrorCode::KeyIdInvalid);
    let mut no_kid = es256().public_jwk.clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    assert_eq!(code(public_key(&no_kid)), AuthErrorCode::KeyIdInvalid);
    for bad in [json!(""), json!("   "), json!(5), json!("a\nb"), json!("k".repeat(300))] {
        let value = json!({ "kid": bad, "privateKeyPem": es256().private_key_pem });
        assert_eq!(code(signing_key(&value)), AuthErrorCode::KeyIdInvalid, "{bad}");
    }
    // Two keys of one ring may not share a kid.
    let ring = json!({ "active": es256().to_value(), "retiring": [with(rs256().public_jwk.clone(), "kid", "es-1")] });
    assert_eq!(code(KeyRing::from_value(&ring)), AuthErrorCode::KeyIdInvalid);
}

#[test]
fn malformed_keys_are_coded_errors() {
    let cases: Vec<Value> = vec![
        json!(42),
        json!({}),
        json!({ "kid": "k", "pem": "hello" }),
        json!({ "kid": "k", "pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }),
        json!({ "kid": "k", "pem": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----" }),
        json!({ "kid": "k", "pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" }),
        json!({ "kid": "k", "pem": "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----" }),
        json!({ "kid": "k", "pem": "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----" }),
        json!({ "kty": "EC", "crv": "P-256", "x": "!!", "y": "AA", "kid": "k" }),
        json!({ "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": "k" }),
        json!({ "kty": "RSA", "n": 5, "e": "AQAB", "kid": "k" }),
        json!({ "kty": "XYZ", "kid": "k" }),
        with(es256().public_jwk.clone(), "use", "enc"),
        json!({ "kid": "k", "privateKeyPem": es256().private_key_pem, "publicKeyPem": rs256().public_key_pem }),
    ];
    for value in cases {
        let err = signing_key(&value).unwrap_err();
        let code = crate::auth::errors::auth_code(&err);
        assert!(
            matches!(
                code,
                Some(AuthErrorCode::KeyInvalid | AuthErrorCode::KeyUnsupported | AuthErrorCode::KeyIdInvalid)
            ),
            "{value}: {err}"
        );
    }
    // A public key cannot sign; a JWKS never publishes the private half.
    assert_eq!(code(signing_key(&es256().public_jwk)), AuthErrorCode::KeyInvalid);
    // A tampered EC private key (d does not match x, y) is refused by ring's consistency check.
    let mut wrong = es256().public_jwk.clone();
    wrong["d"] = Value::String(b64::encode([9u8; 32]));
    assert_eq!(code(signing_key(&wrong)), AuthErrorCode::KeyInvalid);
}
