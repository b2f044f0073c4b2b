//! Errors of encoding a JSON value: what was wrong, where inside the value, and at which type.
//!
//! The encoder records the path only while an error unwinds (each level pushes its segment on the
//! way out), so successful encodes pay nothing for it. The message is worded by the caller's
//! [`Subject`]: a reducer's argument or a table's column.

use std::fmt::Write as _;

use serde_json::Value;

use super::json_text::describe_json;
use super::type_name::type_name;
use super::types::{TypeGraph, ValueType};
use crate::error::GatewayError;

/// What was wrong with a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The value has the wrong JSON kind or form: `expected <expected>, got <got>`.
    Expected { expected: &'static str, got: String },
    /// Any other complete sentence (out of range, loses precision, bad timestamp text).
    Message(String),
    /// An object lacks a field of the product.
    MissingField(Box<str>),
    /// An object has a key that is not a field of the product.
    UnknownField(String),
    /// An array given for a product has the wrong number of elements.
    WrongLength { expected: usize, got: usize },
    /// The value is nested deeper than the encoder follows.
    TooDeep,
}

impl Problem {
    /// `expected <expected>, got <the value>`.
    pub(crate) fn expected(expected: &'static str, got: &Value) -> Self {
        Problem::Expected { expected, got: describe_json(got) }
    }
}

/// One step of the path from the encoded value's root to the offending part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathSegment {
    Key(Box<str>),
    Index(usize),
}

/// A failed encode: the problem, the type expected where it happened, and the path there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncodeError {
    /// Innermost segment first while unwinding; see [`EncodeError::within`].
    path_reversed: Vec<PathSegment>,
    ty: ValueType,
    problem: Problem,
}

/// Whose value failed to encode, for the wording of the message.
pub(crate) enum Subject<'a> {
    /// The argument list of a reducer; the root type is the parameter product.
    ReducerArgs { reducer: &'a str },
    /// One column of a table.
    Column { table: &'a str, column: &'a str },
}

impl EncodeError {
    pub(crate) fn new(ty: ValueType, problem: Problem) -> Self {
        EncodeError { path_reversed: Vec::new(), ty, problem }
    }

    /// Adds the segment of the enclosing level as the error leaves it.
    pub(crate) fn within(mut self, segment: PathSegment) -> Self {
        self.path_reversed.push(segment);
        self
    }

    /// The user-facing `INVALID_ARGUMENT` error, e.g.
    /// `insert_all_types: argument 'row' at .address.geo.lat (f64): expected a number, got "x"`.
    pub(crate) fn into_gateway_error(self, graph: &TypeGraph, subject: Subject<'_>) -> GatewayError {
        let mut path: Vec<PathSegment> = self.path_reversed;
        path.reverse();
        let mut message = String::new();
        match subject {
            Subject::ReducerArgs { reducer } => {
                message.push_str(reducer);
                message.push_str(": ");
                if path.is_empty() {
                    message.push_str(&args_problem(&self.problem, graph, self.ty));
                    return GatewayError::invalid_argument(message);
                }
                let argument = path.remove(0);
                let _ = write!(message, "argument '{}'", segment_text(&argument));
            }
            Subject::Column { table, column } => {
                let _ = write!(message, "{table}: column '{column}'");
            }
        }
        if !path.is_empty() {
            message.push_str(" at ");
            for segment in &path {
                match segment {
                    PathSegment::Key(key) => {
                        let _ = write!(message, ".{key}");
                    }
                    PathSegment::Index(index) => {
                        let _ = write!(message, "[{index}]");
                    }
                }
            }
        }
        let _ = write!(message, " ({}): {}", type_name(graph, self.ty), problem_text(&self.problem, graph, self.ty));
        GatewayError::invalid_argument(message)
    }
}

fn segment_text(segment: &PathSegment) -> String {
    match segment {
        PathSegment::Key(key) => key.to_string(),
        PathSegment::Index(index) => index.to_string(),
    }
}

/// The comma-separated field names of a product type (empty for other types).
fn field_list(graph: &TypeGraph, ty: ValueType) -> String {
    let fields = graph.product_fields(ty).unwrap_or_default();
    fields.iter().map(|f| &*f.key).collect::<Vec<_>>().join(", ")
}

/// A problem inside a value, worded for fields.
fn problem_text(problem: &Problem, graph: &TypeGraph, ty: ValueType) -> String {
    match problem {
        Problem::Expected { expected, got } => format!("expected {expected}, got {got}"),
        Problem::Message(message) => message.clone(),
        Problem::MissingField(field) => format!("missing field '{field}'"),
        Problem::UnknownField(key) => format!("unknown field '{key}' (fields: {})", field_list(graph, ty)),
        Problem::WrongLength { expected, got } => format!("expected an array of {expected} fields, got {got}"),
        Problem::TooDeep => format!("nested deeper than {} levels", super::types::MAX_DEPTH),
    }
}

/// A problem with the argument list as a whole, worded for parameters.
fn args_problem(problem: &Problem, graph: &TypeGraph, params: ValueType) -> String {
    let names = match field_list(graph, params) {
        list if list.is_empty() => "none".to_owned(),
        list => list,
    };
    match problem {
        Problem::Expected { got, .. } => {
            format!("expected the arguments as an array or an object keyed by parameter name ({names}), got {got}")
        }
        Problem::MissingField(name) => format!("missing argument '{name}' (parameters: {names})"),
        Problem::UnknownField(name) => format!("unknown argument '{name}' (parameters: {names})"),
        Problem::WrongLength { expected, got } => {
            format!("expected {expected} argument{} ({names}), got {got}", if *expected == 1 { "" } else { "s" })
        }
        other => problem_text(other, graph, params),
    }
}
