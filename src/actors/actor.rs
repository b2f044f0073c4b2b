//! The actor convention of the service topology (docs/actors.md).
//!
//! A reducer that may act for someone else declares a parameter named `actor` **first**. The gateway
//! fills it from `callReducer(name, args, { actor })`, where the app passes what its *verified* session
//! or token says: the stable actor id (the token `sub`: `user_123`, `robot:ci`) for an `actor: String`
//! parameter, or an object for a structured one (e.g. `{ sub, act }` from a delegated or impersonation
//! token, for a module parameter `actor: Option<ActorClaim>`). The module accepts the argument only when
//! `ctx.sender` is a trusted gateway; this file only makes sure the value lands in the right parameter
//! and that a caller cannot pass the actor twice (once in `args`, once in `opts.actor`).

use serde_json::Value;

use crate::codec::json_io::encode_call_args;
use crate::codec::schema::{ReducerDef, Schema};
use crate::error::{GatewayError, Result};

/// The name of the parameter that carries the effective actor.
pub const ACTOR_PARAM: &str = "actor";

/// What every actor error ends with: where the value must come from.
const DERIVE_HINT: &str = "derive the actor from the verified session (the token's `sub`), never from browser input";

/// Whether `reducer` takes an actor of `actor`'s shape first: `actor: String` for a string, a parameter
/// `actor` of any structured type (a product, or an `Option` of one) for an object.
pub fn takes_actor(reducer: &ReducerDef, actor: &Value) -> bool {
    reducer.params.first().is_some_and(|p| {
        p.name == ACTOR_PARAM
            && match actor {
                Value::String(_) => p.type_name == "String",
                _ => !is_scalar_type(&p.type_name),
            }
    })
}

/// Types whose values are never objects: an object actor cannot fill them.
fn is_scalar_type(name: &str) -> bool {
    matches!(
        name,
        "String"
            | "bool"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "u256"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "i256"
            | "f32"
            | "f64"
            | "Identity"
            | "ConnectionId"
            | "Timestamp"
            | "TimeDuration"
    ) || name.starts_with("Vec<")
}

/// The BSATN of a call's arguments (`args_json`: an array or an object keyed by parameter name), with
/// `actor` (a string or an object) put into the reducer's `actor` parameter when given.
pub fn encode_call(schema: &Schema, reducer: &str, args_json: &str, actor: Option<&Value>) -> Result<Vec<u8>> {
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
pub fn with_actor(reducer: &ReducerDef, args: Value, actor: &Value) -> Result<Value> {
    let name = &reducer.name;
    match actor {
        Value::String(s) if s.is_empty() => {
            return Err(GatewayError::invalid_argument(format!("{name}: opts.actor is empty; {DERIVE_HINT}")))
        }
        Value::String(_) | Value::Object(_) => {}
        _ => {
            return Err(GatewayError::invalid_argument(format!(
                "{name}: opts.actor must be a string or an object; {DERIVE_HINT}"
            )))
        }
    }
    if !takes_actor(reducer, actor) {
        let expected = if actor.is_string() { "`actor: String`" } else { "`actor` of a structured type" };
        return Err(GatewayError::invalid_argument(format!(
            "{name}: opts.actor was given, but the reducer does not take an actor (its first parameter must be \
             {expected}); call it without opts.actor, or add the parameter and check the caller is a trusted \
             gateway in the module"
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
            list.insert(0, actor.clone());
            Ok(Value::Array(list))
        }
        Value::Object(mut map) => {
            if map.contains_key(ACTOR_PARAM) {
                return Err(twice());
            }
            map.insert(ACTOR_PARAM.to_string(), actor.clone());
            Ok(Value::Object(map))
        }
        Value::Null if reducer.params.len() == 1 => Ok(Value::Array(vec![actor.clone()])),
        _ => Err(GatewayError::invalid_argument(format!(
            "{name}: args must be an array or an object keyed by parameter name"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    /// A schema with `create_document_as(actor, tenant_id, title, body)` and `create_document` (no actor),
    /// plus reducers whose first parameter is named `actor` but is not a String, or is not first.
    fn schema() -> Schema {
        let string = serde_json::json!({"String": []});
        let option = |ty: serde_json::Value| {
            serde_json::json!({"Sum": {"variants": [
                {"name": {"some": "some"}, "algebraic_type": ty},
                {"name": {"some": "none"}, "algebraic_type": {"Product": {"elements": []}}}
            ]}})
        };
        let claim = serde_json::json!({"Product": {"elements": [
            {"name": {"some": "sub"}, "algebraic_type": string},
            {"name": {"some": "act"}, "algebraic_type": option(string.clone())}
        ]}});
        let param =
            |name: &str, ty: &serde_json::Value| serde_json::json!({"name": {"some": name}, "algebraic_type": ty});
        let reducer = |name: &str, params: Vec<serde_json::Value>| serde_json::json!({"name": name, "params": {"elements": params}, "lifecycle": {"none": []}});
        let json = serde_json::json!({
            "typespace": {"types": [claim]},
            "tables": [],
            "reducers": [
                reducer("create_document_as", vec![param("actor", &string), param("tenant_id", &string), param("title", &string), param("body", &string)]),
                reducer("create_document", vec![param("tenant_id", &string), param("title", &string), param("body", &string)]),
                reducer("numbered", vec![param("actor", &serde_json::json!({"U64": []}))]),
                reducer("late", vec![param("tenant_id", &string), param("actor", &string)]),
                reducer("only_actor", vec![param("actor", &string)]),
                reducer("claimed", vec![param("actor", &option(serde_json::json!({"Ref": 0}))), param("title", &string)]),
            ],
            "types": [{"name": {"scope": [], "name": "ActorClaim"}, "ty": 0, "custom_ordering": true}],
            "misc_exports": [],
            "row_level_security": []
        });
        Schema::from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn fills_the_actor_parameter_of_positional_and_named_args() {
        let schema = schema();
        let expected = encode_call_args(&schema, "create_document_as", r#"["user_1","t","T","B"]"#).unwrap();
        assert_eq!(
            encode_call(&schema, "create_document_as", r#"["t","T","B"]"#, Some(&json!("user_1"))).unwrap(),
            expected
        );
        let named = r#"{"tenant_id":"t","title":"T","body":"B"}"#;
        assert_eq!(encode_call(&schema, "create_document_as", named, Some(&json!("user_1"))).unwrap(), expected);
        let only = encode_call_args(&schema, "only_actor", r#"["robot:ci"]"#).unwrap();
        assert_eq!(encode_call(&schema, "only_actor", "null", Some(&json!("robot:ci"))).unwrap(), only);
        assert_eq!(encode_call(&schema, "only_actor", "[]", Some(&json!("robot:ci"))).unwrap(), only);
    }

    #[test]
    fn an_object_actor_fills_a_structured_actor_parameter() {
        let schema = schema();
        let claim = json!({"sub": "user_1", "act": "robot:k1"});
        let expected = encode_call_args(&schema, "claimed", r#"[{"sub":"user_1","act":"robot:k1"},"T"]"#).unwrap();
        assert_eq!(encode_call(&schema, "claimed", r#"["T"]"#, Some(&claim)).unwrap(), expected);
        assert_eq!(encode_call(&schema, "claimed", r#"{"title":"T"}"#, Some(&claim)).unwrap(), expected);
        // A string actor does not fit a structured parameter, nor an object a String one.
        let e = encode_call(&schema, "claimed", r#"["T"]"#, Some(&json!("user_1"))).unwrap_err();
        assert!(e.message.contains("`actor: String`"), "{}", e.message);
        let e = encode_call(&schema, "create_document_as", r#"["t","T","B"]"#, Some(&claim)).unwrap_err();
        assert!(e.message.contains("structured type"), "{}", e.message);
        // The object is checked like any argument of that type.
        let e = encode_call(&schema, "claimed", r#"["T"]"#, Some(&json!({"sub": "u"}))).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("act"), "{}", e.message);
        for bad in [json!(42), json!(null), json!(["user_1"])] {
            let e = encode_call(&schema, "claimed", r#"["T"]"#, Some(&bad)).unwrap_err();
            assert!(e.message.contains("a string or an object"), "{bad}: {}", e.message);
        }
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
            let e = encode_call(&schema, reducer, args, Some(&json!(actor))).unwrap_err();
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
        let e = encode_call(&schema, "nope", "[]", Some(&json!("user_1"))).unwrap_err();
        assert!(e.message.contains("no callable reducer named 'nope'"), "{}", e.message);
        let e = encode_call(&schema, "create_document_as", r#"["t","T"]"#, Some(&json!("user_1"))).unwrap_err();
        assert!(e.message.contains("expected 4 arguments"), "{}", e.message);
    }
}
