//! BSATN → JSON text, in one pass, straight into the caller's buffer.
//!
//! The decoder walks the compiled type and the bytes together and appends JSON as it goes: no
//! intermediate value tree, and no allocation besides the growth of the output buffer. Every read
//! is bounds-checked by [`Reader`], nesting is limited by [`MAX_DEPTH`], and an array's element
//! count is checked against the input left before its first element is read.

use std::io::Write as _;

use spacetimedb_sats::{i256, u256};

use super::decode_error::{DecodeError, DecodeErrorKind};
use super::json_text::write_json_string;
use super::reader::Reader;
use super::scalars::hex_text::{push_hex, push_uuid};
use super::scalars::numbers::{write_f32, write_f64, write_int, write_quoted_int};
use super::scalars::timestamp::write_timestamp;
use super::types::{TypeGraph, TypeNode, ValueType, MAX_DEPTH};

/// Appends the JSON of the value of type `ty` encoded in `bytes`, which must hold exactly that
/// value. On error `out` is left as it was.
pub(crate) fn bsatn_to_json(
    graph: &TypeGraph,
    ty: ValueType,
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    let start = out.len();
    let mut reader = Reader::new(bytes);
    let result = JsonWriter { graph, reader: &mut reader, out }.value(ty, 0).and_then(|()| reader.finish());
    if result.is_err() {
        out.truncate(start);
    }
    result
}

struct JsonWriter<'g, 'r, 'b> {
    graph: &'g TypeGraph,
    reader: &'r mut Reader<'b>,
    out: &'r mut Vec<u8>,
}

impl JsonWriter<'_, '_, '_> {
    fn value(&mut self, ty: ValueType, depth: usize) -> Result<(), DecodeError> {
        let r = &mut *self.reader;
        let out = &mut *self.out;
        match self.graph.node(ty) {
            TypeNode::Bool => out.extend_from_slice(if r.bool()? { b"true" } else { b"false" }),
            TypeNode::U8 => write_int(out, r.u8()?),
            TypeNode::U16 => write_int(out, u16::from_le_bytes(r.array()?)),
            TypeNode::U32 => write_int(out, u32::from_le_bytes(r.array()?)),
            TypeNode::I8 => write_int(out, i8::from_le_bytes(r.array()?)),
            TypeNode::I16 => write_int(out, i16::from_le_bytes(r.array()?)),
            TypeNode::I32 => write_int(out, i32::from_le_bytes(r.array()?)),
            TypeNode::U64 => write_quoted_int(out, u64::from_le_bytes(r.array()?)),
            TypeNode::I64 | TypeNode::TimeDuration => write_quoted_int(out, r.i64()?),
            TypeNode::U128 => write_quoted_int(out, u128::from_le_bytes(r.array()?)),
            TypeNode::I128 => write_quoted_int(out, i128::from_le_bytes(r.array()?)),
            // `io::Write` for `Vec<u8>` cannot fail; ethnum's `Display` is its decimal formatting.
            TypeNode::U256 => {
                let _ = write!(out, "\"{}\"", u256::from_le_bytes(r.array()?));
            }
            TypeNode::I256 => {
                let _ = write!(out, "\"{}\"", i256::from_le_bytes(r.array()?));
            }
            TypeNode::F32 => write_f32(out, f32::from_le_bytes(r.array()?)),
            TypeNode::F64 => write_f64(out, f64::from_le_bytes(r.array()?)),
            TypeNode::String => write_json_string(out, r.str()?),
            TypeNode::Bytes => {
                let len = r.byte_len()?;
                let bytes = r.take(len)?;
                quoted(out, |out| push_hex(out, bytes));
            }
            TypeNode::Identity => {
                let le: [u8; 32] = r.array()?;
                quoted(out, |out| push_hex(out, le.iter().rev()));
            }
            TypeNode::ConnectionId => {
                let le: [u8; 16] = r.array()?;
                quoted(out, |out| push_hex(out, le.iter().rev()));
            }
            TypeNode::Uuid => {
                let le: [u8; 16] = r.array()?;
                quoted(out, |out| push_uuid(out, &le));
            }
            TypeNode::Timestamp => {
                let micros = r.i64()?;
                quoted(out, |out| write_timestamp(out, micros));
            }
            composite => {
                if depth >= MAX_DEPTH {
                    return Err(r.error(DecodeErrorKind::TooDeep { limit: MAX_DEPTH }));
                }
                return self.composite(composite, depth + 1);
            }
        }
        Ok(())
    }

    fn composite(&mut self, node: &TypeNode, depth: usize) -> Result<(), DecodeError> {
        match node {
            TypeNode::Array(elem) => {
                let count = self.reader.element_count(self.graph.min_size(*elem))?;
                self.out.push(b'[');
                for i in 0..count {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(*elem, depth)?;
                }
                self.out.push(b']');
            }
            TypeNode::Option(inner) => match self.reader.tag(2)? {
                0 if matches!(self.graph.node(*inner), TypeNode::Option(_)) => {
                    // `some(none)` must not collapse into `none`: nested options keep a wrapper.
                    self.out.extend_from_slice(b"{\"some\":");
                    self.value(*inner, depth)?;
                    self.out.push(b'}');
                }
                0 => self.value(*inner, depth)?,
                _ => self.out.extend_from_slice(b"null"),
            },
            TypeNode::Product(product) => {
                self.out.push(b'{');
                for (i, field) in product.fields.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.out.extend_from_slice(&field.json_key);
                    self.value(field.ty, depth)?;
                }
                self.out.push(b'}');
            }
            TypeNode::Sum(sum) => {
                let variant = &sum.variants[self.reader.tag(sum.variants.len())?];
                self.out.extend_from_slice(&variant.json_open);
                // A unit payload is the empty product: no bytes, and `json_open` is complete.
                if !variant.is_unit {
                    self.value(variant.ty, depth)?;
                    self.out.push(b'}');
                }
            }
            // Leaves are written by `value`.
            _ => {}
        }
        Ok(())
    }
}

/// Wraps what `write` appends in double quotes (for text that never needs escaping).
fn quoted(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    out.push(b'"');
    write(out);
    out.push(b'"');
}
