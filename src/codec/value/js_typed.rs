//! JS values that JSON cannot carry, as the JS layer marks them (`lib/values.js`).
//!
//! `JSON.stringify` has no form for a `bigint`, a `Uint8Array`, NaN, the infinities or `-0`, and it
//! turns a `Date` into a string. Converting them to strings in JS (as the first versions did) loses
//! what they were: a `bigint` passed for a `String` column was stored as `"10"`, a `NaN` tenant id
//! served the tenant named `"NaN"`. So the JS layer wraps each in a one-key object whose key starts
//! with a NUL character (no column, field or option is named so), and the encoder decides with the
//! column's or parameter's type whether the value fits: a non-finite number only for floats, a
//! `bigint` only for integers, timestamps and durations, bytes only for `Vec<u8>`, a `Date` only for
//! timestamps. Anything else is `INVALID_ARGUMENT` naming what was passed.

use serde_json::{Number, Value};

use super::encode_error::Problem;
use super::types::TypeNode;

/// A marked JS value (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum JsValue<'a> {
    /// A `bigint`, in decimal.
    BigInt(&'a str),
    /// A `Uint8Array` (or `Buffer`), in hex.
    Bytes(&'a str),
    /// NaN, ±Infinity or -0: numbers JSON cannot write.
    Float(f64),
    /// A `Date`, as its `toJSON()` text (`None` for an invalid date).
    Date(Option<&'a str>),
    /// A function or a symbol: only in options (`lib/values.js` `toOptionsJson`), where dropping the
    /// member as `JSON.stringify` does would let a wrong value pass as an absent one.
    NotAValue(&'static str),
}

impl<'a> JsValue<'a> {
    /// The marked value `value` stands for, if it is one.
    pub(crate) fn of(value: &'a Value) -> Option<JsValue<'a>> {
        let Value::Object(map) = value else { return None };
        if map.len() != 1 {
            return None;
        }
        let (key, inner) = map.iter().next()?;
        let kind = key.strip_prefix('\0')?;
        match (kind, inner) {
            ("bigint", Value::String(text)) => Some(JsValue::BigInt(text)),
            ("bytes", Value::String(hex)) => Some(JsValue::Bytes(hex)),
            ("float", Value::String(name)) => match name.as_str() {
                "NaN" => Some(JsValue::Float(f64::NAN)),
                "Infinity" => Some(JsValue::Float(f64::INFINITY)),
                "-Infinity" => Some(JsValue::Float(f64::NEG_INFINITY)),
                "-0" => Some(JsValue::Float(-0.0)),
                _ => None,
            },
            ("date", Value::String(text)) => Some(JsValue::Date(Some(text))),
            ("date", Value::Null) => Some(JsValue::Date(None)),
            ("function", Value::Null) => Some(JsValue::NotAValue("a function")),
            ("symbol", Value::Null) => Some(JsValue::NotAValue("a symbol")),
            _ => None,
        }
    }

    /// How an error message names it: `a bigint (10n)`, `NaN`, `-0`, `a Uint8Array of 3 bytes`.
    pub(crate) fn describe(&self) -> String {
        match self {
            JsValue::BigInt(text) => format!("a bigint ({}n)", cut(text)),
            JsValue::Bytes(hex) => match hex.len() / 2 {
                1 => "a Uint8Array of 1 byte".into(),
                n => format!("a Uint8Array of {n} bytes"),
            },
            JsValue::Float(f) if f.is_nan() => "NaN".into(),
            JsValue::Float(f) if f.is_infinite() => if *f > 0.0 { "Infinity" } else { "-Infinity" }.into(),
            JsValue::Float(_) => "-0".into(),
            JsValue::Date(Some(text)) => format!("a Date ({text})"),
            JsValue::Date(None) => "an invalid Date".into(),
            JsValue::NotAValue(what) => (*what).into(),
        }
    }

    /// The plain JSON form that a node of this kind reads for this value (the value mapping's own
    /// forms), or why the value does not fit the type.
    pub(crate) fn plain_for(&self, node: &TypeNode) -> Result<Value, Problem> {
        use TypeNode as T;
        let integer = matches!(
            node,
            T::U8 | T::U16 | T::U32 | T::I8 | T::I16 | T::I32 | T::U64 | T::I64 | T::U128 | T::I128 | T::U256 | T::I256
        );
        let small = matches!(node, T::U8 | T::U16 | T::U32 | T::I8 | T::I16 | T::I32);
        match *self {
            // Small integers are JSON numbers; a bigint beyond i64 is out of their range anyway.
            JsValue::BigInt(text) if small => text
                .parse::<i64>()
                .map(|n| Value::Number(n.into()))
                .map_err(|_| Problem::Message(format!("{text} is out of range"))),
            JsValue::BigInt(text) if integer || matches!(node, T::Timestamp | T::TimeDuration) => {
                Ok(Value::String(text.into()))
            }
            JsValue::Bytes(hex) if matches!(node, T::Bytes) => Ok(Value::String(hex.into())),
            JsValue::Float(f) if matches!(node, T::F32 | T::F64) => Ok(float_value(f)),
            // -0 is an integer in JS (`Number.isInteger(-0)`): 0 for integer types.
            JsValue::Float(f) if f == 0.0 && (integer || matches!(node, T::Timestamp | T::TimeDuration)) => {
                Ok(Value::Number(0.into()))
            }
            JsValue::Date(Some(text)) if matches!(node, T::Timestamp) => Ok(Value::String(text.into())),
            JsValue::Date(None) if matches!(node, T::Timestamp) => {
                Err(Problem::Message("an invalid Date (its time is NaN) is not a timestamp".into()))
            }
            other => Err(Problem::Message(format!("got {}; {}", other.describe(), other.accepted_for()))),
        }
    }

    /// Which types take this kind of value, for the error message.
    fn accepted_for(&self) -> &'static str {
        match self {
            JsValue::BigInt(_) => "a bigint is accepted only for integer, Timestamp and TimeDuration types",
            JsValue::Bytes(_) => "a Uint8Array is accepted only for byte arrays (Vec<u8>)",
            JsValue::Float(f) if *f == 0.0 => "-0 is accepted only for number types",
            JsValue::Float(_) => "NaN and the infinities are accepted only for f32 and f64",
            JsValue::Date(_) => "a Date is accepted only for Timestamp",
            JsValue::NotAValue(_) => "functions and symbols are not values",
        }
    }
}

/// A float as the JSON the float reader takes: a number (keeping the sign of -0), or the mapping's
/// names for NaN and the infinities.
fn float_value(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String("NaN".into()),
        None if f > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

/// A long decimal cut for a message.
fn cut(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn marked(kind: &str, inner: Value) -> Value {
        json!({ format!("\0{kind}"): inner })
    }

    #[test]
    fn recognises_only_well_formed_marks() {
        assert_eq!(JsValue::of(&marked("bigint", json!("10"))), Some(JsValue::BigInt("10")));
        assert_eq!(JsValue::of(&marked("bytes", json!("0aff"))), Some(JsValue::Bytes("0aff")));
        assert!(matches!(JsValue::of(&marked("float", json!("NaN"))), Some(JsValue::Float(f)) if f.is_nan()));
        assert!(
            matches!(JsValue::of(&marked("float", json!("-0"))), Some(JsValue::Float(f)) if f == 0.0 && f.is_sign_negative())
        );
        assert_eq!(JsValue::of(&marked("date", Value::Null)), Some(JsValue::Date(None)));
        for plain in [
            json!({"bigint": "10"}),
            json!({"\0bigint": 10}),
            json!({"\0float": "1.5"}),
            json!("NaN"),
            json!({"\0x": "1"}),
        ] {
            assert_eq!(JsValue::of(&plain), None, "{plain}");
        }
        assert_eq!(JsValue::of(&json!({"\0bigint": "1", "b": 2})), None);
    }

    #[test]
    fn fits_only_the_types_of_the_mapping() {
        let nan = JsValue::Float(f64::NAN);
        assert_eq!(nan.plain_for(&TypeNode::F64), Ok(json!("NaN")));
        let m = nan.plain_for(&TypeNode::String).unwrap_err();
        assert_eq!(m, Problem::Message("got NaN; NaN and the infinities are accepted only for f32 and f64".into()));
        let neg_zero = JsValue::Float(-0.0).plain_for(&TypeNode::F64).unwrap();
        assert!(neg_zero.as_f64().unwrap().is_sign_negative());
        assert_eq!(JsValue::Float(-0.0).plain_for(&TypeNode::U8), Ok(json!(0)));
        assert!(JsValue::Float(-0.0).plain_for(&TypeNode::String).is_err());
        assert_eq!(JsValue::BigInt("10").plain_for(&TypeNode::U8), Ok(json!(10)));
        assert_eq!(JsValue::BigInt("10").plain_for(&TypeNode::U128), Ok(json!("10")));
        assert!(JsValue::BigInt("10").plain_for(&TypeNode::String).is_err());
        assert!(JsValue::BigInt("10").plain_for(&TypeNode::F64).is_err());
        assert_eq!(JsValue::Bytes("0a").plain_for(&TypeNode::Bytes), Ok(json!("0a")));
        assert!(JsValue::Bytes("0a").plain_for(&TypeNode::String).is_err());
        assert!(JsValue::Date(Some("2024-01-01T00:00:00.000Z")).plain_for(&TypeNode::String).is_err());
        assert!(JsValue::Date(None).plain_for(&TypeNode::Timestamp).is_err());
    }
}
