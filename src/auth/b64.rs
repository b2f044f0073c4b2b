//! base64url without padding (RFC 7515 §2), strict: padding, `+`/`/` and whitespace are refused, so a
//! token has exactly one spelling.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url; `None` for anything that is not canonical unpadded base64url.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_non_url_alphabet() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").unwrap(), b"\xfb\xff");
        assert!(decode("+/8").is_none());
        assert!(decode("-_8=").is_none());
        assert!(decode("a b").is_none());
        assert!(decode("a").is_none()); // 6 bits cannot encode a byte
    }
}
