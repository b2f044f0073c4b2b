//! What one stream may see: its tenant (or all tenants), its tables, and column equalities per table.
//! Rows are compared byte-wise: the tenant and every `where` value are encoded once, with the column's
//! type, when the stream is opened.

use serde_json::{Map, Value};

use super::event::{Event, RowImage, View};
use super::tables::{column_names, RelayTable, RelayTables, TenantScope};
use crate::codec::value::describe_json;
use crate::codec::value::js_typed::JsValue;
use crate::error::{GatewayError, Result};

/// The tenant of a stream.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Tenant {
    /// The value as given, written as JSON for envelopes (`tenant_id`).
    pub json: Vec<u8>,
    /// The value as text (a string as is, a number in decimal), for `revoke({ tenantId })`.
    pub key: String,
}

impl Tenant {
    fn new(value: &Value) -> Result<Tenant> {
        let key = match (value, JsValue::of(value)) {
            (Value::String(s), _) => s.clone(),
            (Value::Number(n), _) => n.to_string(),
            // A bigint: envelopes write it as the value mapping writes wide integers, a decimal string.
            (_, Some(JsValue::BigInt(text))) => {
                return Ok(Tenant { json: Value::String(text.into()).to_string().into_bytes(), key: text.into() })
            }
            (other, _) => {
                return Err(GatewayError::invalid_argument(format!(
                    "tenantId must be a string (or an integer for an integer tenant column), got {}",
                    describe_json(other)
                )))
            }
        };
        Ok(Tenant { json: value.to_string().into_bytes(), key })
    }

    /// The key of a tenant value given to `revoke`, comparable with [`Tenant::key`].
    pub fn key_of(value: &Value) -> Result<String> {
        Tenant::new(value).map(|t| t.key)
    }
}

/// What a stream selects of one table.
#[derive(Clone, Debug, PartialEq, Hash)]
struct TableFilter {
    /// The stream's tenant encoded for this table's tenant column (tenant streams, tenant tables).
    tenant: Option<Box<[u8]>>,
    /// `column = value` constraints, values as BSATN.
    equal: Vec<(usize, Box<[u8]>)>,
}

/// `{ column: value }` for `table` as `(column index, BSATN value)` pairs (`what`: the option, for
/// messages). Shared by `where` and `revokeOn`.
pub(super) fn column_constraints(table: &RelayTable, columns: &Value, what: &str) -> Result<Vec<(usize, Box<[u8]>)>> {
    let name = table.name();
    let Value::Object(columns) = columns else {
        return Err(GatewayError::invalid_argument(format!("{what}.{name} must be an object of column: value pairs")));
    };
    columns
        .iter()
        .map(|(column, value)| {
            let index = table.def.column_index(column).ok_or_else(|| {
                GatewayError::invalid_argument(format!(
                    "{what}: table '{name}' has no column '{column}' (it has: {})",
                    column_names(&table.def)
                ))
            })?;
            Ok((index, table.def.encode_column_value(index, value)?.into_boxed_slice()))
        })
        .collect()
}

/// Whether a row (given by a column accessor) holds every `(column, value)` of `constraints`.
pub(super) fn holds<'r>(constraints: &[(usize, Box<[u8]>)], column: impl Fn(usize) -> Option<&'r [u8]>) -> bool {
    constraints.iter().all(|(c, value)| column(*c) == Some(&value[..]))
}

/// A stream's selection. Tables are indexed like [`RelayTables::all`].
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Selection {
    tenant: Option<Tenant>,
    tables: Vec<Option<TableFilter>>,
}

/// The selection options of `gateway.stream()`, as JSON values.
#[derive(Default)]
pub struct SelectionRequest<'a> {
    pub tenant_id: Option<&'a Value>,
    pub all_tenants: bool,
    pub tables: Option<Vec<String>>,
    pub where_: Option<&'a Map<String, Value>>,
    /// `revokeOn`: rows whose change ends the stream (see [`super::watch`]).
    pub revoke_on: Option<&'a Map<String, Value>>,
}

impl Selection {
    /// Validates and encodes a selection: every table and column must exist, `where` may only name
    /// selected tables, and a tenant stream may only select tables with a tenant column or shared ones.
    pub fn new(tables: &RelayTables, request: &SelectionRequest) -> Result<Selection> {
        let tenant = match (request.tenant_id, request.all_tenants) {
            (Some(_), true) => {
                return Err(GatewayError::invalid_argument("pass either tenantId or allTenants: true, not both"))
            }
            (None, false) => {
                return Err(GatewayError::invalid_argument(
                    "tenantId is required (pass allTenants: true to stream the rows of every tenant)",
                ))
            }
            (Some(value), false) => Some((Tenant::new(value)?, value)),
            (None, true) => None,
        };
        let chosen: Vec<&RelayTable> = match &request.tables {
            Some(names) => {
                if names.is_empty() {
                    return Err(GatewayError::invalid_argument("tables must name at least one table"));
                }
                names.iter().map(|n| tables.find(n, "tables").map(|t| &**t)).collect::<Result<_>>()?
            }
            None => tables
                .all()
                .iter()
                .filter(|t| tenant.is_none() || t.scope != TenantScope::Unscoped)
                .map(|t| &**t)
                .collect(),
        };
        let mut filters = vec![None; tables.all().len()];
        for table in chosen {
            let tenant_bytes = match (&tenant, table.scope) {
                (Some(_), TenantScope::Unscoped) => {
                    return Err(GatewayError::invalid_argument(format!(
                        "table '{}' has no tenant column and is not shared: only allTenants streams may select it \
                         (see the tenantColumn and sharedTables options of Gateway.connect)",
                        table.name()
                    )))
                }
                (Some((_, value)), TenantScope::Column(c)) => {
                    let bytes = table.def.encode_column_value(c, value).map_err(|e| {
                        GatewayError::invalid_argument(format!(
                            "tenantId does not fit table '{}': {}",
                            table.name(),
                            e.message
                        ))
                    })?;
                    Some(bytes.into_boxed_slice())
                }
                _ => None,
            };
            filters[table.index] = Some(TableFilter { tenant: tenant_bytes, equal: Vec::new() });
        }
        let mut selection = Selection { tenant: tenant.map(|(t, _)| t), tables: filters };
        if let Some(where_) = request.where_ {
            selection.add_constraints(tables, where_)?;
        }
        Ok(selection)
    }

    /// Adds `where` constraints (`{ table: { column: value } }`). A constraint on a column that already has
    /// a different one is `INVALID_ARGUMENT` (it would widen or replace, not restrict).
    fn add_constraints(&mut self, tables: &RelayTables, where_: &Map<String, Value>) -> Result<()> {
        for (name, columns) in where_ {
            let table = tables.find(name, "where")?;
            let Some(filter) = self.tables[table.index].as_mut() else {
                return Err(GatewayError::invalid_argument(format!(
                    "where: table '{name}' is not among the selected tables"
                )));
            };
            for (index, bytes) in column_constraints(table, columns, "where")? {
                match filter.equal.iter().find(|(c, _)| *c == index) {
                    Some((_, existing)) if *existing != bytes => {
                        let column = &table.def.columns[index].name;
                        return Err(GatewayError::invalid_argument(format!(
                            "where: {name}.{column} is already constrained to another value; a narrowed selection may \
                             only add constraints"
                        )));
                    }
                    Some(_) => {}
                    None => filter.equal.push((index, bytes)),
                }
            }
            // One order for one set of constraints, so equal selections have equal fingerprints.
            filter.equal.sort();
        }
        Ok(())
    }

    /// This selection restricted to `tables` (a subset of the selected ones) and with the `where`
    /// constraints added: `narrow()`. Anything that would widen the selection is `INVALID_ARGUMENT`.
    pub fn narrowed(
        &self,
        relay_tables: &RelayTables,
        tables: Option<&[String]>,
        where_: Option<&Map<String, Value>>,
    ) -> Result<Selection> {
        let mut next = self.clone();
        if let Some(names) = tables {
            if names.is_empty() {
                return Err(GatewayError::invalid_argument("narrow: tables must name at least one table"));
            }
            let mut keep = vec![false; next.tables.len()];
            for name in names {
                let table = relay_tables.find(name, "narrow: tables")?;
                if self.tables[table.index].is_none() {
                    return Err(GatewayError::invalid_argument(format!(
                        "narrow: table '{name}' is not selected by the stream; narrowing may only remove tables"
                    )));
                }
                keep[table.index] = true;
            }
            for (filter, keep) in next.tables.iter_mut().zip(keep) {
                if !keep {
                    *filter = None;
                }
            }
        }
        if let Some(where_) = where_ {
            next.add_constraints(relay_tables, where_)?;
        }
        Ok(next)
    }

    /// A fingerprint of the selection, the same for equal selections (in every gateway process).
    pub fn fingerprint(&self) -> u32 {
        super::ids::fingerprint(self)
    }

    pub fn tenant(&self) -> Option<&Tenant> {
        self.tenant.as_ref()
    }

    /// The JSON of the tenant for envelopes of stream-level frames (`null` for all tenants).
    pub fn tenant_json(&self) -> &[u8] {
        self.tenant.as_ref().map_or(b"null", |t| &t.json)
    }

    pub fn selects(&self, table: usize) -> bool {
        self.tables.get(table).is_some_and(|f| f.is_some())
    }

    /// The distinct encodings of the tenant across the selected tables (one for the usual single type).
    pub fn tenant_encodings(&self) -> Vec<Box<[u8]>> {
        let mut out: Vec<Box<[u8]>> = Vec::new();
        for bytes in self.tables.iter().flatten().filter_map(|f| f.tenant.as_ref()) {
            if !out.contains(bytes) {
                out.push(bytes.clone());
            }
        }
        out
    }

    /// The tenant bytes this selection requires of `table`'s rows, if any (for index lookups).
    pub fn tenant_of(&self, table: usize) -> Option<&[u8]> {
        self.tables.get(table)?.as_ref()?.tenant.as_deref()
    }

    /// Whether the stream may see `row` of `table`.
    pub fn sees(&self, table: &RelayTable, row: &RowImage) -> bool {
        self.sees_columns(table, |c| row.column(c))
    }

    /// Like [`Selection::sees`], for a row given by a column accessor.
    pub fn sees_columns<'r>(&self, table: &RelayTable, column: impl Fn(usize) -> Option<&'r [u8]>) -> bool {
        let Some(Some(filter)) = self.tables.get(table.index) else { return false };
        let tenant_ok = match (table.scope, &filter.tenant) {
            (TenantScope::Column(c), Some(tenant)) => column(c) == Some(&tenant[..]),
            // A tenant stream selects only tables with a tenant column or shared ones (checked when built).
            (TenantScope::Unscoped, _) => self.tenant.is_none(),
            _ => true,
        };
        tenant_ok && holds(&filter.equal, column)
    }

    /// What this stream sees of `event`, if anything.
    pub fn view(&self, event: &Event) -> Option<View> {
        if !self.selects(event.table.index) {
            return None;
        }
        let old = event.old.as_ref().map(|r| self.sees(&event.table, r));
        let new = event.new.as_ref().map(|r| self.sees(&event.table, r));
        if event.occurrence {
            return (new == Some(true)).then_some(View::Event);
        }
        View::of(old, new)
    }
}
