//! The compiled type graph: a schema's `AlgebraicType`s turned, once per schema, into nodes the
//! codec can walk without looking anything up.
//!
//! Compilation resolves `Ref`s to node handles (so recursive types are cycles in the graph, not
//! infinite trees), recognises SpacetimeDB's special types by shape, and precomputes what the hot
//! paths need: JSON keys already escaped, enum tags already rendered, and byte sizes for skipping.

use std::sync::Arc;

use spacetimedb_sats::{AlgebraicType, ProductType, SumType};

use super::json_text::write_json_string;
use super::sizes::{fixed_sizes, min_sizes};

/// Deepest nesting of products, sums, options and arrays the codec follows. Deeper values are
/// rejected instead of risking a stack overflow on hostile or corrupt input.
pub const MAX_DEPTH: usize = 128;

/// Handle of one type inside a schema's compiled types (see [`crate::codec::Schema`]).
///
/// Only meaningful together with the schema it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ValueType(pub(crate) u32);

impl ValueType {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// One compiled type.
#[derive(Clone, Debug)]
pub(crate) enum TypeNode {
    Bool,
    U8,
    U16,
    U32,
    U64,
    U128,
    U256,
    I8,
    I16,
    I32,
    I64,
    I128,
    I256,
    F32,
    F64,
    String,
    /// `Array(U8)`, mapped to a hex string rather than an array of numbers.
    Bytes,
    /// `{__identity__: U256}`.
    Identity,
    /// `{__connection_id__: U128}`.
    ConnectionId,
    /// `{__timestamp_micros_since_unix_epoch__: I64}`.
    Timestamp,
    /// `{__time_duration_micros__: I64}`.
    TimeDuration,
    /// `{__uuid__: U128}` (SpacetimeDB 2.x).
    Uuid,
    Array(ValueType),
    /// A sum with exactly the variants `some(T)`, `none` (in that order, so `some` is tag 0).
    Option(ValueType),
    Product(ProductNode),
    Sum(SumNode),
}

/// A product (struct) type.
#[derive(Clone, Debug)]
pub(crate) struct ProductNode {
    pub(crate) fields: Box<[Field]>,
}

/// One field of a product.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    /// The JSON key: the field name, or its index for unnamed fields.
    pub(crate) key: Box<str>,
    /// `"key":`, escaped once here instead of once per decoded row.
    pub(crate) json_key: Box<[u8]>,
    pub(crate) ty: ValueType,
}

/// A sum (enum) type other than `Option`.
#[derive(Clone, Debug)]
pub(crate) struct SumNode {
    pub(crate) variants: Box<[Variant]>,
    /// Every variant is unit: values map to the bare variant name.
    pub(crate) all_unit: bool,
}

/// One variant of a sum.
#[derive(Clone, Debug)]
pub(crate) struct Variant {
    /// The variant name, or its tag for unnamed variants.
    pub(crate) name: Box<str>,
    pub(crate) ty: ValueType,
    /// The payload is the empty product.
    pub(crate) is_unit: bool,
    /// The JSON text that opens this variant's value: `"Name"` in an all-unit enum, `{"tag":"Name"}`
    /// for a unit variant of a mixed enum, and `{"tag":"Name","value":` (closed by the decoder
    /// after the payload) otherwise.
    pub(crate) json_open: Box<[u8]>,
}

/// A schema's compiled types. Immutable once built, shared by every table and reducer of the
/// schema (behind an `Arc`).
#[derive(Debug)]
pub struct TypeGraph {
    nodes: Vec<TypeNode>,
    /// The schema's name for a node (from the module's `types` list), if it has one.
    names: Vec<Option<Arc<str>>>,
    /// A lower bound of the BSATN size of any value of the node, to reject impossible array lengths.
    min_sizes: Vec<u32>,
    /// The BSATN size of every value of the node, when it is the same for all values.
    fixed_sizes: Vec<Option<u32>>,
}

impl TypeGraph {
    pub(crate) fn node(&self, ty: ValueType) -> &TypeNode {
        &self.nodes[ty.index()]
    }

    pub(crate) fn name(&self, ty: ValueType) -> Option<&str> {
        self.names[ty.index()].as_deref()
    }

    pub(crate) fn min_size(&self, ty: ValueType) -> u32 {
        self.min_sizes[ty.index()]
    }

    pub(crate) fn fixed_size(&self, ty: ValueType) -> Option<u32> {
        self.fixed_sizes[ty.index()]
    }

    /// The fields of a product type, or `None` for other types.
    pub(crate) fn product_fields(&self, ty: ValueType) -> Option<&[Field]> {
        match self.node(ty) {
            TypeNode::Product(product) => Some(&product.fields),
            _ => None,
        }
    }
}

/// Builds a [`TypeGraph`] from a typespace: first the typespace entries (so `Ref(n)` is node `n`),
/// then any further inline types added with [`TypeGraphBuilder::add`].
pub(crate) struct TypeGraphBuilder<'a> {
    typespace: &'a [AlgebraicType],
    /// For each typespace entry, the entry it finally names after following `Ref` chains.
    canonical: Vec<u32>,
    nodes: Vec<Option<TypeNode>>,
}

impl<'a> TypeGraphBuilder<'a> {
    /// Compiles every typespace entry. Fails on dangling refs and on cycles made only of refs.
    pub(crate) fn new(typespace: &'a [AlgebraicType]) -> Result<Self, String> {
        let canonical = (0..typespace.len()).map(|i| follow_refs(typespace, i)).collect::<Result<Vec<_>, _>>()?;
        let mut builder = TypeGraphBuilder { typespace, canonical, nodes: vec![None; typespace.len()] };
        for (index, ty) in typespace.iter().enumerate() {
            if !matches!(ty, AlgebraicType::Ref(_)) {
                builder.nodes[index] = Some(builder.compile_node(ty)?);
            }
        }
        // An entry that only names another entry compiles to a copy of it, so handles stay indices.
        for index in 0..typespace.len() {
            if builder.nodes[index].is_none() {
                builder.nodes[index] = builder.nodes[builder.canonical[index] as usize].clone();
            }
        }
        Ok(builder)
    }

    /// Compiles a type (typically an inline one, e.g. a reducer parameter) and returns its handle.
    pub(crate) fn add(&mut self, ty: &AlgebraicType) -> Result<ValueType, String> {
        if let AlgebraicType::Ref(r) = ty {
            return self.resolve_ref(r.idx());
        }
        let node = self.compile_node(ty)?;
        Ok(self.push(node))
    }

    /// Compiles a product type given inline (a reducer's parameter list).
    pub(crate) fn add_product(&mut self, product: &ProductType) -> Result<ValueType, String> {
        let node = self.compile_product(product)?;
        Ok(self.push(node))
    }

    fn push(&mut self, node: TypeNode) -> ValueType {
        self.nodes.push(Some(node));
        ValueType((self.nodes.len() - 1) as u32)
    }

    /// The handle of typespace entry `index`.
    pub(crate) fn resolve_ref(&self, index: usize) -> Result<ValueType, String> {
        match self.canonical.get(index) {
            Some(&target) => Ok(ValueType(target)),
            None => Err(format!("type reference {index} is outside the typespace ({} types)", self.typespace.len())),
        }
    }

    /// Finishes the graph; `names` are the module's `(typespace index, type name)` pairs.
    pub(crate) fn finish(self, names: &[(usize, String)]) -> Result<TypeGraph, String> {
        let nodes = self
            .nodes
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "internal: a typespace entry was not compiled".to_owned())?;
        let mut node_names: Vec<Option<Arc<str>>> = vec![None; nodes.len()];
        for (index, name) in names {
            let target = *self
                .canonical
                .get(*index)
                .ok_or_else(|| format!("type name {name} refers to type {index}, outside the typespace"))?
                as usize;
            node_names[target].get_or_insert_with(|| Arc::from(name.as_str()));
        }
        let min_sizes = min_sizes(&nodes);
        let fixed_sizes = fixed_sizes(&nodes);
        Ok(TypeGraph { nodes, names: node_names, min_sizes, fixed_sizes })
    }

    /// Follows refs in the raw typespace, for shape checks that must look through them.
    fn resolve_raw<'t>(&'t self, ty: &'t AlgebraicType) -> Option<&'t AlgebraicType> {
        match ty {
            AlgebraicType::Ref(r) => self.canonical.get(r.idx()).map(|&i| &self.typespace[i as usize]),
            other => Some(other),
        }
    }

    fn is_unit(&self, ty: &AlgebraicType) -> bool {
        matches!(self.resolve_raw(ty), Some(AlgebraicType::Product(p)) if p.elements.is_empty())
    }

    /// Compiles one type, adding nodes for the types nested in it. This recursion follows only the
    /// inline nesting of the schema JSON (refs become handles), which the JSON parser already
    /// limits to 128 levels.
    fn compile_node(&mut self, ty: &AlgebraicType) -> Result<TypeNode, String> {
        Ok(match ty {
            // Callers resolve refs to handles (`add`, `new`); a ref never becomes a node of its own.
            AlgebraicType::Ref(r) => return Err(format!("internal: type reference {} compiled as a node", r.idx())),
            AlgebraicType::Bool => TypeNode::Bool,
            AlgebraicType::U8 => TypeNode::U8,
            AlgebraicType::U16 => TypeNode::U16,
            AlgebraicType::U32 => TypeNode::U32,
            AlgebraicType::U64 => TypeNode::U64,
            AlgebraicType::U128 => TypeNode::U128,
            AlgebraicType::U256 => TypeNode::U256,
            AlgebraicType::I8 => TypeNode::I8,
            AlgebraicType::I16 => TypeNode::I16,
            AlgebraicType::I32 => TypeNode::I32,
            AlgebraicType::I64 => TypeNode::I64,
            AlgebraicType::I128 => TypeNode::I128,
            AlgebraicType::I256 => TypeNode::I256,
            AlgebraicType::F32 => TypeNode::F32,
            AlgebraicType::F64 => TypeNode::F64,
            AlgebraicType::String => TypeNode::String,
            AlgebraicType::Array(array) => match self.resolve_raw(&array.elem_ty) {
                Some(AlgebraicType::U8) => TypeNode::Bytes,
                _ => TypeNode::Array(self.add(&array.elem_ty)?),
            },
            AlgebraicType::Product(product) => match self.special_product(product) {
                Some(special) => special,
                None => self.compile_product(product)?,
            },
            AlgebraicType::Sum(sum) => self.compile_sum(sum)?,
        })
    }

    /// Recognises Identity, ConnectionId, Timestamp, TimeDuration and Uuid: one-field products whose
    /// field has the reserved name and the expected primitive type.
    fn special_product(&self, product: &ProductType) -> Option<TypeNode> {
        let [element] = &*product.elements else { return None };
        let name: &str = element.name.as_deref()?;
        let ty = self.resolve_raw(&element.algebraic_type)?;
        match (name, ty) {
            ("__identity__", AlgebraicType::U256) => Some(TypeNode::Identity),
            ("__connection_id__", AlgebraicType::U128) => Some(TypeNode::ConnectionId),
            ("__timestamp_micros_since_unix_epoch__", AlgebraicType::I64) => Some(TypeNode::Timestamp),
            ("__time_duration_micros__", AlgebraicType::I64) => Some(TypeNode::TimeDuration),
            ("__uuid__", AlgebraicType::U128) => Some(TypeNode::Uuid),
            _ => None,
        }
    }

    fn compile_product(&mut self, product: &ProductType) -> Result<TypeNode, String> {
        let mut fields = Vec::with_capacity(product.elements.len());
        for (index, element) in product.elements.iter().enumerate() {
            let key: Box<str> = match element.name.as_deref() {
                Some(name) => name.into(),
                None => index.to_string().into(),
            };
            let mut json_key = Vec::with_capacity(key.len() + 3);
            write_json_string(&mut json_key, &key);
            json_key.push(b':');
            let ty = self.add(&element.algebraic_type)?;
            fields.push(Field { key, json_key: json_key.into(), ty });
        }
        Ok(TypeNode::Product(ProductNode { fields: fields.into() }))
    }

    fn compile_sum(&mut self, sum: &SumType) -> Result<TypeNode, String> {
        if let [some, none] = &*sum.variants {
            if some.has_name("some") && none.has_name("none") && self.is_unit(&none.algebraic_type) {
                return Ok(TypeNode::Option(self.add(&some.algebraic_type)?));
            }
        }
        if sum.variants.len() > 256 {
            return Err(format!("an enum has {} variants; BSATN tags are one byte", sum.variants.len()));
        }
        let all_unit = sum.variants.iter().all(|v| self.is_unit(&v.algebraic_type));
        let mut variants = Vec::with_capacity(sum.variants.len());
        for (tag, variant) in sum.variants.iter().enumerate() {
            let name: Box<str> = match variant.name.as_deref() {
                Some(name) => name.into(),
                None => tag.to_string().into(),
            };
            let is_unit = self.is_unit(&variant.algebraic_type);
            let mut json_open = Vec::new();
            if all_unit {
                write_json_string(&mut json_open, &name);
            } else {
                json_open.extend_from_slice(b"{\"tag\":");
                write_json_string(&mut json_open, &name);
                json_open.extend_from_slice(if is_unit { b"}" } else { b",\"value\":" });
            }
            let ty = self.add(&variant.algebraic_type)?;
            variants.push(Variant { name, ty, is_unit, json_open: json_open.into() });
        }
        Ok(TypeNode::Sum(SumNode { variants: variants.into(), all_unit }))
    }
}

/// Follows `Ref` entries from typespace entry `start` to the first entry that is not a `Ref`.
fn follow_refs(typespace: &[AlgebraicType], start: usize) -> Result<u32, String> {
    let mut index = start;
    // A chain longer than the typespace must revisit an entry: a cycle of bare refs.
    for _ in 0..=typespace.len() {
        match typespace.get(index) {
            Some(AlgebraicType::Ref(r)) => index = r.idx(),
            Some(_) => return Ok(index as u32),
            None => return Err(format!("type reference {index} is outside the typespace ({} types)", typespace.len())),
        }
    }
    Err(format!("type {start} is a cycle of references with no type in it"))
}
