//! Which tables the relay streams, and where each keeps its tenant: the `tenantColumn` and
//! `sharedTables` options of `Gateway.connect`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::codec::schema::{Schema, TableDef};
use crate::error::{GatewayError, Result};

/// The `tenantColumn` option: one column name for every table that has it, or one per table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantColumns {
    /// Tables that have a column of this name keep their tenant there; the others have no tenant.
    Named(String),
    /// Only the listed tables have a tenant, each in its column.
    PerTable(Vec<(String, String)>),
}

impl Default for TenantColumns {
    fn default() -> Self {
        TenantColumns::Named("tenant_id".to_string())
    }
}

/// How a table's rows are scoped to tenants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantScope {
    /// The tenant is the value of this column: a tenant's streams get only rows whose column holds it.
    Column(usize),
    /// Declared shared: every stream that selects the table gets all of its rows.
    Shared,
    /// No tenant and not shared: only `allTenants` streams get its rows.
    Unscoped,
}

/// A table as the relay sees it.
#[derive(Debug)]
pub struct RelayTable {
    /// Its position in [`RelayTables::all`] (also its place in snapshots).
    pub index: usize,
    pub def: Arc<TableDef>,
    pub scope: TenantScope,
}

impl RelayTable {
    pub fn name(&self) -> &str {
        &self.def.name
    }
}

/// Every table of the module, with its tenant scope.
#[derive(Debug)]
pub struct RelayTables {
    all: Vec<Arc<RelayTable>>,
    by_name: HashMap<String, usize>,
}

impl RelayTables {
    /// Resolves the options against the schema. Unknown tables or columns are `INVALID_ARGUMENT`, and so
    /// is a table that is both shared and given a tenant column by name.
    pub fn new(schema: &Schema, tenant_columns: &TenantColumns, shared: &[String]) -> Result<RelayTables> {
        let by_name: HashMap<String, usize> =
            schema.tables.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
        let mut scopes = vec![TenantScope::Unscoped; schema.tables.len()];
        match tenant_columns {
            TenantColumns::Named(column) => {
                for (i, table) in schema.tables.iter().enumerate() {
                    if let Some(c) = table.column_index(column) {
                        scopes[i] = TenantScope::Column(c);
                    }
                }
            }
            TenantColumns::PerTable(pairs) => {
                for (table, column) in pairs {
                    let def = find(schema, &by_name, table, "tenantColumn")?;
                    let c = def.column_index(column).ok_or_else(|| {
                        GatewayError::invalid_argument(format!(
                            "tenantColumn: table '{table}' has no column '{column}' (it has: {})",
                            column_names(def)
                        ))
                    })?;
                    scopes[by_name[table.as_str()]] = TenantScope::Column(c);
                }
            }
        }
        for table in shared {
            find(schema, &by_name, table, "sharedTables")?;
            let i = by_name[table.as_str()];
            // Sharing a table that has a tenant column would hand every tenant's rows to every tenant's
            // streams: refused in both forms of tenantColumn, so that widening is always spelt out (list
            // the tenant tables with the per-table form and leave this one out).
            match (tenant_columns, scopes[i]) {
                (TenantColumns::PerTable(_), TenantScope::Column(_)) => {
                    return Err(GatewayError::invalid_argument(format!(
                        "table '{table}' is given a tenant column and declared shared; choose one"
                    )));
                }
                (TenantColumns::Named(column), TenantScope::Column(_)) => {
                    return Err(GatewayError::invalid_argument(format!(
                        "sharedTables: table '{table}' has the tenant column '{column}', so sharing it would send \
                         every tenant's rows to every tenant's streams; to share it anyway, name the tenant tables \
                         with tenantColumn: {{ table: column }} and leave '{table}' out"
                    )));
                }
                _ => {}
            }
            scopes[i] = TenantScope::Shared;
        }
        let all = schema
            .tables
            .iter()
            .zip(scopes)
            .enumerate()
            .map(|(index, (def, scope))| Arc::new(RelayTable { index, def: Arc::new(def.clone()), scope }))
            .collect();
        Ok(RelayTables { all, by_name })
    }

    pub fn all(&self) -> &[Arc<RelayTable>] {
        &self.all
    }

    pub fn get(&self, name: &str) -> Option<&Arc<RelayTable>> {
        self.by_name.get(name).map(|&i| &self.all[i])
    }

    /// The table named `name`, or `INVALID_ARGUMENT` listing the tables (`what` names the option).
    pub fn find(&self, name: &str, what: &str) -> Result<&Arc<RelayTable>> {
        self.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.all.iter().map(|t| t.name()).collect();
            GatewayError::invalid_argument(format!(
                "{what}: no table named '{name}' in this module (it has: {})",
                names.join(", ")
            ))
        })
    }
}

fn find<'s>(schema: &'s Schema, by_name: &HashMap<String, usize>, name: &str, what: &str) -> Result<&'s TableDef> {
    by_name.get(name).map(|&i| &schema.tables[i]).ok_or_else(|| {
        let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        GatewayError::invalid_argument(format!(
            "{what}: no table named '{name}' in this module (it has: {})",
            names.join(", ")
        ))
    })
}

/// `a, b, c`: the columns of a table, for error messages.
pub fn column_names(def: &TableDef) -> String {
    def.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::tests::reference_schema;
    use crate::error::ErrorCode;

    fn scope(tables: &RelayTables, name: &str) -> TenantScope {
        tables.get(name).unwrap().scope
    }

    #[test]
    fn a_column_name_scopes_every_table_that_has_it() {
        let t = RelayTables::new(&reference_schema(), &TenantColumns::default(), &["tenant".into()]).unwrap();
        assert_eq!(scope(&t, "document"), TenantScope::Column(1));
        assert_eq!(scope(&t, "membership"), TenantScope::Column(1));
        assert_eq!(scope(&t, "tenant"), TenantScope::Shared);
        assert_eq!(scope(&t, "all_types"), TenantScope::Column(1));
        assert_eq!(t.get("document").unwrap().index, t.all().iter().position(|x| x.name() == "document").unwrap());
    }

    #[test]
    fn a_per_table_map_scopes_only_the_listed_tables() {
        let cols =
            TenantColumns::PerTable(vec![("tenant".into(), "id".into()), ("document".into(), "tenant_id".into())]);
        let t = RelayTables::new(&reference_schema(), &cols, &[]).unwrap();
        assert_eq!(scope(&t, "tenant"), TenantScope::Column(0));
        assert_eq!(scope(&t, "document"), TenantScope::Column(1));
        assert_eq!(scope(&t, "audit_event"), TenantScope::Unscoped);
    }

    #[test]
    fn unknown_tables_and_columns_and_conflicts_are_invalid() {
        let schema = reference_schema();
        let cases = [
            (
                TenantColumns::PerTable(vec![("nope".into(), "id".into())]),
                vec![],
                "tenantColumn: no table named 'nope'",
            ),
            (TenantColumns::PerTable(vec![("document".into(), "org".into())]), vec![], "has no column 'org'"),
            (TenantColumns::default(), vec!["nope".to_string()], "sharedTables: no table named 'nope'"),
            (
                TenantColumns::PerTable(vec![("document".into(), "tenant_id".into())]),
                vec!["document".to_string()],
                "declared shared",
            ),
            // The default column name form too: sharing must not silently cancel a tenant column.
            (TenantColumns::default(), vec!["membership".to_string()], "has the tenant column 'tenant_id'"),
        ];
        for (cols, shared, message) in cases {
            let err = RelayTables::new(&schema, &cols, &shared).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert!(err.message.contains(message), "{err}");
        }
    }
}
