//! The schema model read from a 2.x module definition: `tests/fixtures/module-2x.v10.json` and
//! `module-2x.v9.json`, one chat module as a 2.x server serves it at `/schema?version=10` and `?version=9`,
//! made by the server's own crates (`scripts/schema-fixtures.sh`, `tools/schema-fixtures`). No 2.x server
//! runs here: these records are what the V10 reading is checked against.

use serde_json::{json, Value};
use spacetimedb_lib::db::raw_def::v10::RawModuleDefV10;
use spacetimedb_lib::{Identity, Timestamp};
use spacetimedb_sats::de::serde::DeserializeWrapper;
use spacetimedb_sats::serde::SerdeWrapper;
use spacetimedb_sats::{bsatn, product};

use super::row_json;
use crate::codec::{ModuleDefVersion, Schema, TableKind, ViewFacts};
use crate::error::ErrorCode;

const V10_JSON: &str = include_str!("../../../tests/fixtures/module-2x.v10.json");
const V9_JSON: &str = include_str!("../../../tests/fixtures/module-2x.v9.json");

fn v10() -> Schema {
    Schema::from_json(V10_JSON).expect("the 2.x V10 record reads")
}

/// The V10 record with `edit` applied to its JSON.
fn edited_v10(edit: impl FnOnce(&mut Vec<Value>)) -> Result<Schema, crate::GatewayError> {
    let mut raw: Value = serde_json::from_str(V10_JSON).unwrap();
    edit(raw["sections"].as_array_mut().unwrap());
    Schema::from_json(&raw.to_string())
}

fn section<'a>(sections: &'a mut [Value], name: &str) -> &'a mut Value {
    sections.iter_mut().find_map(|s| s.get_mut(name)).unwrap_or_else(|| panic!("no {name} section"))
}

/// The gateway's copy of the V10 types (`spacetimedb-lib` 2.10.1) reads and writes the record exactly as the
/// generator's (2.8.2, what the server's `spacetimedb-schema` is published at) wrote it: the same encoding.
#[test]
fn the_record_round_trips_through_the_official_v10_types() {
    let DeserializeWrapper(raw) = serde_json::from_str::<DeserializeWrapper<RawModuleDefV10>>(V10_JSON).unwrap();
    let again = serde_json::to_value(SerdeWrapper(raw)).unwrap();
    assert_eq!(again, serde_json::from_str::<Value>(V10_JSON).unwrap());
}

#[test]
fn tables_event_tables_and_views_with_their_facts() {
    let schema = v10();
    assert_eq!(schema.version, ModuleDefVersion::V10);
    let kinds: Vec<(&str, &TableKind, bool)> =
        schema.tables.iter().map(|t| (t.name.as_str(), &t.kind, t.public)).collect();
    let per_caller = |per_caller| TableKind::View(ViewFacts { per_caller, params: vec![] });
    assert_eq!(
        kinds,
        [
            ("message", &TableKind::Table, true),
            ("typing", &TableKind::Event, true),
            ("moderation_note", &TableKind::Table, false),
            ("my_messages", &per_caller(true), true),
            ("latest_message", &per_caller(false), true),
        ]
    );
    let message = schema.table("message").unwrap();
    let columns: Vec<(&str, &str)> = message.columns.iter().map(|c| (c.name.as_str(), c.type_name.as_str())).collect();
    assert_eq!(columns, [("id", "u64"), ("sender", "Identity"), ("text", "String"), ("sent", "Timestamp")]);
    assert_eq!(message.primary_key, Some(0));
    for view in ["my_messages", "latest_message"] {
        let view = schema.table(view).unwrap();
        let view_columns: Vec<(&str, &str)> =
            view.columns.iter().map(|c| (c.name.as_str(), c.type_name.as_str())).collect();
        assert_eq!(view_columns, columns, "a view's rows are its return type's product");
        assert_eq!(view.primary_key, None, "query-builder and unkeyed views carry no key in V10");
        assert!(view.subscribable());
    }
    assert!(schema.tables.iter().all(|t| t.subscribable()));
}

/// A served V10 keeps accessor names (`Message`, `SendMessage`) in `source_name`; SQL, row updates and calls
/// use the canonical names of `ExplicitNames` (`message`, `send_message`).
#[test]
fn names_are_the_canonical_ones() {
    let schema = v10();
    assert!(schema.table("Message").is_none() && schema.table("message").is_some());
    assert!(schema.reducer("SendMessage").is_none());
    let send = schema.reducer("send_message").unwrap();
    assert!(!send.lifecycle);
    assert_eq!(send.encode_args(&json!({ "text": "hi" })).unwrap(), bsatn::to_vec(&product!["hi"]).unwrap());
    let not_callable: Vec<&str> = schema.reducers.iter().filter(|r| r.lifecycle).map(|r| r.name.as_str()).collect();
    assert_eq!(not_callable, ["init", "client_connected"]);

    let count = schema.procedure("count_messages").unwrap();
    assert_eq!((count.params[0].name.as_str(), count.params[0].type_name.as_str()), ("since", "Timestamp"));
    assert_eq!(count.returns, "u64");
    assert_eq!(count.return_to_json(&41u64.to_le_bytes()).unwrap(), br#""41""#);
}

/// A row of `message`, encoded by SpacetimeDB's BSATN, decodes alike as a row of the table and of either view.
#[test]
fn view_rows_decode_like_their_tables() {
    let schema = v10();
    let row =
        product![7u64, Identity::from_byte_array([5; 32]), "hello", Timestamp::from_micros_since_unix_epoch(1_000_000)];
    let bsatn = bsatn::to_vec(&row).unwrap();
    let from_table = row_json(&schema, "message", &bsatn);
    assert_eq!(from_table["id"], json!("7"));
    assert_eq!(from_table["text"], json!("hello"));
    for view in ["my_messages", "latest_message"] {
        assert_eq!(row_json(&schema, view, &bsatn), from_table);
    }
}

/// The same module's V9 (what a 2.x server serves at `?version=9`, and what the gateway reads when V10 is
/// refused or unreadable) says everything V10 does except which tables are event tables.
#[test]
fn the_v9_of_the_same_module_loses_only_the_event_flag() {
    let (v10, v9) = (v10().describe(), Schema::from_json(V9_JSON).unwrap().describe());
    assert_eq!((&v10["version"], &v9["version"]), (&json!(10), &json!(9)));
    assert_eq!(v10["tables"][1]["name"], json!("typing"));
    assert_eq!((&v10["tables"][1]["event"], &v9["tables"][2]["event"]), (&json!(true), &json!(false)));
    let sorted_tables = |described: &Value| {
        let mut tables = described["tables"].as_array().unwrap().clone();
        tables.iter_mut().for_each(|t| t["event"] = json!(null));
        tables.sort_by_key(|t| t["name"].as_str().unwrap().to_string());
        tables
    };
    assert_eq!(sorted_tables(&v10), sorted_tables(&v9));
    for part in ["views", "reducers", "procedures"] {
        assert_eq!(v10[part], v9[part], "{part}");
    }
}

#[test]
fn describe_lists_views_apart_with_their_facts() {
    let described = v10().describe();
    let table_names: Vec<&str> =
        described["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(table_names, ["message", "typing", "moderation_note"]);
    assert_eq!(described["tables"][1]["event"], json!(true));
    assert_eq!(described["views"][1]["name"], json!("latest_message"));
    assert_eq!(
        (&described["views"][1]["perCaller"], &described["views"][1]["subscribable"], &described["views"][1]["params"]),
        (&json!(false), &json!(true), &json!([]))
    );
    assert_eq!(described["views"][0]["perCaller"], json!(true));
    assert_eq!(described["views"][0]["columns"], described["tables"][0]["columns"]);
    assert_eq!(
        described["reducers"],
        json!([{ "name": "send_message", "params": [{ "name": "text", "type": "String" }] }])
    );
}

/// Sections the gateway does not read (today's schedules, HTTP routes, …; a newer server's new ones) are
/// skipped, whatever they hold; a malformed section it reads is a `PROTOCOL` error.
#[test]
fn unread_sections_are_skipped_and_read_ones_checked() {
    let schema = edited_v10(|sections| {
        sections.push(json!({ "SomeFutureSection": { "anything": [1, 2, 3] } }));
        sections.push(json!({ "HttpRoutes": "not what 2.x writes" }));
    })
    .unwrap();
    assert_eq!(schema.tables.len(), 5);

    let e = edited_v10(|sections| section(sections, "Tables")[0]["is_event"] = json!("yes")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Protocol);
    assert!(e.message.starts_with("malformed module schema"), "{e}");
}

/// Facts the record's module does not show: a procedural view's primary key (`ViewPrimaryKeys`), a view with
/// parameters (no SQL can pass them), a private view, a reducer that is not `ClientCallable`.
#[test]
fn view_keys_parameters_privacy_and_reducer_visibility() {
    let schema = edited_v10(|sections| {
        sections.push(json!({ "ViewPrimaryKeys": [{ "view_source_name": "my_messages", "columns": ["id"] }] }));
        let views = section(sections, "Views");
        views[1]["params"] =
            json!({ "elements": [{ "name": { "some": "room" }, "algebraic_type": { "String": [] } }] });
        views[0]["is_public"] = json!(false);
        section(sections, "Reducers")[0]["visibility"] = json!({ "Private": [] });
    })
    .unwrap();
    let mine = schema.table("my_messages").unwrap();
    assert_eq!(mine.primary_key, Some(0));
    assert!(!mine.public && !mine.subscribable());
    let latest = schema.table("latest_message").unwrap();
    assert!(latest.public && !latest.subscribable());
    assert!(matches!(&latest.kind, TableKind::View(v) if v.params[0].name == "room"));
    assert!(schema.reducer("send_message").unwrap().lifecycle);

    let e = edited_v10(|sections| {
        sections.push(json!({ "ViewPrimaryKeys": [{ "view_source_name": "my_messages", "columns": ["nope"] }] }));
    })
    .unwrap_err();
    assert!(e.message.contains("view my_messages: primary key column nope does not exist"), "{e}");
}
