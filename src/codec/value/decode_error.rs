//! The error of reading BSATN that does not match its schema type.

use std::fmt;

use crate::error::GatewayError;

/// BSATN bytes that cannot be read as the expected type: truncated, trailing or garbage input.
///
/// `offset` is the byte position inside the decoded buffer where the problem was found, so a
/// protocol bug can be located in a hex dump of the row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the input at which decoding failed.
    pub offset: usize,
    /// What was wrong there.
    pub kind: DecodeErrorKind,
}

/// What was wrong with the bytes at [`DecodeError::offset`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input ended before the value did.
    UnexpectedEnd {
        /// Bytes the next read needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A length prefix announces more elements or bytes than the rest of the input can hold.
    LengthTooLarge {
        /// The announced length (elements of an array, bytes of a string).
        len: u32,
        /// Bytes that were left after the prefix.
        available: usize,
    },
    /// A `bool` byte that is neither 0 nor 1.
    InvalidBool(u8),
    /// A sum (enum) tag without a variant.
    InvalidTag {
        /// The tag read.
        tag: u8,
        /// How many variants the type has.
        variants: usize,
    },
    /// A string whose bytes are not UTF-8.
    InvalidUtf8,
    /// The value ended before the input did.
    TrailingBytes {
        /// Bytes left over.
        count: usize,
    },
    /// Values nested deeper than the decoder follows (a hostile or corrupt recursive value).
    TooDeep {
        /// The nesting limit, [`crate::codec::value::MAX_DEPTH`].
        limit: usize,
    },
}

impl DecodeError {
    pub(crate) fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError { offset, kind }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::UnexpectedEnd { needed, available } => {
                write!(f, "input ends early: {needed} bytes needed, {available} left")
            }
            DecodeErrorKind::LengthTooLarge { len, available } => {
                write!(f, "length prefix {len} exceeds the {available} bytes left")
            }
            DecodeErrorKind::InvalidBool(byte) => write!(f, "invalid bool byte {byte}"),
            DecodeErrorKind::InvalidTag { tag, variants } => {
                write!(f, "enum tag {tag} out of range ({variants} variants)")
            }
            DecodeErrorKind::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            DecodeErrorKind::TrailingBytes { count } => write!(f, "{count} trailing bytes after the value"),
            DecodeErrorKind::TooDeep { limit } => write!(f, "value nested deeper than {limit} levels"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid BSATN at byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for GatewayError {
    /// Undecodable bytes come from the server, so they are a protocol error, not the caller's fault.
    fn from(err: DecodeError) -> Self {
        GatewayError::protocol(err.to_string())
    }
}
