//! Reducer arguments as SpacetimeDB's own JSON (SATS-JSON), for the HTTP call route.
//!
//! `POST /v1/database/:db/call/:reducer` takes SATS-JSON, which is not the gateway's value mapping
//! (docs/value-mapping.md): u64/u128 are JSON numbers, u256 a `0x` hex string, an Identity
//! `{"__identity__": "0x…"}`, an enum `{"Variant": payload}`, an Option `{"some": x}` / `{"none": {}}`.
//! Rather than a second JSON mapping, the arguments go through BSATN: the gateway's encoder (with all its
//! checks) produces the bytes, SpacetimeDB's `sats` crate decodes them with the reducer's parameter types
//! and serializes them with its serde support — the server's own format, by construction.

use std::collections::HashMap;

use spacetimedb_sats::de::DeserializeSeed;
use spacetimedb_sats::serde::SerdeWrapper;
use spacetimedb_sats::{bsatn, ProductType, Typespace, ValueWithType, WithTypespace};

use crate::codec::module_def::ModuleDef;
use crate::error::{ErrorCode, GatewayError, Result};

/// The reducers' parameter types, as SpacetimeDB declares them.
pub struct SatsArgs {
    typespace: Typespace,
    params: HashMap<String, ProductType>,
}

impl SatsArgs {
    /// Reads the schema JSON (`GET /v1/database/:db/schema?version=10` or `?version=9`).
    pub fn from_schema_json(text: &str) -> Result<SatsArgs> {
        let raw =
            ModuleDef::from_json(text).map_err(|e| GatewayError::protocol(format!("malformed module schema: {e}")))?;
        let params = raw.reducers.into_iter().map(|r| (r.name, r.params)).collect();
        Ok(SatsArgs { typespace: Typespace::new(raw.types), params })
    }

    /// The SATS-JSON object (keyed by parameter name) of a call's BSATN-encoded arguments.
    pub fn to_json(&self, reducer: &str, bsatn_args: &[u8]) -> Result<Vec<u8>> {
        let params = self
            .params
            .get(reducer)
            .ok_or_else(|| GatewayError::invalid_argument(format!("no reducer named '{reducer}' in this module")))?;
        let typed = WithTypespace::new(&self.typespace, params);
        let internal = |what: String| GatewayError::new(ErrorCode::Internal, format!("{reducer}: {what}"));
        let mut reader = bsatn_args;
        let value = typed
            .deserialize(bsatn::Deserializer::new(&mut reader))
            .map_err(|e| internal(format!("the encoded arguments do not decode as the parameters: {e}")))?;
        if !reader.is_empty() {
            return Err(internal(format!("{} bytes left after the arguments", reader.len())));
        }
        serde_json::to_vec(SerdeWrapper::from_ref(&ValueWithType::new(typed, &value)))
            .map_err(|e| internal(format!("the arguments do not serialize as SATS-JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::codec::tests::{reference_schema, REFERENCE_SCHEMA_JSON};

    fn sats_text(reducer: &str, args: Value) -> String {
        let bsatn = reference_schema().reducer(reducer).unwrap().encode_args(&args).unwrap();
        let text = SatsArgs::from_schema_json(REFERENCE_SCHEMA_JSON).unwrap().to_json(reducer, &bsatn).unwrap();
        String::from_utf8(text).unwrap()
    }

    /// Parsed (wide numbers lose digits here: check those in the text).
    fn sats_json(reducer: &str, args: Value) -> Value {
        serde_json::from_str(&sats_text(reducer, args)).unwrap()
    }

    #[test]
    fn writes_spacetimedb_forms_for_wide_numbers_identities_enums_options_and_bytes() {
        let identity = format!("c200{}", "ab".repeat(30));
        let args = json!([
            7,
            "18446744073709551615",
            "-1267650600228229401496703205376",
            identity,
            "2024-02-29T12:34:56.789012Z",
            "some",
            "00ff7f",
            "Green",
            {"tag": "Rect", "value": {"width": 2, "height": 3.5}}
        ]);
        let text = sats_text("set_scalars", args);
        // serde_json keeps every digit of u64 and i128 numbers (the server reads them the same way).
        assert!(text.contains(r#""a_u64":18446744073709551615"#), "{text}");
        assert!(text.contains(r#""a_i128":-1267650600228229401496703205376"#), "{text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["id"], json!(7));
        assert_eq!(value["a_identity"], json!({ "__identity__": format!("0x{identity}") }));
        assert_eq!(value["a_timestamp"], json!({ "__timestamp_micros_since_unix_epoch__": 1_709_210_096_789_012_i64 }));
        assert_eq!(value["maybe_string"], json!({ "some": "some" }));
        assert_eq!(value["bytes"], json!("00ff7f"));
        // A unit payload is the empty named product, `{}` (the server also reads `[]`).
        assert_eq!(value["color"], json!({ "Green": {} }));
        assert_eq!(value["shape"], json!({ "Rect": { "width": 2.0, "height": 3.5 } }));
    }

    #[test]
    fn writes_none_and_reducers_without_parameters() {
        let value = sats_json(
            "set_scalars",
            json!([
                1,
                "0",
                "0",
                "c200".to_string() + &"00".repeat(30),
                "1970-01-01T00:00:00Z",
                null,
                [],
                "Red",
                "Empty"
            ]),
        );
        assert_eq!(value["maybe_string"], json!({ "none": {} }));
        assert_eq!(value["shape"], json!({ "Empty": {} }));
        assert_eq!(value["bytes"], json!(""));
        assert_eq!(sats_json("create_tenant", json!(["t1", "Tenant"])), json!({ "id": "t1", "name": "Tenant" }));
    }

    #[test]
    fn refuses_bytes_that_are_not_the_parameters() {
        let args = SatsArgs::from_schema_json(REFERENCE_SCHEMA_JSON).unwrap();
        assert_eq!(args.to_json("create_tenant", &[1, 0]).unwrap_err().code, ErrorCode::Internal);
        let mut long = reference_schema().reducer("delete_document").unwrap().encode_args(&json!(["5"])).unwrap();
        long.push(0);
        assert!(args.to_json("delete_document", &long).unwrap_err().message.contains("1 bytes left"));
        assert_eq!(args.to_json("nope", &[]).unwrap_err().code, ErrorCode::InvalidArgument);
    }
}
