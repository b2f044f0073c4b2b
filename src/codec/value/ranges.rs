//! Where each field of a BSATN product lies, found without decoding.
//!
//! Used to pull a row's primary key bytes out and to compare columns byte-wise. It follows the
//! structure (length prefixes, sum tags, nesting) with the same bounds checks as the decoder and
//! steps over fixed-size parts in one move, but it does not validate contents: a `bool` byte of 7
//! or a string that is not UTF-8 is only reported by the decoder.

use std::ops::Range;

use super::decode_error::{DecodeError, DecodeErrorKind};
use super::reader::Reader;
use super::sizes::primitive_size;
use super::types::{Field, TypeGraph, TypeNode, ValueType, MAX_DEPTH};

/// Appends the byte range of each of `fields` inside `bytes`, which must hold exactly one value of
/// the product. On error `ranges` is left as it was.
pub(crate) fn field_ranges(
    graph: &TypeGraph,
    fields: &[Field],
    bytes: &[u8],
    ranges: &mut Vec<Range<usize>>,
) -> Result<(), DecodeError> {
    let start_len = ranges.len();
    let mut reader = Reader::new(bytes);
    let result = fields
        .iter()
        .try_for_each(|field| {
            let start = reader.pos();
            skip_value(graph, field.ty, &mut reader, 1)?;
            ranges.push(start..reader.pos());
            Ok(())
        })
        .and_then(|()| reader.finish());
    if result.is_err() {
        ranges.truncate(start_len);
    }
    result
}

/// Moves `reader` past one value of type `ty`.
fn skip_value(graph: &TypeGraph, ty: ValueType, reader: &mut Reader<'_>, depth: usize) -> Result<(), DecodeError> {
    if let Some(size) = graph.fixed_size(ty) {
        return reader.skip(size as usize);
    }
    if depth > MAX_DEPTH {
        return Err(reader.error(DecodeErrorKind::TooDeep { limit: MAX_DEPTH }));
    }
    match graph.node(ty) {
        TypeNode::String | TypeNode::Bytes => {
            let len = reader.byte_len()?;
            reader.skip(len)
        }
        TypeNode::Array(elem) => {
            let count = reader.element_count(graph.min_size(*elem))?;
            match graph.fixed_size(*elem) {
                // `element_count` checked `count * size` against the input left, so this is exact.
                Some(size) => reader.skip(count.saturating_mul(size as usize)),
                None => (0..count).try_for_each(|_| skip_value(graph, *elem, reader, depth + 1)),
            }
        }
        TypeNode::Option(inner) => match reader.tag(2)? {
            0 => skip_value(graph, *inner, reader, depth + 1),
            _ => Ok(()),
        },
        TypeNode::Product(product) => {
            product.fields.iter().try_for_each(|field| skip_value(graph, field.ty, reader, depth + 1))
        }
        TypeNode::Sum(sum) => {
            let tag = reader.tag(sum.variants.len())?;
            skip_value(graph, sum.variants[tag].ty, reader, depth + 1)
        }
        // Every leaf has a fixed size, so this is only reached if the graph's sizes were not set.
        leaf => reader.skip(primitive_size(leaf).unwrap_or(0) as usize),
    }
}
