//! The references the codec is tested against, built on SpacetimeDB's own crates rather than on
//! our codec:
//! - random `AlgebraicValue`s for any (non-recursive) schema type, which
//!   `spacetimedb_sats::bsatn::to_vec` turns into the reference bytes;
//! - the JSON each value must map to, computed from the value itself (identities through
//!   SpacetimeDB's own `Identity::to_hex`, timestamps through chrono), independently of the
//!   decoder's byte-level code.

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};
use spacetimedb_lib::{ConnectionId, Identity};
use spacetimedb_sats::{
    i256, u256, AlgebraicType, AlgebraicValue, ArrayValue, ProductType, ProductValue, SumType, SumValue, Typespace,
};

/// Longest generated array.
const MAX_ARRAY_LEN: usize = 4;

/// Timestamps are generated within chrono's range (±262,143 years; SpacetimeDB's i64 reaches
/// ±292,277), because chrono computes the expected text. The timestamp module's own tests cover
/// the extremes.
const TIMESTAMP_MICROS_LIMIT: i64 = 8_000_000_000_000_000_000;

/// Follows `Ref`s into the typespace.
pub(crate) fn resolve<'a>(typespace: &'a Typespace, ty: &'a AlgebraicType) -> &'a AlgebraicType {
    match ty {
        AlgebraicType::Ref(r) => resolve(typespace, &typespace.types[r.idx()]),
        other => other,
    }
}

/// The single field name of a special product (`__identity__` and friends), if `product` is one.
fn special_name(product: &ProductType) -> Option<&str> {
    match &*product.elements {
        [only] => only.name.as_deref().filter(|n| n.starts_with("__") && n.ends_with("__")),
        _ => None,
    }
}

fn is_option(sum: &SumType) -> bool {
    matches!(&*sum.variants, [some, none] if some.has_name("some") && none.has_name("none"))
}

fn is_unit(typespace: &Typespace, ty: &AlgebraicType) -> bool {
    matches!(resolve(typespace, ty), AlgebraicType::Product(p) if p.elements.is_empty())
}

/// Floats of every class: normal, subnormal, zeros, infinities and NaN (the canonical NaN only:
/// the mapping has one `"NaN"`, so other NaN payloads cannot round-trip bit for bit).
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => any::<f64>().prop_filter("NaN is generated separately", |f| !f.is_nan()),
        1 => Just(f64::NAN),
        1 => Just(-0.0),
    ]
}

fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => any::<f32>().prop_filter("NaN is generated separately", |f| !f.is_nan()),
        1 => Just(f32::NAN),
        1 => Just(-0.0f32),
    ]
}

/// Random values of `ty`.
pub(crate) fn arb_value(typespace: &Typespace, ty: &AlgebraicType) -> BoxedStrategy<AlgebraicValue> {
    match resolve(typespace, ty) {
        AlgebraicType::Bool => any::<bool>().prop_map_into().boxed(),
        AlgebraicType::U8 => any::<u8>().prop_map_into().boxed(),
        AlgebraicType::U16 => any::<u16>().prop_map_into().boxed(),
        AlgebraicType::U32 => any::<u32>().prop_map_into().boxed(),
        AlgebraicType::U64 => any::<u64>().prop_map_into().boxed(),
        AlgebraicType::U128 => any::<u128>().prop_map_into().boxed(),
        AlgebraicType::U256 => {
            any::<[u8; 32]>().prop_map(|b| AlgebraicValue::U256(Box::new(u256::from_le_bytes(b)))).boxed()
        }
        AlgebraicType::I8 => any::<i8>().prop_map_into().boxed(),
        AlgebraicType::I16 => any::<i16>().prop_map_into().boxed(),
        AlgebraicType::I32 => any::<i32>().prop_map_into().boxed(),
        AlgebraicType::I64 => any::<i64>().prop_map_into().boxed(),
        AlgebraicType::I128 => any::<i128>().prop_map_into().boxed(),
        AlgebraicType::I256 => {
            any::<[u8; 32]>().prop_map(|b| AlgebraicValue::I256(Box::new(i256::from_le_bytes(b)))).boxed()
        }
        AlgebraicType::F32 => any_f32().prop_map(AlgebraicValue::from).boxed(),
        AlgebraicType::F64 => any_f64().prop_map(AlgebraicValue::from).boxed(),
        AlgebraicType::String => any::<String>().prop_map(|s| AlgebraicValue::String(s.into())).boxed(),
        AlgebraicType::Array(array) => {
            let elem_ty = resolve(typespace, &array.elem_ty).clone();
            vec(arb_value(typespace, &elem_ty), 0..=MAX_ARRAY_LEN)
                .prop_map(move |items| AlgebraicValue::Array(array_value(&elem_ty, items)))
                .boxed()
        }
        AlgebraicType::Product(product) if special_name(product) == Some("__timestamp_micros_since_unix_epoch__") => {
            (-TIMESTAMP_MICROS_LIMIT..TIMESTAMP_MICROS_LIMIT)
                .prop_map(|micros| AlgebraicValue::product([AlgebraicValue::I64(micros)]))
                .boxed()
        }
        AlgebraicType::Product(product) => {
            let fields: Vec<_> = product.elements.iter().map(|e| arb_value(typespace, &e.algebraic_type)).collect();
            fields.prop_map(|values| AlgebraicValue::Product(ProductValue::from(values))).boxed()
        }
        AlgebraicType::Sum(sum) => {
            let variants: Vec<_> = sum
                .variants
                .iter()
                .enumerate()
                .map(|(tag, v)| {
                    arb_value(typespace, &v.algebraic_type)
                        .prop_map(move |payload| AlgebraicValue::Sum(SumValue::new(tag as u8, payload)))
                        .boxed()
                })
                .collect();
            proptest::strategy::Union::new(variants).boxed()
        }
        AlgebraicType::Ref(_) => unreachable!("resolved above"),
    }
}

/// Random values of one of the named product types: `(name, value)`.
pub(crate) fn any_named_product(
    typespace: &Typespace,
    types: Vec<(String, AlgebraicType)>,
) -> impl Strategy<Value = (String, ProductValue)> {
    let per_type: Vec<_> = types
        .into_iter()
        .map(|(name, ty)| {
            arb_value(typespace, &ty).prop_map(move |value| (name.clone(), value.into_product().unwrap())).boxed()
        })
        .collect();
    proptest::strategy::Union::new(per_type)
}

/// Packs generated elements into the monomorphic `ArrayValue` SpacetimeDB serializes.
fn array_value(elem_ty: &AlgebraicType, items: Vec<AlgebraicValue>) -> ArrayValue {
    match elem_ty {
        AlgebraicType::U8 => items.into_iter().map(|v| v.into_u8().unwrap()).collect::<Box<[_]>>().into(),
        AlgebraicType::I32 => items.into_iter().map(|v| v.into_i32().unwrap()).collect::<Box<[_]>>().into(),
        AlgebraicType::U64 => items.into_iter().map(|v| v.into_u64().unwrap()).collect::<Box<[_]>>().into(),
        AlgebraicType::String => items.into_iter().map(|v| v.into_string().unwrap()).collect::<Box<[_]>>().into(),
        AlgebraicType::Sum(_) => items.into_iter().map(|v| v.into_sum().unwrap()).collect::<Box<[_]>>().into(),
        AlgebraicType::Product(_) => items.into_iter().map(|v| v.into_product().unwrap()).collect::<Box<[_]>>().into(),
        other => unimplemented!("the reference generator has no arrays of {other:?}"),
    }
}

/// The JSON the value mapping gives `value` of type `ty`.
pub(crate) fn expected_json(typespace: &Typespace, ty: &AlgebraicType, value: &AlgebraicValue) -> Value {
    match (resolve(typespace, ty), value) {
        (AlgebraicType::Bool, AlgebraicValue::Bool(b)) => json!(b),
        (AlgebraicType::U8, AlgebraicValue::U8(n)) => json!(n),
        (AlgebraicType::U16, AlgebraicValue::U16(n)) => json!(n),
        (AlgebraicType::U32, AlgebraicValue::U32(n)) => json!(n),
        (AlgebraicType::I8, AlgebraicValue::I8(n)) => json!(n),
        (AlgebraicType::I16, AlgebraicValue::I16(n)) => json!(n),
        (AlgebraicType::I32, AlgebraicValue::I32(n)) => json!(n),
        (AlgebraicType::U64, AlgebraicValue::U64(n)) => json!(n.to_string()),
        (AlgebraicType::I64, AlgebraicValue::I64(n)) => json!(n.to_string()),
        (AlgebraicType::U128, AlgebraicValue::U128(n)) => json!({ n.0 }.to_string()),
        (AlgebraicType::I128, AlgebraicValue::I128(n)) => json!({ n.0 }.to_string()),
        (AlgebraicType::U256, AlgebraicValue::U256(n)) => json!(n.to_string()),
        (AlgebraicType::I256, AlgebraicValue::I256(n)) => json!(n.to_string()),
        (AlgebraicType::F32, AlgebraicValue::F32(f)) => {
            // The f32's shortest digits, read as a JSON (f64) number. Shortest digits are not unique
            // (402824.125 has both 402824.12 and 402824.13), so this follows ryu's choice, which
            // the mapping specifies; that the digits read back as the same f32 is checked by the
            // round trip's byte comparison.
            let f = f.into_inner();
            float_json(f.is_finite().then(|| ryu::Buffer::new().format_finite(f).parse::<f64>().unwrap()), f64::from(f))
        }
        (AlgebraicType::F64, AlgebraicValue::F64(f)) => float_json(Some(f.into_inner()), f.into_inner()),
        (AlgebraicType::String, AlgebraicValue::String(s)) => json!(&**s),
        (AlgebraicType::Array(array), AlgebraicValue::Array(items)) => match items {
            ArrayValue::U8(bytes) => json!(hex::encode(bytes)),
            _ => {
                Value::Array(items.iter_cloned().map(|item| expected_json(typespace, &array.elem_ty, &item)).collect())
            }
        },
        (AlgebraicType::Product(product), AlgebraicValue::Product(fields)) => {
            expected_product_json(typespace, product, fields)
        }
        (AlgebraicType::Sum(sum), AlgebraicValue::Sum(value)) => expected_sum_json(typespace, sum, value),
        (ty, value) => panic!("value {value:?} does not have type {ty:?}"),
    }
}

fn float_json(finite: Option<f64>, value: f64) -> Value {
    match finite.filter(|f| f.is_finite()) {
        Some(f) => json!(f),
        None if value.is_nan() => json!("NaN"),
        None if value > 0.0 => json!("Infinity"),
        None => json!("-Infinity"),
    }
}

fn expected_product_json(typespace: &Typespace, product: &ProductType, fields: &ProductValue) -> Value {
    let only = fields.elements.first();
    match (special_name(product), only) {
        (Some("__identity__"), Some(AlgebraicValue::U256(n))) => json!(Identity::from_u256(**n).to_hex().to_string()),
        (Some("__connection_id__"), Some(AlgebraicValue::U128(n))) => {
            json!(ConnectionId::from_u128(n.0).to_hex().to_string())
        }
        (Some("__time_duration_micros__"), Some(AlgebraicValue::I64(n))) => json!(n.to_string()),
        (Some("__timestamp_micros_since_unix_epoch__"), Some(AlgebraicValue::I64(n))) => json!(timestamp_text(*n)),
        _ => Value::Object(
            product
                .elements
                .iter()
                .zip(fields.elements.iter())
                .enumerate()
                .map(|(i, (e, v))| {
                    let key = e.name.as_deref().map_or_else(|| i.to_string(), str::to_owned);
                    (key, expected_json(typespace, &e.algebraic_type, v))
                })
                .collect(),
        ),
    }
}

fn expected_sum_json(typespace: &Typespace, sum: &SumType, value: &SumValue) -> Value {
    let variant = &sum.variants[usize::from(value.tag)];
    if is_option(sum) {
        if value.tag == 1 {
            return Value::Null;
        }
        let inner = expected_json(typespace, &variant.algebraic_type, &value.value);
        let inner_is_option =
            matches!(resolve(typespace, &variant.algebraic_type), AlgebraicType::Sum(s) if is_option(s));
        return if inner_is_option { json!({ "some": inner }) } else { inner };
    }
    let name = variant.name.as_deref().map_or_else(|| value.tag.to_string(), str::to_owned);
    if sum.variants.iter().all(|v| is_unit(typespace, &v.algebraic_type)) {
        json!(name)
    } else if is_unit(typespace, &variant.algebraic_type) {
        json!({ "tag": name })
    } else {
        json!({ "tag": name, "value": expected_json(typespace, &variant.algebraic_type, &value.value) })
    }
}

/// RFC 3339 with six fractional digits and JavaScript's expanded years, via chrono.
fn timestamp_text(micros: i64) -> String {
    let time = chrono::DateTime::from_timestamp_micros(micros).expect("generated within chrono's range");
    let year = chrono::Datelike::year(&time);
    let year = if (0..=9999).contains(&year) { format!("{year:04}") } else { format!("{year:+07}") };
    format!("{year}-{}", time.format("%m-%dT%H:%M:%S%.6fZ"))
}
