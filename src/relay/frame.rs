//! SSE frames: the envelope every stream receives.
//!
//! ```text
//! id: <id>                                  (only on frames that carry a resume position)
//! event: document.update
//! data: {"event":"document.update","id":"<id>","tenant_id":"t1","schema_version":1,"payload":{…}}
//! ```
//! followed by an empty line. JSON never contains a raw line break (strings escape them), so `data:` is
//! always one line. A stream opened for someone acting for another (`principal.act`: an impersonating
//! admin) carries `"act":{"sub":"<admin>"}` after `schema_version` in every envelope; other streams' bytes
//! are unchanged.

use bytes::Bytes;

use crate::codec::value::write_json_string;

/// The comment line streams get when idle, to keep proxies from closing them.
pub const HEARTBEAT: &[u8] = b": hb\n\n";

/// The parts of an envelope other than the payload.
pub struct Envelope<'a> {
    /// The id, when the frame carries a resume position (`None` writes `"id":null` and no `id:` line).
    pub id: Option<&'a str>,
    /// The SSE event type: `<table>.insert|update|delete`, `snapshot`, `resync`, `revoked`, `closed`.
    pub event: &'a str,
    /// The JSON text of the tenant (`null` when there is none).
    pub tenant_json: &'a [u8],
    pub schema_version: u32,
    /// The JSON of the acting party (`{"sub":"…"}`) of a stream opened with `principal.act`.
    pub act_json: Option<&'a [u8]>,
}

/// Writes one frame; `payload` writes the payload's JSON.
pub fn write_frame(out: &mut Vec<u8>, envelope: &Envelope, payload: impl FnOnce(&mut Vec<u8>)) {
    if let Some(id) = envelope.id {
        out.extend_from_slice(b"id: ");
        out.extend_from_slice(id.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(envelope.event.as_bytes());
    out.extend_from_slice(b"\ndata: {\"event\":");
    write_json_string(out, envelope.event);
    out.extend_from_slice(b",\"id\":");
    match envelope.id {
        Some(id) => write_json_string(out, id),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"tenant_id\":");
    out.extend_from_slice(envelope.tenant_json);
    out.extend_from_slice(b",\"schema_version\":");
    out.extend_from_slice(itoa::Buffer::new().format(envelope.schema_version).as_bytes());
    if let Some(act) = envelope.act_json {
        out.extend_from_slice(b",\"act\":");
        out.extend_from_slice(act);
    }
    out.extend_from_slice(b",\"payload\":");
    payload(out);
    out.extend_from_slice(b"}\n\n");
}

/// A frame whose payload is `{"reason":"…"}` (`resync`, `revoked`, `closed`).
pub fn reason_frame(envelope: &Envelope, reason: &str) -> Bytes {
    let mut out = Vec::with_capacity(160);
    write_frame(&mut out, envelope, |out| {
        out.extend_from_slice(b"{\"reason\":");
        write_json_string(out, reason);
        out.push(b'}');
    });
    Bytes::from(out)
}

/// The `retry:` hint a stream starts with: how long `EventSource` waits before reconnecting.
pub fn retry_frame(retry_ms: u32) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n\n"))
}

/// The raw JSON text of field `key` of the JSON object `object`, which must be well-formed JSON as the
/// codec writes it. Used to read a row's tenant out of the row's JSON without decoding it again.
pub fn json_field<'j>(object: &'j [u8], key: &str) -> Option<&'j [u8]> {
    let mut quoted = Vec::with_capacity(key.len() + 2);
    write_json_string(&mut quoted, key);
    let mut at = skip_space(object, 0);
    if object.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_space(object, at);
        if object.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = skip_value(object, at)?;
        let value_start = skip_space(object, skip_space(object, key_end) + 1);
        let value_end = skip_value(object, value_start)?;
        if object[at..key_end] == quoted[..] {
            return Some(&object[value_start..value_end]);
        }
        at = skip_space(object, value_end);
        if object.get(at) != Some(&b',') {
            return None;
        }
        at += 1;
    }
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while text.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The end of the JSON value starting at `at`.
fn skip_value(text: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    let mut in_string = false;
    while let Some(&b) = text.get(i) {
        i += 1;
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b',' | b'}' | b']' if depth == 0 => return Some(i - 1),
            _ => {}
        }
    }
    (depth == 0 && !in_string && i > at).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_an_sse_event_with_the_json_envelope() {
        let mut out = Vec::new();
        let envelope = Envelope {
            id: Some("e-3"),
            event: "document.insert",
            tenant_json: b"\"t1\"",
            schema_version: 2,
            act_json: None,
        };
        write_frame(&mut out, &envelope, |out| out.extend_from_slice(b"{\"row\":{\"id\":\"1\"}}"));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "id: e-3\nevent: document.insert\ndata: {\"event\":\"document.insert\",\"id\":\"e-3\",\"tenant_id\":\"t1\",\
             \"schema_version\":2,\"payload\":{\"row\":{\"id\":\"1\"}}}\n\n"
        );
        let data: serde_json::Value =
            serde_json::from_str(text.lines().nth(2).unwrap().strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["payload"]["row"]["id"], "1");
    }

    #[test]
    fn frames_without_an_id_have_no_id_line() {
        let envelope = Envelope { id: None, event: "revoked", tenant_json: b"null", schema_version: 1, act_json: None };
        let frame = reason_frame(&envelope, "membership \"ended\"\n");
        assert_eq!(
            &frame[..],
            b"event: revoked\ndata: {\"event\":\"revoked\",\"id\":null,\"tenant_id\":null,\"schema_version\":1,\
              \"payload\":{\"reason\":\"membership \\\"ended\\\"\\n\"}}\n\n"
        );
        assert_eq!(&retry_frame(2500)[..], b"retry: 2500\n\n");
    }

    #[test]
    fn an_acting_party_is_marked_in_the_envelope() {
        let mut out = Vec::new();
        let act = br#"{"sub":"admin_1"}"#;
        let envelope = Envelope {
            id: Some("e-6"),
            event: "document.delete",
            tenant_json: b"\"t1\"",
            schema_version: 1,
            act_json: Some(act),
        };
        write_frame(&mut out, &envelope, |out| out.extend_from_slice(b"{}"));
        let data: serde_json::Value = serde_json::from_str(
            std::str::from_utf8(&out).unwrap().lines().nth(2).unwrap().strip_prefix("data: ").unwrap(),
        )
        .unwrap();
        assert_eq!(data["act"]["sub"], "admin_1");
        assert_eq!(data["schema_version"], 1);
        assert_eq!(data["payload"], serde_json::json!({}));
    }

    #[test]
    fn json_field_finds_a_field_of_any_shape() {
        let row = br#"{"id":"1","nested":{"a":[1,{"b":"}"}]},"s":"x\"y,z","tenant_id":"t\"1","n":-1.5e3,"last":null}"#;
        assert_eq!(json_field(row, "tenant_id"), Some(&br#""t\"1""#[..]));
        assert_eq!(json_field(row, "nested"), Some(&br#"{"a":[1,{"b":"}"}]}"#[..]));
        assert_eq!(json_field(row, "n"), Some(&b"-1.5e3"[..]));
        assert_eq!(json_field(row, "last"), Some(&b"null"[..]));
        assert_eq!(json_field(row, "id"), Some(&br#""1""#[..]));
        assert_eq!(json_field(row, "missing"), None);
        assert_eq!(json_field(b"[1]", "id"), None);
        assert_eq!(json_field(b"{}", "id"), None);
    }
}
