//! Numbers between JSON and BSATN: the precision rules of the value mapping.
//!
//! Integers up to 32 bits are JSON numbers. Wider integers are decimal strings, because a JSON
//! number read by JavaScript is a double and silently rounds above 2^53; on input a JSON number is
//! still accepted for them while it is a safe integer. Floats are JSON numbers, except NaN and the
//! infinities, which JSON cannot express and which map to the strings `"NaN"`, `"Infinity"` and
//! `"-Infinity"`.

use std::borrow::Cow;
use std::str::FromStr;

use serde_json::{Number, Value};

use crate::codec::value::encode_error::Problem;
use crate::codec::value::json_text::describe_json;

/// 2^53 − 1, JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// Appends an `f64` with the shortest digits that read back as the same value; NaN and the
/// infinities as their quoted names.
pub(crate) fn write_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else if value.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if value > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

/// Appends an `f32` with the shortest digits that read back as the same `f32` (not the longer
/// digits of the same value as an `f64`).
pub(crate) fn write_f32(out: &mut Vec<u8>, value: f32) {
    if value.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        // Widening keeps NaN and the signed infinities, which print the same for both widths.
        write_f64(out, f64::from(value));
    }
}

/// Appends an integer as a JSON number.
pub(crate) fn write_int(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends an integer as a quoted decimal string.
pub(crate) fn write_quoted_int(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.push(b'"');
    write_int(out, value);
    out.push(b'"');
}

/// Reads a float: any JSON number, or one of the strings for NaN and the infinities.
pub(crate) fn float_from_json(value: &Value) -> Result<f64, Problem> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| Problem::expected("a number", value)),
        Value::String(s) if s == "NaN" => Ok(f64::NAN),
        Value::String(s) if s == "Infinity" => Ok(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
        // NaN and the infinities are also accepted as strings (documented in the value mapping).
        _ => Err(Problem::expected("a number", value)),
    }
}

/// Reads an `f32`: like [`float_from_json`], rejecting finite numbers beyond the `f32` range
/// instead of turning them into infinity.
pub(crate) fn f32_from_json(value: &Value) -> Result<f32, Problem> {
    let wide = float_from_json(value)?;
    let narrow = wide as f32;
    if wide.is_finite() && narrow.is_infinite() {
        return Err(Problem::Message(format!("{} is out of range for f32", describe_json(value))));
    }
    Ok(narrow)
}

/// Reads an integer given as a JSON number in `min..=max` (for the types up to 32 bits).
pub(crate) fn small_int_from_json(value: &Value, min: i64, max: i64) -> Result<i64, Problem> {
    let Value::Number(n) = value else { return Err(Problem::expected("an integer", value)) };
    let Some(int) = exact_integer(n) else { return Err(Problem::expected("an integer", value)) };
    if int < i128::from(min) || int > i128::from(max) {
        return Err(Problem::Message(format!("{n} is out of range ({min} to {max})")));
    }
    Ok(int as i64)
}

/// Reads a 64-bit or wider integer: a decimal string, or a JSON number that is a safe integer.
///
fn wide_int_text(value: &Value) -> Result<Cow<'_, str>, Problem> {
    match value {
        Value::String(s) if is_decimal_integer(s) => Ok(Cow::Borrowed(s)),
        Value::Number(n) => match exact_integer(n) {
            Some(int) if int.abs() <= MAX_SAFE_INTEGER => Ok(Cow::Owned(int.to_string())),
            Some(_) => Err(Problem::Message(format!(
                "{n} loses precision as a JSON number; pass a decimal string or a bigint"
            ))),
            None => Err(Problem::expected("an integer", value)),
        },
        _ => Err(Problem::expected("a decimal integer string", value)),
    }
}

/// Reads a 64-bit or wider integer (see [`wide_int_text`]) into `T`.
pub(crate) fn wide_int_from_json<T: FromStr>(value: &Value) -> Result<T, Problem> {
    let text = wide_int_text(value)?;
    // The text is a well-formed decimal integer, so parsing fails only when it does not fit.
    text.parse().map_err(|_| Problem::Message(format!("{text} is out of range")))
}

/// `-?[0-9]+`: the decimal form of 64-bit and wider integers.
pub(crate) fn is_decimal_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The integer a JSON number holds exactly, or `None` for fractions and non-finite values.
fn exact_integer(n: &Number) -> Option<i128> {
    if let Some(int) = n.as_i64() {
        return Some(i128::from(int));
    }
    if let Some(int) = n.as_u64() {
        return Some(i128::from(int));
    }
    // Integral doubles (from JavaScript, every number is one) beyond i128 saturate, and are then
    // reported as out of range or imprecise, which they are.
    let float = n.as_f64()?;
    (float.is_finite() && float.fract() == 0.0).then_some(float as i128)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_use_shortest_round_trip_digits() {
        assert_eq!(text(|o| write_f64(o, 0.1)), "0.1");
        assert_eq!(text(|o| write_f32(o, 0.1)), "0.1");
        assert_eq!(text(|o| write_f64(o, f64::from(0.1f32))), "0.10000000149011612");
        assert_eq!(text(|o| write_f64(o, -0.0)), "-0.0");
        assert_eq!(text(|o| write_f64(o, 1e300)), "1e300");
        assert_eq!(text(|o| write_f64(o, f64::NAN)), "\"NaN\"");
        assert_eq!(text(|o| write_f32(o, f32::NEG_INFINITY)), "\"-Infinity\"");
        assert_eq!(text(|o| write_f64(o, f64::INFINITY)), "\"Infinity\"");
    }

    #[test]
    fn floats_from_json() {
        assert_eq!(float_from_json(&json!(1.5)), Ok(1.5));
        assert_eq!(float_from_json(&json!(7)), Ok(7.0));
        assert!(float_from_json(&json!("NaN")).unwrap().is_nan());
        assert_eq!(float_from_json(&json!("-Infinity")), Ok(f64::NEG_INFINITY));
        assert!(float_from_json(&json!("1.5")).is_err());
        assert_eq!(f32_from_json(&json!(1e39)), Err(Problem::Message("1e+39 is out of range for f32".into())));
        assert_eq!(f32_from_json(&json!("Infinity")), Ok(f32::INFINITY));
    }

    #[test]
    fn small_ints_must_be_integral_and_in_range() {
        assert_eq!(small_int_from_json(&json!(255), 0, 255), Ok(255));
        assert_eq!(small_int_from_json(&json!(3.0), 0, 255), Ok(3));
        assert_eq!(
            small_int_from_json(&json!(256), 0, 255),
            Err(Problem::Message("256 is out of range (0 to 255)".into()))
        );
        assert_eq!(
            small_int_from_json(&json!(-1), 0, 255),
            Err(Problem::Message("-1 is out of range (0 to 255)".into()))
        );
        assert_eq!(small_int_from_json(&json!(1.5), 0, 255), Err(Problem::expected("an integer", &json!(1.5))));
        assert_eq!(small_int_from_json(&json!("1"), 0, 255), Err(Problem::expected("an integer", &json!("1"))));
    }

    #[test]
    fn wide_ints_take_decimal_strings_and_safe_numbers() {
        assert_eq!(wide_int_text(&json!("18446744073709551615")).unwrap(), "18446744073709551615");
        assert_eq!(wide_int_text(&json!("-12")).unwrap(), "-12");
        assert_eq!(wide_int_text(&json!(9_007_199_254_740_991i64)).unwrap(), "9007199254740991");
        assert_eq!(wide_int_text(&json!(-9_007_199_254_740_991i64)).unwrap(), "-9007199254740991");
        assert!(
            matches!(wide_int_text(&json!(9_007_199_254_740_992i64)), Err(Problem::Message(m)) if m.contains("loses precision"))
        );
        assert!(matches!(wide_int_text(&json!(1e20)), Err(Problem::Message(m)) if m.contains("loses precision")));
        for bad in [json!("+1"), json!(" 1"), json!("1e3"), json!(""), json!("-"), json!("0x10"), json!(true)] {
            assert_eq!(wide_int_text(&bad), Err(Problem::expected("a decimal integer string", &bad)));
        }
        assert_eq!(wide_int_text(&json!(0.5)), Err(Problem::expected("an integer", &json!(0.5))));
    }

    #[test]
    fn wide_ints_parse_into_their_type_or_report_the_range() {
        assert_eq!(wide_int_from_json::<u64>(&json!("18446744073709551615")), Ok(u64::MAX));
        assert_eq!(wide_int_from_json::<i128>(&json!(i128::MIN.to_string())), Ok(i128::MIN));
        assert_eq!(
            wide_int_from_json::<u64>(&json!("18446744073709551616")),
            Err(Problem::Message("18446744073709551616 is out of range".into()))
        );
        assert_eq!(wide_int_from_json::<u64>(&json!("-1")), Err(Problem::Message("-1 is out of range".into())));
        assert_eq!(wide_int_from_json::<i64>(&json!(-42)), Ok(-42));
    }
}
