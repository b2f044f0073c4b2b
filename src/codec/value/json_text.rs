//! Small JSON text helpers: string escaping for the decoder's output, and short renderings of JSON
//! values for error messages.

use serde_json::Value;

use super::js_typed::JsValue;

/// Appends `s` as a JSON string literal (quotes included), escaping `"`, `\` and control characters.
///
/// `s` is valid UTF-8, so scanning bytes is safe: every byte that needs escaping is ASCII, and
/// multi-byte sequences never contain ASCII bytes.
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[run_start..i]);
        run_start = i + 1;
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX_DIGITS[usize::from(b >> 4)]);
            out.push(HEX_DIGITS[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
    }
    out.extend_from_slice(&bytes[run_start..]);
    out.push(b'"');
}

/// Lowercase hex digits, indexed by nibble.
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Longest rendering of a JSON value in an error message; longer values are cut with `…`.
const MAX_RENDERED_CHARS: usize = 40;

/// Renders a JSON value for an error message (`got 42`, `got "x"`, `got an object`): scalars as
/// JSON text, cut to a readable length; arrays and objects by kind only, since callers may pass
/// large or sensitive documents.
pub(crate) fn describe_json(value: &Value) -> String {
    if let Some(js) = JsValue::of(value) {
        return js.describe();
    }
    match value {
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        scalar => {
            let text = scalar.to_string();
            match text.char_indices().nth(MAX_RENDERED_CHARS) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text,
            }
        }
    }
}

/// Renders a JSON value that stands for a JS value as the JS layer does (`lib/args.js` `describe`), for
/// messages about options: `an empty string`, `"x"` (cut to 40 characters), `5`, `null`, `a function`,
/// `a bigint (10n)`, `an array`, `an object`.
pub(crate) fn describe_js(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "an empty string".to_owned(),
        Value::String(s) => {
            let mut out = Vec::new();
            match s.char_indices().nth(MAX_RENDERED_CHARS) {
                Some((cut, _)) => write_json_string(&mut out, &format!("{}…", &s[..cut])),
                None => write_json_string(&mut out, s),
            }
            String::from_utf8(out).expect("escaped JSON text is UTF-8")
        }
        // JS prints integral numbers without a fraction (`5`, not `5.0`).
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        other => describe_json(other),
    }
}

/// Whether `value` is a plain JSON object (not the mark of a JS value JSON cannot carry).
pub(crate) fn is_plain_object(value: &Value) -> bool {
    value.is_object() && JsValue::of(value).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        write_json_string(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(escaped("plain"), r#""plain""#);
        assert_eq!(escaped("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(escaped("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(escaped("\u{0}\u{1f}"), r#""\u0000\u001f""#);
        assert_eq!(escaped("é✓😀\u{2028}"), "\"é✓😀\u{2028}\"");
    }

    #[test]
    fn escaped_strings_parse_back_to_the_original() {
        let s: String = (0u8..128).map(char::from).chain("ü€𝄞".chars()).collect();
        let parsed: String = serde_json::from_str(&escaped(&s)).unwrap();
        assert_eq!(parsed, s);
    }

    #[test]
    fn describes_values_briefly() {
        assert_eq!(describe_json(&json!(42)), "42");
        assert_eq!(describe_js(&json!("")), "an empty string");
        assert_eq!(describe_js(&json!(-1.0)), "-1");
        assert_eq!(describe_js(&json!(1.5)), "1.5");
        assert_eq!(describe_js(&json!({"\u{0}function": null})), "a function");
        assert_eq!(describe_js(&json!("z".repeat(50))), format!("\"{}…\"", "z".repeat(40)));
        assert!(is_plain_object(&json!({})) && !is_plain_object(&json!({"\u{0}bigint": "1"})));
        assert_eq!(describe_json(&json!("x")), r#""x""#);
        assert_eq!(describe_json(&json!(null)), "null");
        assert_eq!(describe_json(&json!([1])), "an array");
        assert_eq!(describe_json(&json!({"a": 1})), "an object");
        let long = describe_json(&json!("y".repeat(100)));
        assert_eq!(long.chars().count(), MAX_RENDERED_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
