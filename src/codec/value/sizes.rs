//! Byte sizes of compiled types, computed once per schema.
//!
//! Both computations iterate to a fixed point over the whole graph instead of recursing, because
//! types can be recursive (cycles) and deeply nested (long chains), and a schema must not be able
//! to overflow the stack or take exponential time.

use super::types::{TypeNode, ValueType};

/// Rounds of [`min_sizes`]. Every round yields valid lower bounds, so stopping early only makes
/// the bound looser; it also stops types that cannot have values (`struct A { a: A }`) from
/// growing forever.
const MIN_SIZE_ROUNDS: usize = 64;

/// A lower bound of the BSATN size of every value of each node. Array decoding uses it to reject
/// element counts the remaining input cannot hold.
pub(crate) fn min_sizes(nodes: &[TypeNode]) -> Vec<u32> {
    let mut sizes = vec![0u32; nodes.len()];
    for _ in 0..MIN_SIZE_ROUNDS {
        let mut changed = false;
        for (index, node) in nodes.iter().enumerate() {
            // Monotone in `sizes`, which start at 0: estimates only grow and stay lower bounds.
            let size = min_size_of(node, &sizes);
            if size > sizes[index] {
                sizes[index] = size;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    sizes
}

fn min_size_of(node: &TypeNode, sizes: &[u32]) -> u32 {
    let size_of = |ty: ValueType| sizes[ty.index()];
    match node {
        TypeNode::Product(p) => p.fields.iter().fold(0u32, |sum, f| sum.saturating_add(size_of(f.ty))),
        TypeNode::Sum(s) => 1u32.saturating_add(s.variants.iter().map(|v| size_of(v.ty)).min().unwrap_or(0)),
        // `none` is the tag alone.
        TypeNode::Option(_) => 1,
        // The length prefix: strings and arrays may be empty.
        TypeNode::String | TypeNode::Bytes | TypeNode::Array(_) => 4,
        leaf => primitive_size(leaf).unwrap_or(0),
    }
}

/// Whether a node's values all have one size, as far as known so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fixed {
    Unknown,
    Size(u32),
    Variable,
}

/// The BSATN size shared by all values of each node, or `None` when values differ in size. Lets
/// [`crate::codec::TableDef::column_ranges`] skip fixed-size columns in one step.
pub(crate) fn fixed_sizes(nodes: &[TypeNode]) -> Vec<Option<u32>> {
    let mut state = vec![Fixed::Unknown; nodes.len()];
    // Each productive round decides at least one node, so this ends after at most `nodes.len()`
    // rounds. Nodes still unknown at the end only depend on each other: recursive types.
    loop {
        let mut changed = false;
        for (index, node) in nodes.iter().enumerate() {
            if state[index] == Fixed::Unknown {
                let decided = fixed_size_of(node, &state);
                if decided != Fixed::Unknown {
                    state[index] = decided;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    state.into_iter().map(|s| if let Fixed::Size(size) = s { Some(size) } else { None }).collect()
}

fn fixed_size_of(node: &TypeNode, state: &[Fixed]) -> Fixed {
    if let Some(size) = primitive_size(node) {
        return Fixed::Size(size);
    }
    let children: Vec<Fixed> = match node {
        TypeNode::Product(p) => p.fields.iter().map(|f| state[f.ty.index()]).collect(),
        TypeNode::Sum(s) => s.variants.iter().map(|v| state[v.ty.index()]).collect(),
        _ => return Fixed::Variable,
    };
    if children.contains(&Fixed::Variable) {
        return Fixed::Variable;
    }
    let mut sizes = Vec::with_capacity(children.len());
    for child in children {
        match child {
            Fixed::Size(size) => sizes.push(size),
            _ => return Fixed::Unknown,
        }
    }
    let total = match node {
        TypeNode::Product(_) => sizes.iter().try_fold(0u32, |sum, &size| sum.checked_add(size)),
        // A sum is fixed only if every payload has the same size (and it has a variant at all).
        _ => match sizes.split_first() {
            Some((&first, rest)) if rest.iter().all(|&s| s == first) => first.checked_add(1),
            _ => None,
        },
    };
    total.map_or(Fixed::Variable, Fixed::Size)
}

/// The size of fixed-width leaf types; `None` for composite and variable-length ones.
pub(crate) fn primitive_size(node: &TypeNode) -> Option<u32> {
    Some(match node {
        TypeNode::Bool | TypeNode::U8 | TypeNode::I8 => 1,
        TypeNode::U16 | TypeNode::I16 => 2,
        TypeNode::U32 | TypeNode::I32 | TypeNode::F32 => 4,
        TypeNode::U64 | TypeNode::I64 | TypeNode::F64 | TypeNode::Timestamp | TypeNode::TimeDuration => 8,
        TypeNode::U128 | TypeNode::I128 | TypeNode::ConnectionId | TypeNode::Uuid => 16,
        TypeNode::U256 | TypeNode::I256 | TypeNode::Identity => 32,
        _ => return None,
    })
}
