//! The few DER structures a key file holds (SPKI, PKCS#8, PKCS#1, SEC1), read by a minimal reader.
//!
//! Only what key import needs: TLV with single-byte tags and definite lengths. Every read is
//! bounds-checked and returns `None` on malformed input, never panics.

/// DER tag numbers used by key structures.
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const SEQUENCE: u8 = 0x30;
/// Context-specific constructed tags `[0]` and `[1]` (ECPrivateKey parameters / public key).
pub const CONTEXT_0: u8 = 0xa0;
pub const CONTEXT_1: u8 = 0xa1;

/// Object identifiers (DER content bytes) of the key algorithms and curves we recognise.
pub mod oid {
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    pub const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    pub const SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    pub const ED448: &[u8] = &[0x2b, 0x65, 0x71];
}

/// A cursor over DER bytes.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// The tag of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads the next element: `(tag, content)`.
    pub fn read_any(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, after_tag) = self.rest.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags never occur in key structures
        }
        let (&first, mut after_len) = after_tag.split_first()?;
        let len = if first < 0x80 {
            first as usize
        } else {
            let count = (first & 0x7f) as usize;
            if count == 0 || count > 4 || after_len.len() < count {
                return None;
            }
            let mut len = 0usize;
            for &b in &after_len[..count] {
                len = (len << 8) | b as usize;
            }
            after_len = &after_len[count..];
            len
        };
        if after_len.len() < len {
            return None;
        }
        let (content, rest) = after_len.split_at(len);
        self.rest = rest;
        Some((tag, content))
    }

    /// Reads the next element, which must have `tag`.
    pub fn read(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.read_any()? {
            (t, content) if t == tag => Some(content),
            _ => None,
        }
    }

    /// Reads the next element if it has `tag`; leaves the cursor alone otherwise.
    pub fn read_optional(&mut self, tag: u8) -> Option<&'a [u8]> {
        if self.peek_tag() == Some(tag) {
            self.read(tag)
        } else {
            None
        }
    }

    /// Reads a SEQUENCE and returns a reader over its content.
    pub fn sequence(&mut self) -> Option<Reader<'a>> {
        self.read(SEQUENCE).map(Reader::new)
    }

    /// Reads a non-negative INTEGER as big-endian bytes without leading zeros.
    pub fn unsigned_integer(&mut self) -> Option<&'a [u8]> {
        let bytes = self.read(INTEGER)?;
        if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            return None; // negative
        }
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        Some(&bytes[start..])
    }

    /// Reads a BIT STRING with no unused bits and returns its bytes.
    pub fn bit_string(&mut self) -> Option<&'a [u8]> {
        match self.read(BIT_STRING)?.split_first()? {
            (0, bytes) => Some(bytes),
            _ => None,
        }
    }
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`: the algorithm OID
/// and, when the parameter is an OID (a named curve), that OID.
pub fn algorithm_identifier<'a>(reader: &mut Reader<'a>) -> Option<(&'a [u8], Option<&'a [u8]>)> {
    let mut seq = reader.sequence()?;
    let algorithm = seq.read(OID)?;
    let curve = seq.read_optional(OID);
    Some((algorithm, curve))
}

/// Writes one DER element (the few the exporter needs: SPKI around a known key).
pub fn write(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// Writes a non-negative INTEGER from big-endian magnitude bytes.
pub fn write_unsigned_integer(magnitude: &[u8], out: &mut Vec<u8>) {
    let start = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
    let magnitude = &magnitude[start..];
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0); // keep it positive (and encode zero as one byte)
    }
    content.extend_from_slice(magnitude);
    write(INTEGER, &content, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_refuses_truncation() {
        let mut long = vec![OCTET_STRING, 0x81, 200];
        long.extend(std::iter::repeat_n(7u8, 200));
        assert_eq!(Reader::new(&long).read(OCTET_STRING).unwrap().len(), 200);
        assert!(Reader::new(&long[..100]).read(OCTET_STRING).is_none());
        assert!(Reader::new(&[0x30]).read_any().is_none());
        assert!(Reader::new(&[0x30, 0x85, 0, 0, 0, 0, 1]).read_any().is_none());
        assert!(Reader::new(&[0x1f, 0x01, 0x00]).read_any().is_none());
    }

    #[test]
    fn integers_round_trip_without_sign_confusion() {
        for magnitude in [&[0x80u8, 1][..], &[0x01, 0x00], &[0x00], &[]] {
            let mut out = Vec::new();
            write_unsigned_integer(magnitude, &mut out);
            let expected: Vec<u8> = magnitude.iter().copied().skip_while(|&b| b == 0).collect();
            assert_eq!(Reader::new(&out).unsigned_integer().unwrap(), &expected[..]);
        }
        assert!(Reader::new(&[INTEGER, 1, 0xff]).unsigned_integer().is_none());
    }

    #[test]
    fn writes_long_form_lengths() {
        let mut out = Vec::new();
        write(OCTET_STRING, &[0u8; 300], &mut out);
        assert_eq!(&out[..4], &[OCTET_STRING, 0x82, 0x01, 0x2c]);
        assert_eq!(Reader::new(&out).read(OCTET_STRING).unwrap().len(), 300);
    }
}
