//! A module's schema, read at run time from `GET /v1/database/:db/schema?version=10` (2.x) or
//! `?version=9` (1.x, see [`super::module_def`]): its tables, event tables and views (with the codec for
//! their rows), its reducers and procedures (with the encoders for their arguments), for any module,
//! without generated code.

use std::ops::Range;
use std::sync::Arc;

use serde_json::{json, Value};

use super::module_def::{ModuleDef, ModuleDefVersion, RawTable, RawView};
use super::value::decode::bsatn_to_json;
use super::value::encode::json_to_bsatn;
use super::value::encode_error::Subject;
use super::value::ranges::field_ranges;
use super::value::type_name::type_name;
use super::value::types::{TypeGraph, TypeGraphBuilder, TypeNode};
use super::value::{DecodeError, ValueType};
use crate::error::GatewayError;

/// A module's tables, views, reducers and procedures. Cheap to share: clone it or put it in an `Arc`;
/// every table and reducer refers to one compiled type graph.
#[derive(Clone, Debug)]
pub struct Schema {
    /// The module-definition version it was read from: only a V10 says which tables are event tables.
    pub version: ModuleDefVersion,
    /// The tables, in the schema's order (including private ones: visibility is decided by the
    /// server when subscribing), then the module's views (SpacetimeDB 2.x): both are subscribed to by
    /// name and their rows decoded alike; [`TableDef::kind`] tells them apart.
    pub tables: Vec<TableDef>,
    /// The reducers, in the schema's order (including lifecycle reducers, which are not callable).
    pub reducers: Vec<ReducerDef>,
    /// The procedures (SpacetimeDB 2.x), in the schema's order.
    pub procedures: Vec<ProcedureDef>,
}

/// A procedure: its parameters, the encoder for its arguments and the decoder for its return value.
#[derive(Clone, Debug)]
pub struct ProcedureDef {
    /// The procedure name used to call it.
    pub name: String,
    /// The parameters, in call order.
    pub params: Vec<ColumnDef>,
    /// The readable return type.
    pub returns: String,
    params_type: ValueType,
    return_type: ValueType,
    types: Arc<TypeGraph>,
}

/// What a [`TableDef`] stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// A table: its rows are state (the projection keeps them).
    Table,
    /// An event table (SpacetimeDB 2.x, known from a V10 definition): its rows exist only in the
    /// transaction that inserted them and reach `v2`/`v3` subscribers as events, never as state; a `v1`
    /// connection may not subscribe to it ("Subscribing to event tables requires WebSocket v2",
    /// `crates/core/src/subscription/module_subscription_actor.rs`, v2.8.3).
    Event,
    /// A view (SpacetimeDB 2.x): subscribed to like a table; its rows are the view's return rows.
    View(ViewFacts),
}

/// The facts of a view beyond its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewFacts {
    /// Computed for each subscriber's identity (`ViewContext::sender`), not once for everyone
    /// (`AnonymousViewContext`). A gateway's service connection sees it as computed for the service's
    /// own identity.
    pub per_caller: bool,
    /// The view's parameters (none for views the 2.x bindings can declare today).
    pub params: Vec<ColumnDef>,
}

/// A table or view: its columns, in BSATN row order, and the row codec.
#[derive(Clone, Debug)]
pub struct TableDef {
    /// The table name used in SQL and in row updates.
    pub name: String,
    /// The columns, in row order.
    pub columns: Vec<ColumnDef>,
    /// The index in `columns` of the primary key column, if the table has one.
    pub primary_key: Option<usize>,
    /// Whether clients other than the owner can read the table.
    pub public: bool,
    /// A table, an event table or a view.
    pub kind: TableKind,
    row: ValueType,
    types: Arc<TypeGraph>,
}

/// A column of a table or a parameter of a reducer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnDef {
    /// The column or parameter name (its index, for an unnamed element).
    pub name: String,
    /// The compiled type, for the codec.
    pub ty: ValueType,
    /// The readable type (`u64`, `Option<String>`, `Shape`), as [`Schema::describe`] shows it.
    pub type_name: String,
}

/// A reducer: its parameters and the encoder for its arguments.
#[derive(Clone, Debug)]
pub struct ReducerDef {
    /// The reducer name used to call it.
    pub name: String,
    /// The parameters, in call order.
    pub params: Vec<ColumnDef>,
    /// An `init`, client-connected or client-disconnected reducer (or, in a V10 definition, one not
    /// `ClientCallable`): run by the server, not callable by clients.
    pub lifecycle: bool,
    params_type: ValueType,
    types: Arc<TypeGraph>,
}

impl Schema {
    /// Reads the JSON of `GET /v1/database/:db/schema?version=10` or `?version=9` (SATS-JSON of
    /// `RawModuleDefV10` or `RawModuleDefV9`, told apart by shape).
    ///
    /// Fails with `PROTOCOL` if the text is not such a schema or its types are inconsistent
    /// (dangling type references, a table row type that is not a product, composite primary keys).
    pub fn from_json(text: &str) -> Result<Schema, GatewayError> {
        let malformed = |e: String| GatewayError::protocol(format!("malformed module schema: {e}"));
        Schema::from_def(ModuleDef::from_json(text).map_err(malformed)?).map_err(malformed)
    }

    /// A schema from SpacetimeDB's own V9 type (tests build modules with its builder).
    #[cfg(test)]
    pub(crate) fn from_raw(raw: &spacetimedb_lib::db::raw_def::v9::RawModuleDefV9) -> Result<Schema, String> {
        Schema::from_def(ModuleDef::from_v9(raw.clone()))
    }

    pub(crate) fn from_def(def: ModuleDef) -> Result<Schema, String> {
        let mut builder = TypeGraphBuilder::new(&def.types)?;
        let table_rows =
            def.tables.iter().map(|table| builder.resolve_ref(table.row.idx())).collect::<Result<Vec<_>, _>>()?;
        let views = def
            .views
            .iter()
            .map(|view| Ok((view, builder.add(&view.return_type)?, builder.add_product(&view.params)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let reducer_params =
            def.reducers.iter().map(|reducer| builder.add_product(&reducer.params)).collect::<Result<Vec<_>, _>>()?;
        let procedures = def
            .procedures
            .iter()
            .map(|p| Ok((p, builder.add_product(&p.params)?, builder.add(&p.return_type)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let types = Arc::new(builder.finish(&def.type_names)?);

        let mut tables = def
            .tables
            .iter()
            .zip(table_rows)
            .map(|(table, row)| TableDef::new(table, row, &types))
            .collect::<Result<Vec<_>, _>>()?;
        for (view, return_type, params) in views {
            tables.push(TableDef::for_view(view, return_type, params, &types)?);
        }
        let reducers = def
            .reducers
            .iter()
            .zip(reducer_params)
            .map(|(reducer, params_type)| ReducerDef {
                name: reducer.name.clone(),
                params: columns_of(&types, params_type).unwrap_or_default(),
                lifecycle: !reducer.callable,
                params_type,
                types: Arc::clone(&types),
            })
            .collect();
        let procedures = procedures
            .into_iter()
            .map(|(procedure, params_type, return_type)| ProcedureDef {
                name: procedure.name.clone(),
                params: columns_of(&types, params_type).unwrap_or_default(),
                returns: type_name(&types, return_type),
                params_type,
                return_type,
                types: Arc::clone(&types),
            })
            .collect();
        Ok(Schema { version: def.version, tables, reducers, procedures })
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The reducer named `name`.
    pub fn reducer(&self, name: &str) -> Option<&ReducerDef> {
        self.reducers.iter().find(|r| r.name == name)
    }

    /// The procedure named `name`.
    pub fn procedure(&self, name: &str) -> Option<&ProcedureDef> {
        self.procedures.iter().find(|p| p.name == name)
    }

    /// The schema as `gateway.schema()` shows it (typed as `Schema` in `lib/index.d.ts`):
    /// `{ version, tables: [{ name, columns: [{ name, type }], primaryKey, public, event }],
    /// views: [{ name, columns, primaryKey, public, perCaller, params, subscribable }],
    /// reducers: [{ name, params: [{ name, type }] }], procedures: [{ name, params, returns }] }`.
    ///
    /// Lifecycle reducers are left out: clients cannot call them.
    pub fn describe(&self) -> Value {
        let columns = |columns: &[ColumnDef]| -> Vec<Value> {
            columns.iter().map(|c| json!({ "name": c.name, "type": c.type_name })).collect()
        };
        let (mut tables, mut views) = (Vec::new(), Vec::new());
        for t in &self.tables {
            let mut described = json!({
                "name": t.name,
                "columns": columns(&t.columns),
                "primaryKey": t.primary_key.map(|i| t.columns[i].name.clone()),
                "public": t.public,
            });
            match &t.kind {
                TableKind::View(view) => {
                    described["perCaller"] = json!(view.per_caller);
                    described["params"] = json!(columns(&view.params));
                    described["subscribable"] = json!(t.subscribable());
                    views.push(described);
                }
                kind => {
                    described["event"] = json!(*kind == TableKind::Event);
                    tables.push(described);
                }
            }
        }
        let reducers: Vec<Value> = self
            .reducers
            .iter()
            .filter(|r| !r.lifecycle)
            .map(|r| json!({ "name": r.name, "params": columns(&r.params) }))
            .collect();
        let procedures: Vec<Value> = self
            .procedures
            .iter()
            .map(|p| json!({ "name": p.name, "params": columns(&p.params), "returns": p.returns }))
            .collect();
        let version: u8 = match self.version {
            ModuleDefVersion::V9 => 9,
            ModuleDefVersion::V10 => 10,
        };
        json!({ "version": version, "tables": tables, "views": views, "reducers": reducers, "procedures": procedures })
    }
}

/// The fields of product type `ty` as columns, or `None` if `ty` is not a product.
fn columns_of(types: &TypeGraph, ty: ValueType) -> Option<Vec<ColumnDef>> {
    let fields = types.product_fields(ty)?;
    Some(
        fields
            .iter()
            .map(|f| ColumnDef { name: f.key.to_string(), ty: f.ty, type_name: type_name(types, f.ty) })
            .collect(),
    )
}

impl TableDef {
    fn new(raw: &RawTable, row: ValueType, types: &Arc<TypeGraph>) -> Result<TableDef, String> {
        let name = raw.name.clone();
        let columns = columns_of(types, row)
            .ok_or_else(|| format!("table {name}: the row type is {}, not a product", type_name(types, row)))?;
        let primary_key = match raw.primary_key[..] {
            [] => None,
            [column] => Some(column),
            ref key => {
                return Err(format!("table {name}: composite primary keys ({} columns) are not supported", key.len()))
            }
        };
        if let Some(index) = primary_key.filter(|&i| i >= columns.len()) {
            return Err(format!("table {name}: primary key column {index} does not exist"));
        }
        let kind = if raw.is_event { TableKind::Event } else { TableKind::Table };
        Ok(TableDef { name, columns, primary_key, public: raw.public, kind, row, types: Arc::clone(types) })
    }

    /// A view returns `T`, `Option<T>` or `Vec<T>` for a product `T`; its rows are `T`s.
    fn for_view(
        raw: &RawView,
        return_type: ValueType,
        params: ValueType,
        types: &Arc<TypeGraph>,
    ) -> Result<TableDef, String> {
        let name = raw.name.clone();
        let row = match types.node(return_type) {
            TypeNode::Option(inner) | TypeNode::Array(inner) => *inner,
            _ => return_type,
        };
        let columns = columns_of(types, row).ok_or_else(|| {
            format!("view {name}: returns {}, not rows of a product type", type_name(types, return_type))
        })?;
        let primary_key = match &raw.primary_key {
            None => None,
            Some(key) => Some(
                columns
                    .iter()
                    .position(|c| c.name == *key)
                    .ok_or_else(|| format!("view {name}: primary key column {key} does not exist"))?,
            ),
        };
        let facts = ViewFacts { per_caller: !raw.anonymous, params: columns_of(types, params).unwrap_or_default() };
        Ok(TableDef {
            name,
            columns,
            primary_key,
            public: raw.public,
            kind: TableKind::View(facts),
            row,
            types: Arc::clone(types),
        })
    }

    /// Whether `SELECT * FROM <name>` can subscribe to it: a table (a private one only as the database
    /// owner, which the server decides), an event table on `v2`/`v3` only (see [`TableKind::Event`]), a
    /// view if it is public (the only kind 2.x supports) and takes no parameters (SQL cannot pass any).
    pub fn subscribable(&self) -> bool {
        match &self.kind {
            TableKind::Table | TableKind::Event => true,
            TableKind::View(view) => self.public && view.params.is_empty(),
        }
    }

    /// The index of the column named `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Like [`TableDef::row_to_json`], but a row the schema cannot decode is appended as `null` and
    /// reported (a server bug: the projection accepted it by key only; it must not crash a listener or a
    /// stream).
    pub fn row_to_json_or_null(&self, bsatn: &[u8], out: &mut Vec<u8>) {
        let mark = out.len();
        if let Err(e) = self.row_to_json(bsatn, out) {
            out.truncate(mark);
            out.extend_from_slice(b"null");
            tracing::warn!(table = %self.name, error = %e, "a row does not decode: sent as null");
        }
    }

    /// Appends the row in `bsatn` as one JSON object keyed by column name, in column order.
    ///
    /// `bsatn` must hold exactly one row. On error nothing is appended.
    pub fn row_to_json(&self, bsatn: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
        bsatn_to_json(&self.types, self.row, bsatn, out)
    }

    /// The byte range of every column inside the row in `bsatn`, without decoding the values (the
    /// structure is checked, contents such as UTF-8 are not).
    pub fn column_ranges(&self, bsatn: &[u8]) -> Result<Vec<Range<usize>>, DecodeError> {
        let mut ranges = Vec::with_capacity(self.columns.len());
        self.column_ranges_into(bsatn, &mut ranges)?;
        Ok(ranges)
    }

    /// Like [`TableDef::column_ranges`], into a reusable buffer: `ranges` is cleared first.
    pub fn column_ranges_into(&self, bsatn: &[u8], ranges: &mut Vec<Range<usize>>) -> Result<(), DecodeError> {
        ranges.clear();
        let fields = self.types.product_fields(self.row).unwrap_or_default();
        field_ranges(&self.types, fields, bsatn, ranges)
    }

    /// The BSATN of `value` as a value of column `column`: equal values give equal bytes, so a
    /// `where column = value` filter can compare it with the column's range in each row.
    ///
    /// Fails with `INVALID_ARGUMENT` naming the table, column and path if `value` does not fit.
    pub fn encode_column_value(&self, column: usize, value: &Value) -> Result<Vec<u8>, GatewayError> {
        let Some(def) = self.columns.get(column) else {
            return Err(GatewayError::invalid_argument(format!(
                "{}: no column {column} (the table has {})",
                self.name,
                self.columns.len()
            )));
        };
        let mut out = Vec::new();
        json_to_bsatn(&self.types, def.ty, value, &mut out)
            .map_err(|e| e.into_gateway_error(&self.types, Subject::Column { table: &self.name, column: &def.name }))?;
        Ok(out)
    }
}

impl ReducerDef {
    /// The BSATN of a call's arguments: `args` is a JSON array (positional) or an object keyed by
    /// parameter name (`null` is accepted for a reducer without parameters).
    ///
    /// Fails with `INVALID_ARGUMENT` naming the reducer, the parameter and the path inside it, e.g.
    /// `create_document: argument 'title' (String): expected a string, got 42`. Lifecycle reducers
    /// encode like any other; callers refuse to call them (see [`ReducerDef::lifecycle`]).
    pub fn encode_args(&self, args: &Value) -> Result<Vec<u8>, GatewayError> {
        encode_call_args(&self.types, self.params_type, self.params.is_empty(), &self.name, args)
    }
}

/// The arguments of a reducer or procedure `name` (parameter product `params_type`) as BSATN; `null`
/// stands for no arguments when it has no parameters. Errors name `name`, the parameter and the path.
fn encode_call_args(
    types: &TypeGraph,
    params_type: ValueType,
    no_params: bool,
    name: &str,
    args: &Value,
) -> Result<Vec<u8>, GatewayError> {
    let mut out = Vec::new();
    if args.is_null() && no_params {
        return Ok(out);
    }
    json_to_bsatn(types, params_type, args, &mut out)
        .map_err(|e| e.into_gateway_error(types, Subject::ReducerArgs { reducer: name }))?;
    Ok(out)
}

impl ProcedureDef {
    /// The BSATN of a call's arguments, as [`ReducerDef::encode_args`] (errors name the procedure).
    pub fn encode_args(&self, args: &Value) -> Result<Vec<u8>, GatewayError> {
        encode_call_args(&self.types, self.params_type, self.params.is_empty(), &self.name, args)
    }

    /// The return value in `bsatn` as JSON, in the gateway's value mapping (like a row's columns).
    pub fn return_to_json(&self, bsatn: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        bsatn_to_json(&self.types, self.return_type, bsatn, &mut out)?;
        Ok(out)
    }
}
