//! Readable type names, as `gateway.schema()` shows them and error messages quote them:
//! `u64`, `String`, `Identity`, `Option<String>`, `Vec<u8>`, `Vec<Shape>`, a named type by its
//! schema name (`Color`), and anonymous products and sums spelled out
//! (`{ x: f64, y: f64 }`, `enum { A, B(u32) }`).

use super::types::{TypeGraph, TypeNode, ValueType, MAX_DEPTH};

/// The readable name of `ty`.
pub(crate) fn type_name(graph: &TypeGraph, ty: ValueType) -> String {
    let mut out = String::new();
    let mut open = Vec::new();
    write_type_name(graph, ty, &mut out, &mut open);
    out
}

/// Writes the name of `ty`; `open` holds the anonymous types being spelled out around it, so an
/// anonymous recursive type prints `…` where it refers to itself instead of looping.
fn write_type_name(graph: &TypeGraph, ty: ValueType, out: &mut String, open: &mut Vec<ValueType>) {
    if let Some(name) = graph.name(ty) {
        out.push_str(name);
        return;
    }
    if let Some(leaf) = leaf_name(graph.node(ty)) {
        out.push_str(leaf);
        return;
    }
    if open.contains(&ty) || open.len() >= MAX_DEPTH {
        out.push('…');
        return;
    }
    open.push(ty);
    match graph.node(ty) {
        TypeNode::Array(inner) | TypeNode::Option(inner) => {
            out.push_str(if matches!(graph.node(ty), TypeNode::Array(_)) { "Vec<" } else { "Option<" });
            write_type_name(graph, *inner, out, open);
            out.push('>');
        }
        TypeNode::Product(product) if product.fields.is_empty() => out.push_str("()"),
        TypeNode::Product(product) => {
            out.push_str("{ ");
            write_separated(out, &product.fields, |out, field| {
                out.push_str(&field.key);
                out.push_str(": ");
                write_type_name(graph, field.ty, out, open);
            });
            out.push_str(" }");
        }
        TypeNode::Sum(sum) => {
            out.push_str("enum { ");
            write_separated(out, &sum.variants, |out, variant| {
                out.push_str(&variant.name);
                if !variant.is_unit {
                    out.push('(');
                    write_type_name(graph, variant.ty, out, open);
                    out.push(')');
                }
            });
            out.push_str(" }");
        }
        // Leaves returned above.
        _ => {}
    }
    open.pop();
}

/// Writes `items` separated by `, `.
fn write_separated<T>(out: &mut String, items: &[T], mut write_item: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_item(out, item);
    }
}

/// The name of a non-composite type; `None` for arrays, options, products and sums.
fn leaf_name(node: &TypeNode) -> Option<&'static str> {
    Some(match node {
        TypeNode::Bool => "bool",
        TypeNode::U8 => "u8",
        TypeNode::U16 => "u16",
        TypeNode::U32 => "u32",
        TypeNode::U64 => "u64",
        TypeNode::U128 => "u128",
        TypeNode::U256 => "u256",
        TypeNode::I8 => "i8",
        TypeNode::I16 => "i16",
        TypeNode::I32 => "i32",
        TypeNode::I64 => "i64",
        TypeNode::I128 => "i128",
        TypeNode::I256 => "i256",
        TypeNode::F32 => "f32",
        TypeNode::F64 => "f64",
        TypeNode::String => "String",
        TypeNode::Bytes => "Vec<u8>",
        TypeNode::Identity => "Identity",
        TypeNode::ConnectionId => "ConnectionId",
        TypeNode::Timestamp => "Timestamp",
        TypeNode::TimeDuration => "TimeDuration",
        TypeNode::Uuid => "Uuid",
        TypeNode::Array(_) | TypeNode::Option(_) | TypeNode::Product(_) | TypeNode::Sum(_) => return None,
    })
}
