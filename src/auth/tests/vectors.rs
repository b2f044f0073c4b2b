//! Known-answer vectors: RFC 7515 Appendix A.2 (RS256) and A.3 (ES256), through our own key import,
//! signer and verifier.

use serde_json::{json, Map, Value};

use crate::auth::b64;
use crate::auth::jwt;
use crate::auth::key_import::{from_jwk, ImportedKey};
use crate::auth::key_input::signing_key;
use crate::auth::keys::{PublicKey, PublicMaterial};
use crate::auth::keyset::KeySet;

/// The signing input of both appendices: `{"alg":…}` and the RFC's CRLF-formatted payload.
const A2_INPUT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const A3_INPUT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const A3_SIGNATURE: &str = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

fn a2_private_jwk() -> Value {
    json!({
        "kty": "RSA", "kid": "rfc7515-a2",
        "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
        "e": "AQAB",
        "d": "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
        "p": "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
        "q": "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
        "dp": "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
        "dq": "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
        "qi": "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
    })
}

fn a3_private_jwk() -> Value {
    json!({
        "kty": "EC", "crv": "P-256", "kid": "rfc7515-a3",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
    })
}

fn public_of(jwk: &Value) -> PublicMaterial {
    let mut public: Map<String, Value> = jwk.as_object().unwrap().clone();
    public.remove("d");
    match from_jwk(&public).unwrap() {
        ImportedKey::Public(material) => material,
        ImportedKey::Private(_) => panic!("public JWK read as private"),
    }
}

#[test]
fn rs256_signature_is_byte_exact_with_rfc7515_a2() {
    let key = signing_key(&a2_private_jwk()).unwrap();
    let signature = key.sign(A2_INPUT.as_bytes()).unwrap();
    assert_eq!(b64::encode(&signature), A2_SIGNATURE, "PKCS#1 v1.5 is deterministic: same key, same input, same bytes");
    let public = public_of(&a2_private_jwk());
    assert!(public.verify(A2_INPUT.as_bytes(), &b64::decode(A2_SIGNATURE).unwrap()));
    assert_eq!(key.public().material, public);
}

#[test]
fn es256_verifies_rfc7515_a3_and_round_trips_with_its_key() {
    let public = public_of(&a3_private_jwk());
    let signature = b64::decode(A3_SIGNATURE).unwrap();
    assert!(public.verify(A3_INPUT.as_bytes(), &signature));
    let mut flipped = signature.clone();
    flipped[10] ^= 1;
    assert!(!public.verify(A3_INPUT.as_bytes(), &flipped));
    assert!(!public.verify(A2_INPUT.as_bytes(), &signature), "another input must not verify");

    // The RFC's private key loads (ring checks d against x, y) and its fresh signatures verify.
    let key = signing_key(&a3_private_jwk()).unwrap();
    let fresh = key.sign(A3_INPUT.as_bytes()).unwrap();
    assert_eq!(fresh.len(), 64, "JWS ES256 signatures are raw r‖s, not DER");
    assert!(public.verify(A3_INPUT.as_bytes(), &fresh));
}

#[test]
fn the_rfc_tokens_pass_our_decoder_and_key_selection() {
    for (input, signature, jwk) in
        [(A2_INPUT, A2_SIGNATURE, a2_private_jwk()), (A3_INPUT, A3_SIGNATURE, a3_private_jwk())]
    {
        let token = format!("{input}.{signature}");
        let decoded = jwt::decode(&token).unwrap();
        assert_eq!(decoded.payload["iss"], "joe");
        let key = PublicKey { kid: jwk["kid"].as_str().unwrap().into(), material: public_of(&jwk) };
        let alg = key.alg();
        KeySet::from_public_keys([&key]).verify_signature(&decoded, alg).unwrap();
    }
}

#[test]
fn thumbprint_matches_rfc7638_example() {
    // RFC 7638 §3.1: the thumbprint of the RFC 7515 A.1-style RSA key below.
    let jwk = json!({
        "kty": "RSA", "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    });
    let material = public_of(&jwk);
    assert_eq!(material.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}
