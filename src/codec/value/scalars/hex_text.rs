//! Hex text for identities, connection ids, UUIDs and byte arrays.
//!
//! SpacetimeDB prints identities and connection ids as the big-endian hex of their number, while
//! BSATN stores the number little-endian; the functions here take and return the BSATN (LE) bytes
//! and do the reversal, so callers cannot forget it.

use crate::codec::value::json_text::HEX_DIGITS;

/// Appends the lowercase hex of `bytes` in the given order.
pub(crate) fn push_hex<'a>(out: &mut Vec<u8>, bytes: impl IntoIterator<Item = &'a u8>) {
    for &b in bytes {
        out.push(HEX_DIGITS[usize::from(b >> 4)]);
        out.push(HEX_DIGITS[usize::from(b & 0xf)]);
    }
}

/// Appends the canonical `8-4-4-4-12` text of a UUID stored as a little-endian `u128`.
pub(crate) fn push_uuid(out: &mut Vec<u8>, le_bytes: &[u8; 16]) {
    let mut be = *le_bytes;
    be.reverse();
    for (i, group) in [&be[0..4], &be[4..6], &be[6..8], &be[8..10], &be[10..16]].into_iter().enumerate() {
        if i > 0 {
            out.push(b'-');
        }
        push_hex(out, group);
    }
}

/// Parses the big-endian hex text of an `N`-byte number (optional `0x`, any case) into its
/// little-endian bytes.
pub(crate) fn parse_le_number_hex<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let digits = strip_0x(text);
    if digits.len() != 2 * N {
        return Err(format!("expected {} hex digits, got {}", 2 * N, digits.len()));
    }
    let mut bytes = [0u8; N];
    hex::decode_to_slice(digits, &mut bytes).map_err(|_| format!("{text:?} is not hexadecimal"))?;
    bytes.reverse();
    Ok(bytes)
}

/// Parses a UUID (`8-4-4-4-12` or 32 plain hex digits, any case) into little-endian `u128` bytes.
pub(crate) fn parse_uuid(text: &str) -> Result<[u8; 16], String> {
    let bytes = text.as_bytes();
    let dashed = bytes.len() == 36 && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-');
    if !dashed && bytes.len() != 32 {
        return Err(format!("{text:?} is not a UUID like \"0195f3a1-7c4e-7b2d-9f00-1a2b3c4d5e6f\""));
    }
    let digits: String = text.chars().filter(|&c| c != '-' || !dashed).collect();
    parse_le_number_hex::<16>(&digits).map_err(|_| format!("{text:?} is not a UUID"))
}

/// Parses a byte string given as hex (optional `0x`, any case, even length).
pub(crate) fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    hex::decode(strip_0x(text)).map_err(|e| format!("{text:?} is not a hex byte string ({e})"))
}

fn strip_0x(text: &str) -> &str {
    text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_hex_is_big_endian_text_of_little_endian_bytes() {
        let le: [u8; 4] = parse_le_number_hex("0x0A0b0c0D").unwrap();
        assert_eq!(le, [0x0d, 0x0c, 0x0b, 0x0a]);
        assert_eq!(parse_le_number_hex::<4>("0a0b0c"), Err("expected 8 hex digits, got 6".to_owned()));
        assert!(parse_le_number_hex::<2>("zzzz").unwrap_err().contains("not hexadecimal"));
    }

    #[test]
    fn uuid_text_round_trips() {
        let le = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10_u128.to_le_bytes();
        let mut out = Vec::new();
        push_uuid(&mut out, &le);
        assert_eq!(out, b"01020304-0506-0708-090a-0b0c0d0e0f10");
        assert_eq!(parse_uuid("01020304-0506-0708-090A-0B0C0D0E0F10"), Ok(le));
        assert_eq!(parse_uuid("0102030405060708090a0b0c0d0e0f10"), Ok(le));
        assert!(parse_uuid("01020304-0506-0708-090a-0b0c0d0e0f1").is_err());
        assert!(parse_uuid("0102030405-06-0708-090a-0b0c0d0e0f10").is_err());
    }

    #[test]
    fn byte_strings() {
        assert_eq!(parse_hex_bytes("0xDEadbe"), Ok(vec![0xde, 0xad, 0xbe]));
        assert_eq!(parse_hex_bytes(""), Ok(vec![]));
        assert!(parse_hex_bytes("abc").is_err());
    }
}
