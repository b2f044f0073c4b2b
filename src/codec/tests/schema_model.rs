//! The schema model read from the reference module's schema JSON.

use serde_json::json;

use super::{reference_schema, REFERENCE_SCHEMA_JSON};
use crate::codec::{Schema, TableKind, ViewFacts};
use crate::error::ErrorCode;

#[test]
fn reads_every_table_with_columns_primary_key_and_visibility() {
    let schema = reference_schema();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["all_types", "audit_event", "document", "membership", "tenant"]);

    let document = schema.table("document").unwrap();
    let columns: Vec<(&str, &str)> = document.columns.iter().map(|c| (c.name.as_str(), c.type_name.as_str())).collect();
    assert_eq!(
        columns,
        [
            ("id", "u64"),
            ("tenant_id", "String"),
            ("title", "String"),
            ("body", "String"),
            ("owner", "Identity"),
            ("updated_at", "Timestamp"),
            ("version", "u32"),
        ]
    );
    assert_eq!(document.primary_key, Some(0));
    assert!(document.public);
    assert_eq!(document.column_index("owner"), Some(4));
    assert_eq!(document.column_index("nope"), None);
    assert!(schema.table("nope").is_none());
}

#[test]
fn names_every_all_types_column_type() {
    let schema = reference_schema();
    let all_types = schema.table("all_types").unwrap();
    let types: Vec<&str> = all_types.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(
        types,
        [
            "u32",
            "String",
            "u8",
            "u16",
            "u32",
            "u64",
            "u128",
            "u256",
            "i8",
            "i16",
            "i32",
            "i64",
            "i128",
            "i256",
            "f32",
            "f64",
            "bool",
            "String",
            "Identity",
            "ConnectionId",
            "Timestamp",
            "TimeDuration",
            "Option<String>",
            "Option<i32>",
            "Vec<u8>",
            "Vec<String>",
            "Color",
            "Shape",
            "Address",
            "Vec<Shape>",
        ]
    );
}

#[test]
fn reads_reducers_and_their_parameters() {
    let schema = reference_schema();
    let set_member = schema.reducer("set_member").unwrap();
    let params: Vec<(&str, &str)> = set_member.params.iter().map(|p| (p.name.as_str(), p.type_name.as_str())).collect();
    assert_eq!(params, [("tenant_id", "String"), ("member", "Identity"), ("role", "Role")]);
    assert!(!set_member.lifecycle);
    assert_eq!(schema.reducer("insert_all_types").unwrap().params[0].type_name, "AllTypes");
    assert_eq!(schema.reducers.len(), 9);
    assert!(schema.reducer("nope").is_none());
}

#[test]
fn describe_lists_tables_and_callable_reducers() {
    let described = reference_schema().describe();
    assert_eq!(
        described["tables"][2],
        json!({
            "name": "document",
            "columns": [
                { "name": "id", "type": "u64" },
                { "name": "tenant_id", "type": "String" },
                { "name": "title", "type": "String" },
                { "name": "body", "type": "String" },
                { "name": "owner", "type": "Identity" },
                { "name": "updated_at", "type": "Timestamp" },
                { "name": "version", "type": "u32" },
            ],
            "primaryKey": "id",
            "public": true,
            "event": false,
        })
    );
    assert_eq!((&described["version"], &described["views"]), (&json!(9), &json!([])));
    assert_eq!(
        described["reducers"][0],
        json!({ "name": "create_document", "params": [
            { "name": "tenant_id", "type": "String" },
            { "name": "title", "type": "String" },
            { "name": "body", "type": "String" },
        ]})
    );
    assert_eq!(described["reducers"].as_array().unwrap().len(), 9);
}

/// A schema made of the reference one with `edit` applied to its JSON.
fn edited_schema(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Schema, crate::GatewayError> {
    let mut raw: serde_json::Value = serde_json::from_str(REFERENCE_SCHEMA_JSON).unwrap();
    edit(&mut raw);
    Schema::from_json(&raw.to_string())
}

#[test]
fn lifecycle_private_and_keyless_tables_are_read() {
    let schema = edited_schema(|raw| {
        raw["reducers"][0]["lifecycle"] = json!({ "some": { "OnConnect": [] } });
        raw["tables"][2]["table_access"] = json!({ "Private": [] });
        raw["tables"][2]["primary_key"] = json!([]);
    })
    .unwrap();
    assert!(schema.reducer("create_document").unwrap().lifecycle);
    let document = schema.table("document").unwrap();
    assert!(!document.public);
    assert_eq!(document.primary_key, None);
    let described = schema.describe();
    assert_eq!(described["tables"][2]["primaryKey"], json!(null));
    assert_eq!(described["tables"][2]["public"], json!(false));
    assert!(described["reducers"].as_array().unwrap().iter().all(|r| r["name"] != "create_document"));
}

#[test]
fn views_of_2x_modules_are_read_as_tables() {
    // The V9 export of a 2.x module lists views in `misc_exports`; a view returning `Vec<Document>`
    // (typespace entry 7) has the document columns and no primary key.
    let view = |name: &str, return_type: serde_json::Value| {
        json!({ "View": {
            "name": name, "index": 0, "is_public": true, "is_anonymous": false,
            "params": { "elements": [] }, "return_type": return_type,
        }})
    };
    let schema = edited_schema(|raw| {
        raw["misc_exports"] = json!([
            view("my_documents", json!({ "Array": { "Ref": 7 } })),
            view(
                "latest_document",
                json!({ "Sum": { "variants": [
                    { "name": { "some": "some" }, "algebraic_type": { "Ref": 7 } },
                    { "name": { "some": "none" }, "algebraic_type": { "Product": { "elements": [] } } },
                ]}})
            ),
        ]);
    })
    .unwrap();
    let document = schema.table("document").unwrap();
    assert_eq!(document.kind, TableKind::Table);
    for name in ["my_documents", "latest_document"] {
        let view = schema.table(name).unwrap();
        assert_eq!(view.kind, TableKind::View(ViewFacts { per_caller: true, params: vec![] }));
        assert!(view.public && view.subscribable());
        assert_eq!(view.primary_key, None);
        let columns: Vec<_> = view.columns.iter().map(|c| (&c.name, &c.type_name)).collect();
        let document_columns: Vec<_> = document.columns.iter().map(|c| (&c.name, &c.type_name)).collect();
        assert_eq!(columns, document_columns);
    }
    let described = schema.describe();
    assert_eq!(described["tables"].as_array().unwrap().len(), 5, "views are listed apart from tables");
    assert_eq!(described["views"][0]["name"], json!("my_documents"));
    assert_eq!(described["views"][0]["perCaller"], json!(true));
    let mut row = 7u64.to_le_bytes().to_vec();
    for text in ["t", "title", "body"] {
        row.extend((text.len() as u32).to_le_bytes());
        row.extend(text.as_bytes());
    }
    row.extend([0u8; 32 + 8]);
    row.extend(1u32.to_le_bytes());
    let (mut from_view, mut from_table) = (Vec::new(), Vec::new());
    schema.table("my_documents").unwrap().row_to_json(&row, &mut from_view).unwrap();
    document.row_to_json(&row, &mut from_table).unwrap();
    assert_eq!(from_view, from_table);
    assert!(from_view.starts_with(br#"{"id":"7","tenant_id":"t","title":"title""#));

    let scalar_view = edited_schema(|raw| raw["misc_exports"] = json!([view("count", json!({ "U64": [] }))]));
    assert!(scalar_view.unwrap_err().message.contains("view count: returns u64, not rows of a product type"));
}

#[test]
fn malformed_schemas_are_protocol_errors() {
    let not_json = Schema::from_json("{").unwrap_err();
    assert_eq!(not_json.code, ErrorCode::Protocol);
    assert!(not_json.message.starts_with("malformed module schema: "), "{}", not_json.message);

    let wrong_shape = Schema::from_json(r#"{"tables": 3}"#).unwrap_err();
    assert_eq!(wrong_shape.code, ErrorCode::Protocol);

    let dangling = edited_schema(|raw| raw["tables"][0]["product_type_ref"] = json!(99)).unwrap_err();
    assert_eq!(dangling.code, ErrorCode::Protocol);
    assert!(dangling.message.contains("type reference 99 is outside the typespace (11 types)"), "{}", dangling.message);

    let not_a_product = edited_schema(|raw| raw["tables"][0]["product_type_ref"] = json!(1)).unwrap_err();
    assert!(
        not_a_product.message.contains("table all_types: the row type is Color, not a product"),
        "{}",
        not_a_product.message
    );

    let composite_key = edited_schema(|raw| raw["tables"][0]["primary_key"] = json!([0, 1])).unwrap_err();
    assert!(composite_key.message.contains("composite primary keys"), "{}", composite_key.message);

    let ref_cycle = edited_schema(|raw| {
        raw["typespace"]["types"][3] = json!({ "Ref": 5 });
        raw["typespace"]["types"][5] = json!({ "Ref": 3 });
    })
    .unwrap_err();
    assert!(ref_cycle.message.contains("cycle of references"), "{}", ref_cycle.message);
}

#[test]
fn schemas_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Schema>();
    assert_send_sync::<crate::codec::TableDef>();
    assert_send_sync::<crate::codec::ReducerDef>();
}
