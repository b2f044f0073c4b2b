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
        assert_eq!(describe_json(&json!("x")), r#""x""#);
        assert_eq!(describe_json(&json!(null)), "null");
        assert_eq!(describe_json(&json!([1])), "an array");
        assert_eq!(describe_json(&json!({"a": 1})), "an object");
        let long = describe_json(&json!("y".repeat(100)));
        assert_eq!(long.chars().count(), MAX_RENDERED_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
