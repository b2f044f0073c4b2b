//! The actor convention of the service topology (docs/actors.md).
//!
//! A reducer that may act for someone else declares `actor: String` as its **first** parameter. The
//! gateway fills it from `callReducer(name, args, { actor })`, where the app passes the stable actor id
//! of its *verified* session (the token `sub`: `user_123`, `robot:ci`). The module accepts the argument
//! only when `ctx.sender` is a trusted gateway; this file only makes sure the value lands in the right
//! parameter and that a caller cannot pass the actor twice (once in `args`, once in `opts.actor`).

use serde_json::Value;

use crate::codec::json_io::encode_call_args;
use crate::codec::schema::{ReducerDef, Schema};
use crate::error::{GatewayError, Result};

/// The name of the parameter that carries the effective actor.
pub const ACTOR_PARAM: &str = "actor";

/// What every actor error ends with: where the value must come from.
const DERIVE_HINT: &str = "derive the actor from the verified session (the token's `sub`), never from browser input";

/// Whether `reducer` follows the convention: its first parameter is `actor: String`.
pub fn takes_actor(reducer: &ReducerDef) -> bool {
    reducer.params.first().is_some_and(|p| p.name == ACTOR_PARAM && p.type_name == "String")
}

/// The BSATN of a call's arguments (`args_json`: an array or an object keyed by parameter name), with
/// `actor` put into the reducer's `actor` parameter when given.
pub fn encode_call(schema: &Schema, reducer: &str, args_json: &str, actor: Option<&str>) -> Result<Vec<u8>> {
    let Some(actor) = actor else { return encode_call_args(schema, reducer, args_json) };
    // An unknown reducer or a lifecycle one: let the plain encoder say so, with the list of reducers.
    let Some(def) = schema.reducer(reducer).filter(|r| !r.lifecycle) else {
        return encode_call_args(schema, reducer, args_json);
    };
    let args: Value = serde_json::from_str(args_json)
        .map_err(|e| GatewayError::invalid_argument(format!("the arguments of '{reducer}' are not valid JSON: {e}")))?;
    let args = with_actor(def, args, actor)?;
    def.encode_args(&args)
}

/// `args` with `actor` inserted as the reducer's `actor` argument.
pub fn with_actor(reducer: &ReducerDef, args: Value, actor: &str) -> Result<Value> {
    let name = &reducer.name;
    if actor.is_empty() {
        return Err(GatewayError::invalid_argument(format!("{name}: opts.actor is empty; {DERIVE_HINT}")));
    }
    if !takes_actor(reducer) {
        return Err(GatewayError::invalid_argument(format!(
            "{name}: opts.actor was given, but the reducer does not take an actor (its first parameter must be \
             `{ACTOR_PARAM}: String`); call it without opts.actor, or add the parameter and check the caller is a \
             trusted gateway in the module"
        )));
    }
    let twice = || {
        GatewayError::invalid_argument(format!(
            "{name}: the actor was passed both in args and in opts.actor; pass it only as opts.actor and {DERIVE_HINT}"
        ))
    };
    match args {
        Value::Array(mut list) => {
            let without_actor = reducer.params.len() - 1;
            if list.len() > without_actor {
                return Err(twice());
            }
            list.insert(0, Value::String(actor.to_string()));
            Ok(Value::Array(list))
        }
        Value::Object(mut map) => {
            if map.contains_key(ACTOR_PARAM) {
                return Err(twice());
            }
            map.insert(ACTOR_PARAM.to_string(), Value::String(actor.to_string()));
            Ok(Value::Object(map))
        }
        Value::Null if reducer.params.len() == 1 => Ok(Value::Array(vec![Value::String(actor.to_string())])),
        _ => Err(GatewayError::invalid_argument(format!(
            "{name}: args must be an array or an object keyed by parameter name"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    /// A schema with `create_document_as(actor, tenant_id, title, body)` and `create_document` (no actor),
    /// plus reducers whose first parameter is named `actor` but is not a String, or is not first.
    fn schema() -> Schema {
        let string = serde_json::json!({"String": []});
        let param =
            |name: &str, ty: &serde_json::Value| serde_json::json!({"name": {"some": name}, "algebraic_type": ty});
        let reducer = |name: &str, params: Vec<serde_json::Value>| serde_json::json!({"name": name, "params": {"elements": params}, "lifecycle": {"none": []}});
        let json = serde_json::json!({
            "typespace": {"types": []},
            "tables": [],
            "reducers": [
                reducer("create_document_as", vec![param("actor", &string), param("tenant_id", &string), param("title", &string), param("body", &string)]),
                reducer("create_document", vec![param("tenant_id", &string), param("title", &string), param("body", &string)]),
                reducer("numbered", vec![param("actor", &serde_json::json!({"U64": []}))]),
                reducer("late", vec![param("tenant_id", &string), param("actor", &string)]),
                reducer("only_actor", vec![param("actor", &string)]),
            ],
            "types": [],
            "misc_exports": [],
            "row_level_security": []
        });
        Schema::from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn fills_the_actor_parameter_of_positional_and_named_args() {
        let schema = schema();
        let expected = encode_call_args(&schema, "create_document_as", r#"["user_1","t","T","B"]"#).unwrap();
        assert_eq!(encode_call(&schema, "create_document_as", r#"["t","T","B"]"#, Some("user_1")).unwrap(), expected);
        let named = r#"{"tenant_id":"t","title":"T","body":"B"}"#;
        assert_eq!(encode_call(&schema, "create_document_as", named, Some("user_1")).unwrap(), expected);
        let only = encode_call_args(&schema, "only_actor", r#"["robot:ci"]"#).unwrap();
        assert_eq!(encode_call(&schema, "only_actor", "null", Some("robot:ci")).unwrap(), only);
        assert_eq!(encode_call(&schema, "only_actor", "[]", Some("robot:ci")).unwrap(), only);
    }

    #[test]
    fn without_opts_actor_args_are_taken_as_given() {
        let schema = schema();
        let direct = encode_call(&schema, "create_document_as", r#"["user_1","t","T","B"]"#, None).unwrap();
        assert_eq!(direct, encode_call_args(&schema, "create_document_as", r#"["user_1","t","T","B"]"#).unwrap());
    }

    #[test]
    fn refuses_an_actor_given_twice_or_where_none_is_taken() {
        let schema = schema();
        for (reducer, args, actor, says) in [
            ("create_document_as", r#"["user_1","t","T","B"]"#, "user_1", "both in args and in opts.actor"),
            ("create_document_as", r#"{"actor":"x","tenant_id":"t","title":"T","body":"B"}"#, "user_1", "both in args"),
            ("create_document_as", r#"["t","T","B"]"#, "", "opts.actor is empty"),
            ("create_document", r#"["t","T","B"]"#, "user_1", "does not take an actor"),
            ("numbered", "[]", "user_1", "does not take an actor"),
            ("late", r#"["t"]"#, "user_1", "does not take an actor"),
            ("create_document_as", "5", "user_1", "must be an array or an object"),
        ] {
            let e = encode_call(&schema, reducer, args, Some(actor)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{reducer} {args}");
            assert!(e.message.contains(says), "{reducer} {args}: {}", e.message);
            if !says.contains("array") {
                assert!(e.message.contains("never from browser input") || e.message.contains("trusted gateway"));
            }
        }
    }

    #[test]
    fn unknown_reducers_and_short_args_get_the_encoder_messages() {
        let schema = schema();
        let e = encode_call(&schema, "nope", "[]", Some("user_1")).unwrap_err();
        assert!(e.message.contains("no callable reducer named 'nope'"), "{}", e.message);
        let e = encode_call(&schema, "create_document_as", r#"["t","T"]"#, Some("user_1")).unwrap_err();
        assert!(e.message.contains("expected 4 arguments"), "{}", e.message);
    }
}
