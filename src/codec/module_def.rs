//! The module definition a server serves at `GET /v1/database/:db/schema?version=N`, read into one shape
//! whatever its version: V9 (`RawModuleDefV9`, the only one 1.x serves; 2.x serves it too) or V10
//! (`RawModuleDefV10`, 2.x only). Both arrive as SATS-JSON (`axum::Json(SerdeWrapper(raw))` in the
//! route: `crates/client-api/src/routes/database.rs` `schema`, v2.8.3). `Schema` compiles this shape.
//!
//! What V10 adds that V9 cannot say: which tables are **event tables** (`RawTableDefV10::is_event`; a 2.x
//! server's V9 drops the flag, `From<TableDef> for RawTableDefV9` in `spacetimedb-schema`), which
//! reducers are not client-callable (`FunctionVisibility`), and the primary keys of procedural views.
//!
//! Names: a served V10 keeps each table's and function's *accessor* name in `source_name` and says the
//! *canonical* name — the one SQL, row updates and calls use — in the `ExplicitNames` section, which the
//! server always emits for every table, reducer, procedure and view (`From<ModuleDef> for
//! RawModuleDefV10`, "Always emit ExplicitNames so canonical names survive the round-trip"). A V9 has only
//! canonical names.

use std::collections::HashMap;

use serde_json::Value;
use spacetimedb_lib::db::raw_def::v10::{
    ExplicitNameEntry, FunctionVisibility, RawModuleDefV10, RawModuleDefV10Section, RawTableDefV10,
};
use spacetimedb_lib::db::raw_def::v9::{RawMiscModuleExportV9, RawModuleDefV9, TableAccess};
use spacetimedb_sats::de::serde::DeserializeWrapper;
use spacetimedb_sats::{AlgebraicType, AlgebraicTypeRef, ProductType};

/// A module-definition version of the schema route (`?version=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleDefVersion {
    /// `RawModuleDefV9`: served by 1.x and 2.x.
    V9,
    /// `RawModuleDefV10`: served by 2.x only (1.3.0 answers HTTP 400, "unknown variant `10`").
    V10,
}

impl ModuleDefVersion {
    /// The value of the route's `version` query parameter.
    pub fn query_value(self) -> &'static str {
        match self {
            ModuleDefVersion::V9 => "9",
            ModuleDefVersion::V10 => "10",
        }
    }
}

/// A module definition, in the parts the gateway reads, with canonical names.
#[derive(Debug)]
pub(crate) struct ModuleDef {
    pub version: ModuleDefVersion,
    /// The typespace every `AlgebraicTypeRef` refers to.
    pub types: Vec<AlgebraicType>,
    /// Declared type names: (typespace index, `scope::name`).
    pub type_names: Vec<(usize, String)>,
    pub tables: Vec<RawTable>,
    pub views: Vec<RawView>,
    pub reducers: Vec<RawReducer>,
    pub procedures: Vec<RawProcedure>,
}

#[derive(Debug)]
pub(crate) struct RawTable {
    pub name: String,
    pub row: AlgebraicTypeRef,
    pub primary_key: Vec<usize>,
    pub public: bool,
    /// Known only from a V10 definition; `false` from a V9 one.
    pub is_event: bool,
}

#[derive(Debug)]
pub(crate) struct RawView {
    pub name: String,
    pub public: bool,
    /// Computed once for everyone (`AnonymousViewContext`), not per caller identity (`ViewContext`).
    pub anonymous: bool,
    pub params: ProductType,
    pub return_type: AlgebraicType,
    /// The primary key column's name (V10 `ViewPrimaryKeys`, procedural views only).
    pub primary_key: Option<String>,
}

#[derive(Debug)]
pub(crate) struct RawReducer {
    pub name: String,
    pub params: ProductType,
    /// Clients may call it: not a lifecycle reducer and (V10) `FunctionVisibility::ClientCallable`.
    pub callable: bool,
}

#[derive(Debug)]
pub(crate) struct RawProcedure {
    pub name: String,
    pub params: ProductType,
    pub return_type: AlgebraicType,
}

/// The V10 sections the gateway reads. The others are dropped before decoding, so that a newer server's
/// new sections (the enum only grows at its end) or changes to sections the gateway does not use
/// (schedules, HTTP routes, row-level security…) do not make its schema unreadable.
const V10_SECTIONS_READ: [&str; 9] = [
    "Typespace",
    "Types",
    "Tables",
    "Reducers",
    "Procedures",
    "Views",
    "LifeCycleReducers",
    "ExplicitNames",
    "ViewPrimaryKeys",
];

impl ModuleDef {
    /// Reads a V9 or V10 definition, told apart by shape: a V10 is `{ "sections": [...] }`.
    pub fn from_json(text: &str) -> Result<ModuleDef, String> {
        let mut value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        match value.get_mut("sections").and_then(Value::as_array_mut) {
            Some(sections) => {
                sections.retain(|section| {
                    section.as_object().and_then(|o| o.keys().next()).is_some_and(|k| V10_SECTIONS_READ.contains(&&**k))
                });
                let DeserializeWrapper(raw) =
                    serde_json::from_value::<DeserializeWrapper<RawModuleDefV10>>(value).map_err(|e| e.to_string())?;
                Ok(ModuleDef::from_v10(raw))
            }
            None => {
                let DeserializeWrapper(raw) =
                    serde_json::from_value::<DeserializeWrapper<RawModuleDefV9>>(value).map_err(|e| e.to_string())?;
                Ok(ModuleDef::from_v9(raw))
            }
        }
    }

    pub fn from_v9(raw: RawModuleDefV9) -> ModuleDef {
        let type_names =
            raw.types.iter().map(|def| (def.ty.idx(), scoped_name(&def.name.scope, &def.name.name))).collect();
        let tables = raw
            .tables
            .into_iter()
            .map(|t| RawTable {
                name: t.name.to_string(),
                row: t.product_type_ref,
                primary_key: t.primary_key.iter().map(|c| c.idx()).collect(),
                public: matches!(t.table_access, TableAccess::Public),
                is_event: false,
            })
            .collect();
        let reducers = raw
            .reducers
            .into_iter()
            .map(|r| RawReducer { name: r.name.to_string(), params: r.params, callable: r.lifecycle.is_none() })
            .collect();
        let (mut views, mut procedures) = (Vec::new(), Vec::new());
        for export in raw.misc_exports {
            match export {
                RawMiscModuleExportV9::View(v) => views.push(RawView {
                    name: v.name.to_string(),
                    public: v.is_public,
                    anonymous: v.is_anonymous,
                    params: v.params,
                    return_type: v.return_type,
                    primary_key: None,
                }),
                RawMiscModuleExportV9::Procedure(p) => procedures.push(RawProcedure {
                    name: p.name.to_string(),
                    params: p.params,
                    return_type: p.return_type,
                }),
                _ => {}
            }
        }
        ModuleDef {
            version: ModuleDefVersion::V9,
            types: raw.typespace.types,
            type_names,
            tables,
            views,
            reducers,
            procedures,
        }
    }

    pub fn from_v10(raw: RawModuleDefV10) -> ModuleDef {
        let mut def = ModuleDef {
            version: ModuleDefVersion::V10,
            types: Vec::new(),
            type_names: Vec::new(),
            tables: Vec::new(),
            views: Vec::new(),
            reducers: Vec::new(),
            procedures: Vec::new(),
        };
        let (mut table_names, mut function_names) = (HashMap::new(), HashMap::new());
        let (mut lifecycle, mut view_keys) = (Vec::new(), HashMap::new());
        let (mut tables, mut views, mut reducers, mut procedures) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for section in raw.sections {
            match section {
                RawModuleDefV10Section::Typespace(typespace) => def.types = typespace.types,
                RawModuleDefV10Section::Types(types) => {
                    def.type_names = types
                        .iter()
                        .map(|t| (t.ty.idx(), scoped_name(&t.source_name.scope, &t.source_name.source_name)))
                        .collect();
                }
                RawModuleDefV10Section::Tables(t) => tables = t,
                RawModuleDefV10Section::Views(v) => views = v,
                RawModuleDefV10Section::Reducers(r) => reducers = r,
                RawModuleDefV10Section::Procedures(p) => procedures = p,
                RawModuleDefV10Section::LifeCycleReducers(l) => {
                    lifecycle = l.into_iter().map(|l| l.function_name.to_string()).collect();
                }
                RawModuleDefV10Section::ViewPrimaryKeys(keys) => {
                    view_keys = keys
                        .into_iter()
                        .filter_map(|k| Some((k.view_source_name.to_string(), k.columns.first()?.to_string())))
                        .collect();
                }
                RawModuleDefV10Section::ExplicitNames(names) => {
                    for entry in names.into_entries() {
                        let (map, names) = match entry {
                            ExplicitNameEntry::Table(names) => (&mut table_names, names),
                            ExplicitNameEntry::Function(names) => (&mut function_names, names),
                            _ => continue,
                        };
                        map.insert(names.source_name.to_string(), names.canonical_name.to_string());
                    }
                }
                _ => {}
            }
        }
        // Without an `ExplicitNames` entry (never the case for what a server serves) the source name stands.
        let canonical = |map: &HashMap<String, String>, source: &str| map.get(source).cloned().unwrap_or(source.into());
        def.tables = tables
            .into_iter()
            .map(|t: RawTableDefV10| RawTable {
                name: canonical(&table_names, &t.source_name),
                row: t.product_type_ref,
                primary_key: t.primary_key.iter().map(|c| c.idx()).collect(),
                public: matches!(t.table_access, TableAccess::Public),
                is_event: t.is_event,
            })
            .collect();
        def.views = views
            .into_iter()
            .map(|v| RawView {
                name: canonical(&function_names, &v.source_name),
                public: v.is_public,
                anonymous: v.is_anonymous,
                primary_key: view_keys.remove(&*v.source_name),
                params: v.params,
                return_type: v.return_type,
            })
            .collect();
        def.reducers = reducers
            .into_iter()
            .map(|r| {
                let name = canonical(&function_names, &r.source_name);
                // `LifeCycleReducers` names the reducer by its canonical name (`From<ModuleDef>`), a module's
                // own definition by its source name.
                let lifecycle = lifecycle.iter().any(|l| *l == name || **l == *r.source_name);
                let callable = !lifecycle && matches!(r.visibility, FunctionVisibility::ClientCallable);
                RawReducer { name, params: r.params, callable }
            })
            .collect();
        def.procedures = procedures
            .into_iter()
            .map(|p| RawProcedure {
                name: canonical(&function_names, &p.source_name),
                params: p.params,
                return_type: p.return_type,
            })
            .collect();
        def
    }
}

fn scoped_name(scope: &[impl AsRef<str>], name: &str) -> String {
    scope.iter().map(AsRef::as_ref).chain([name]).collect::<Vec<_>>().join("::")
}
