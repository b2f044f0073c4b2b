//! PEM armour (RFC 7468): `-----BEGIN LABEL-----`, base64, `-----END LABEL-----`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// One decoded PEM block.
#[derive(Debug)]
pub struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Largest PEM text we read: an RSA-8192 private key is under 7 KB; anything far larger is not a key.
const MAX_PEM_BYTES: usize = 64 * 1024;

/// Decodes the first PEM block of `text`. The error says what is wrong, for a `KEY_INVALID` message.
pub fn decode(text: &str) -> Result<PemBlock, String> {
    if text.len() > MAX_PEM_BYTES {
        return Err(format!("the PEM text is {} bytes, more than any key needs", text.len()));
    }
    let begin = text.find("-----BEGIN ").ok_or("no `-----BEGIN …-----` line: not a PEM key")?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----").ok_or("the BEGIN line is not closed by `-----`")?;
    let label = &after_begin[..label_end];
    let body_and_rest = &after_begin[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_rest.find(&end_marker).ok_or_else(|| format!("no `{end_marker}` line"))?;
    let body = &body_and_rest[..end];
    if body.contains(':') {
        return Err("the PEM block has headers (a legacy encrypted key?): decrypt it first".into());
    }
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(compact.as_bytes()).map_err(|e| format!("the {label} block is not valid base64: {e}"))?;
    Ok(PemBlock { label: label.to_string(), der })
}

/// Encodes DER as PEM with 64-character lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_explains_failures() {
        let pem = encode("PUBLIC KEY", &[1, 2, 3, 250]);
        let block = decode(&format!("junk before\n{pem}junk after")).unwrap();
        assert_eq!(block.label, "PUBLIC KEY");
        assert_eq!(block.der, vec![1, 2, 3, 250]);
        assert!(decode("hello").unwrap_err().contains("not a PEM key"));
        assert!(decode("-----BEGIN X-----\nAAAA\n").unwrap_err().contains("-----END X-----"));
        assert!(decode("-----BEGIN X-----\n!!!!\n-----END X-----").unwrap_err().contains("base64"));
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----";
        assert!(decode(legacy).unwrap_err().contains("encrypted"));
    }
}
