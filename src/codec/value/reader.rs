//! A bounds-checked cursor over BSATN bytes.
//!
//! Every read checks the remaining length first and reports a [`DecodeError`] with the offset, so
//! the decoders built on it cannot panic or read out of bounds whatever the input.

use super::decode_error::{DecodeError, DecodeErrorKind};

/// Most elements a length prefix may announce for a zero-sized element type (such as `Vec<()>`).
/// Such arrays consume no input per element, so the input length cannot bound them; without this
/// cap, 4 bytes of input could make the decoder emit billions of elements.
pub(crate) const MAX_ZERO_SIZED_ELEMENTS: u32 = 4096;

/// Reads BSATN primitives from a byte slice, front to back.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Current offset from the start of the input.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// An error located at the current offset.
    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(self.pos, kind)
    }

    /// Fails with `TrailingBytes` unless the whole input has been consumed.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(self.error(DecodeErrorKind::TrailingBytes { count })),
        }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if n > available {
            return Err(self.error(DecodeErrorKind::UnexpectedEnd { needed: n, available }));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    /// The next `N` bytes as an array (for fixed-width little-endian numbers).
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            byte => Err(DecodeError::new(self.pos - 1, DecodeErrorKind::InvalidBool(byte))),
        }
    }

    pub(crate) fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A sum tag, checked against the number of variants.
    pub(crate) fn tag(&mut self, variants: usize) -> Result<usize, DecodeError> {
        let tag = self.u8()?;
        if usize::from(tag) >= variants {
            return Err(DecodeError::new(self.pos - 1, DecodeErrorKind::InvalidTag { tag, variants }));
        }
        Ok(usize::from(tag))
    }

    /// A `u32` length prefix of a string or byte array, checked against the remaining input.
    pub(crate) fn byte_len(&mut self) -> Result<usize, DecodeError> {
        self.element_count(1)
    }

    /// A `u32` element count of an array whose elements take at least `min_element_size` bytes each.
    ///
    /// Rejects counts the rest of the input cannot hold, before anything is decoded, so a corrupt
    /// prefix fails fast instead of driving a long loop (or a caller's allocation).
    pub(crate) fn element_count(&mut self, min_element_size: u32) -> Result<usize, DecodeError> {
        let len = u32::from_le_bytes(self.array()?);
        let available = self.remaining();
        let fits = match min_element_size {
            0 => len <= MAX_ZERO_SIZED_ELEMENTS,
            size => u64::from(len) * u64::from(size) <= available as u64,
        };
        if !fits {
            return Err(DecodeError::new(self.pos - 4, DecodeErrorKind::LengthTooLarge { len, available }));
        }
        Ok(len as usize)
    }

    /// A string: a byte length prefix and UTF-8 bytes.
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len = self.byte_len()?;
        let start = self.pos;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|e| DecodeError::new(start + e.valid_up_to(), DecodeErrorKind::InvalidUtf8))
    }

    /// Skips `n` bytes.
    pub(crate) fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.take(n).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_past_the_end_reports_offset_and_sizes() {
        let mut r = Reader::new(&[1, 2, 3]);
        r.skip(2).unwrap();
        let err = r.take(4).unwrap_err();
        assert_eq!(err, DecodeError::new(2, DecodeErrorKind::UnexpectedEnd { needed: 4, available: 1 }));
    }

    #[test]
    fn huge_element_count_is_rejected_before_any_allocation() {
        // u32::MAX elements of 1 byte each, 3 bytes of input left.
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0]);
        let err = r.element_count(1).unwrap_err();
        assert_eq!(err, DecodeError::new(0, DecodeErrorKind::LengthTooLarge { len: u32::MAX, available: 3 }));
    }

    #[test]
    fn zero_sized_elements_are_capped() {
        let ok = (MAX_ZERO_SIZED_ELEMENTS).to_le_bytes();
        assert_eq!(Reader::new(&ok).element_count(0).unwrap(), MAX_ZERO_SIZED_ELEMENTS as usize);
        let too_many = (MAX_ZERO_SIZED_ELEMENTS + 1).to_le_bytes();
        assert!(Reader::new(&too_many).element_count(0).is_err());
    }

    #[test]
    fn invalid_utf8_is_located_at_the_bad_byte() {
        let mut r = Reader::new(&[3, 0, 0, 0, b'a', 0xff, b'b']);
        assert_eq!(r.str().unwrap_err(), DecodeError::new(5, DecodeErrorKind::InvalidUtf8));
    }

    #[test]
    fn bool_and_tag_validate_their_byte() {
        assert_eq!(Reader::new(&[2]).bool().unwrap_err().kind, DecodeErrorKind::InvalidBool(2));
        assert_eq!(Reader::new(&[3]).tag(3).unwrap_err().kind, DecodeErrorKind::InvalidTag { tag: 3, variants: 3 });
        assert_eq!(Reader::new(&[2]).tag(3).unwrap(), 2);
    }
}
