//! JSON → BSATN: the inverse of the decoder's mapping, plus the friendlier input forms the mapping
//! allows (arrays for products, bare names for unit variants, numbers for safe wide integers,
//! arrays of numbers for byte strings).

use serde_json::{Map, Value};
use spacetimedb_sats::{i256, u256};

use super::encode_error::{EncodeError, PathSegment, Problem};
use super::js_typed::JsValue;
use super::scalars::hex_text::{parse_hex_bytes, parse_le_number_hex, parse_uuid};
use super::scalars::numbers::{
    f32_from_json, float_from_json, is_decimal_integer, small_int_from_json, wide_int_from_json,
};
use super::scalars::timestamp::parse_timestamp;
use super::types::{ProductNode, SumNode, TypeGraph, TypeNode, ValueType, MAX_DEPTH};

/// Appends the BSATN of `value` read as type `ty`.
pub(crate) fn json_to_bsatn(
    graph: &TypeGraph,
    ty: ValueType,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    Encoder { graph, out }.value(ty, value, 0)
}

struct Encoder<'a> {
    graph: &'a TypeGraph,
    out: &'a mut Vec<u8>,
}

impl Encoder<'_> {
    fn value(&mut self, ty: ValueType, value: &Value, depth: usize) -> Result<(), EncodeError> {
        if depth > MAX_DEPTH {
            return Err(EncodeError::new(ty, Problem::TooDeep));
        }
        let fail = |problem| EncodeError::new(ty, problem);
        // A JS value JSON cannot carry (lib/values.js): its plain form if the type takes it. Options
        // first take it as `some`.
        if let Some(js) = JsValue::of(value) {
            let node = self.graph.node(ty);
            if !matches!(node, TypeNode::Option(_)) {
                let plain = js.plain_for(node).map_err(fail)?;
                return self.value(ty, &plain, depth);
            }
        }
        let out = &mut *self.out;
        match self.graph.node(ty) {
            TypeNode::Bool => match value {
                Value::Bool(b) => out.push(u8::from(*b)),
                _ => return Err(fail(Problem::expected("a boolean", value))),
            },
            TypeNode::U8 => put_small_int(out, value, 0, u8::MAX.into(), 1).map_err(fail)?,
            TypeNode::U16 => put_small_int(out, value, 0, u16::MAX.into(), 2).map_err(fail)?,
            TypeNode::U32 => put_small_int(out, value, 0, u32::MAX.into(), 4).map_err(fail)?,
            TypeNode::I8 => put_small_int(out, value, i8::MIN.into(), i8::MAX.into(), 1).map_err(fail)?,
            TypeNode::I16 => put_small_int(out, value, i16::MIN.into(), i16::MAX.into(), 2).map_err(fail)?,
            TypeNode::I32 => put_small_int(out, value, i32::MIN.into(), i32::MAX.into(), 4).map_err(fail)?,
            TypeNode::U64 => out.extend(wide_int_from_json::<u64>(value).map_err(fail)?.to_le_bytes()),
            TypeNode::I64 | TypeNode::TimeDuration => {
                out.extend(wide_int_from_json::<i64>(value).map_err(fail)?.to_le_bytes())
            }
            TypeNode::U128 => out.extend(wide_int_from_json::<u128>(value).map_err(fail)?.to_le_bytes()),
            TypeNode::I128 => out.extend(wide_int_from_json::<i128>(value).map_err(fail)?.to_le_bytes()),
            TypeNode::U256 => out.extend(wide_int_from_json::<u256>(value).map_err(fail)?.to_le_bytes()),
            TypeNode::I256 => out.extend(wide_int_from_json::<i256>(value).map_err(fail)?.to_le_bytes()),
            TypeNode::F32 => out.extend(f32_from_json(value).map_err(fail)?.to_le_bytes()),
            TypeNode::F64 => out.extend(float_from_json(value).map_err(fail)?.to_le_bytes()),
            TypeNode::String => match value {
                Value::String(s) => put_length_prefixed(out, s.as_bytes()).map_err(fail)?,
                _ => return Err(fail(Problem::expected("a string", value))),
            },
            TypeNode::Bytes => self.bytes(ty, value)?,
            TypeNode::Identity => {
                out.extend(text_of(value, "a hex identity string", parse_le_number_hex::<32>).map_err(fail)?)
            }
            TypeNode::ConnectionId => {
                out.extend(text_of(value, "a hex connection id string", parse_le_number_hex::<16>).map_err(fail)?)
            }
            TypeNode::Uuid => out.extend(text_of(value, "a UUID string", parse_uuid).map_err(fail)?),
            TypeNode::Timestamp => out.extend(timestamp_from_json(value).map_err(fail)?.to_le_bytes()),
            TypeNode::Array(elem) => self.array(ty, *elem, value, depth)?,
            TypeNode::Option(inner) => self.option(ty, *inner, value, depth)?,
            TypeNode::Product(product) => self.product(ty, product, value, depth)?,
            TypeNode::Sum(sum) => self.sum(ty, sum, value, depth)?,
        }
        Ok(())
    }

    /// `Vec<u8>`: a hex string, or an array of numbers 0–255.
    fn bytes(&mut self, ty: ValueType, value: &Value) -> Result<(), EncodeError> {
        let fail = |problem| EncodeError::new(ty, problem);
        match value {
            Value::String(text) => {
                let bytes = parse_hex_bytes(text).map_err(|m| fail(Problem::Message(m)))?;
                put_length_prefixed(self.out, &bytes).map_err(fail)
            }
            Value::Array(items) => {
                put_length(self.out, items.len()).map_err(fail)?;
                for (index, item) in items.iter().enumerate() {
                    let byte =
                        small_int_from_json(item, 0, 255).map_err(|p| fail(p).within(PathSegment::Index(index)))?;
                    self.out.push(byte as u8);
                }
                Ok(())
            }
            _ => Err(fail(Problem::expected("a hex string or an array of bytes", value))),
        }
    }

    fn array(&mut self, ty: ValueType, elem: ValueType, value: &Value, depth: usize) -> Result<(), EncodeError> {
        let Value::Array(items) = value else {
            return Err(EncodeError::new(ty, Problem::expected("an array", value)));
        };
        put_length(self.out, items.len()).map_err(|p| EncodeError::new(ty, p))?;
        for (index, item) in items.iter().enumerate() {
            self.value(elem, item, depth + 1).map_err(|e| e.within(PathSegment::Index(index)))?;
        }
        Ok(())
    }

    /// `null` is `none`; anything else is `some`. For `Option<Option<T>>` the outer `some` must be
    /// spelled `{"some": x}`, or `some(none)` could not be told from `none`.
    fn option(&mut self, ty: ValueType, inner: ValueType, value: &Value, depth: usize) -> Result<(), EncodeError> {
        const SOME: u8 = 0;
        const NONE: u8 = 1;
        if value.is_null() {
            self.out.push(NONE);
            return Ok(());
        }
        if !matches!(self.graph.node(inner), TypeNode::Option(_)) {
            self.out.push(SOME);
            return self.value(inner, value, depth + 1);
        }
        match value {
            Value::Object(map) if map.len() == 1 && map.contains_key("some") => {
                self.out.push(SOME);
                self.value(inner, &map["some"], depth + 1).map_err(|e| e.within(PathSegment::Key("some".into())))
            }
            _ => Err(EncodeError::new(ty, Problem::expected("null or {\"some\": <value>}", value))),
        }
    }

    /// An object with exactly the product's keys, or an array of its fields in order.
    fn product(
        &mut self,
        ty: ValueType,
        product: &ProductNode,
        value: &Value,
        depth: usize,
    ) -> Result<(), EncodeError> {
        let fail = |problem| EncodeError::new(ty, problem);
        match value {
            Value::Object(map) => {
                // Unknown keys first: a misspelt key is a clearer message than the field it misses.
                if let Some(unknown) = map.keys().find(|key| !product.fields.iter().any(|f| *f.key == ***key)) {
                    return Err(fail(Problem::UnknownField(unknown.clone())));
                }
                for field in product.fields.iter() {
                    let Some(item) = map.get(&*field.key) else {
                        return Err(fail(Problem::MissingField(field.key.clone())));
                    };
                    self.value(field.ty, item, depth + 1).map_err(|e| e.within(PathSegment::Key(field.key.clone())))?;
                }
                Ok(())
            }
            Value::Array(items) => {
                if items.len() != product.fields.len() {
                    return Err(fail(Problem::WrongLength { expected: product.fields.len(), got: items.len() }));
                }
                for (field, item) in product.fields.iter().zip(items) {
                    self.value(field.ty, item, depth + 1).map_err(|e| e.within(PathSegment::Key(field.key.clone())))?;
                }
                Ok(())
            }
            _ => Err(fail(Problem::expected("an object or an array", value))),
        }
    }

    /// `{"tag": name, "value": payload}` (`value` optional for unit variants), or a bare name for a
    /// unit variant.
    fn sum(&mut self, ty: ValueType, sum: &SumNode, value: &Value, depth: usize) -> Result<(), EncodeError> {
        let fail = |problem| EncodeError::new(ty, problem);
        let (name, payload) = match value {
            Value::String(name) => (name.as_str(), None),
            Value::Object(map) => tagged_parts(map).map_err(fail)?,
            _ if sum.all_unit => return Err(fail(Problem::expected("a variant name", value))),
            _ => return Err(fail(Problem::expected("{\"tag\": <variant>, \"value\": <payload>}", value))),
        };
        let Some(tag) = sum.variants.iter().position(|v| *v.name == *name) else {
            let names: Vec<&str> = sum.variants.iter().map(|v| &*v.name).collect();
            return Err(fail(Problem::Message(format!("unknown variant '{name}' (variants: {})", names.join(", ")))));
        };
        let variant = &sum.variants[tag];
        // `tag` < 256: compilation rejects sums with more variants.
        self.out.push(tag as u8);
        match payload {
            None | Some(Value::Null) if variant.is_unit => Ok(()),
            None => Err(fail(Problem::Message(format!(
                "variant '{name}' needs a value: {{\"tag\": \"{name}\", \"value\": ...}}"
            )))),
            Some(payload) => {
                self.value(variant.ty, payload, depth + 1).map_err(|e| e.within(PathSegment::Key("value".into())))
            }
        }
    }
}

/// The variant name and payload of `{"tag": ..., "value": ...}`.
fn tagged_parts(map: &Map<String, Value>) -> Result<(&str, Option<&Value>), Problem> {
    if let Some(key) = map.keys().find(|k| *k != "tag" && *k != "value") {
        return Err(Problem::Message(format!("unknown key '{key}' (an enum value has the keys tag and value)")));
    }
    match map.get("tag") {
        Some(Value::String(name)) => Ok((name, map.get("value"))),
        Some(other) => Err(Problem::expected("a variant name as \"tag\"", other)),
        None => Err(Problem::Message(
            "missing key 'tag' (an enum value is {\"tag\": <variant>, \"value\": <payload>})".into(),
        )),
    }
}

/// Parses a JSON string with `parse`; other JSON kinds fail as `expected <what>`.
fn text_of<T>(value: &Value, what: &'static str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, Problem> {
    match value {
        Value::String(text) => parse(text).map_err(Problem::Message),
        _ => Err(Problem::expected(what, value)),
    }
}

/// A timestamp: RFC 3339 text, or microseconds since the Unix epoch (decimal string or number).
fn timestamp_from_json(value: &Value) -> Result<i64, Problem> {
    match value {
        Value::String(text) if !is_decimal_integer(text) => parse_timestamp(text).map_err(Problem::Message),
        Value::String(_) | Value::Number(_) => wide_int_from_json(value),
        _ => Err(Problem::expected("an RFC 3339 timestamp string or microseconds since the Unix epoch", value)),
    }
}

/// Appends an integer of `width` bytes (up to 32 bits) given as a JSON number in `min..=max`.
///
/// In range, the low `width` bytes of the `i64`'s little-endian two's complement are exactly the
/// BSATN of the narrower type, signed or unsigned.
fn put_small_int(out: &mut Vec<u8>, value: &Value, min: i64, max: i64, width: usize) -> Result<(), Problem> {
    let int = small_int_from_json(value, min, max)?;
    out.extend_from_slice(&int.to_le_bytes()[..width]);
    Ok(())
}

/// Appends a BSATN `u32` length prefix.
fn put_length(out: &mut Vec<u8>, len: usize) -> Result<(), Problem> {
    let len = u32::try_from(len)
        .map_err(|_| Problem::Message(format!("{len} elements exceed the BSATN limit of 2^32 - 1")))?;
    out.extend(len.to_le_bytes());
    Ok(())
}

/// Appends a length prefix and the bytes (strings and byte arrays).
fn put_length_prefixed(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), Problem> {
    put_length(out, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}
