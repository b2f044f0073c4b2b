//! Writes `tests/fixtures/module-2x.v10.json` and `tests/fixtures/module-2x.v9.json`: one module definition as a
//! SpacetimeDB 2.x server serves it at `GET /v1/database/:db/schema?version=10` and `?version=9`.
//!
//! What the server does there (`crates/client-api/src/routes/database.rs`, `schema`, v2.8.3): it takes the
//! module's validated `ModuleDef`, converts it with `RawModuleDefV10::from` / `RawModuleDefV9::from`
//! and answers `axum::Json(SerdeWrapper(raw))`. This program does the same with the same crates:
//! the module's raw definition is built with `RawModuleDefV10Builder` (what the 2.x module bindings
//! emit), validated into a `ModuleDef` by `spacetimedb-schema` (what publishing does), converted and
//! serialized exactly like the route. Run: `bash scripts/schema-fixtures.sh`.

use std::path::PathBuf;

use spacetimedb_lib::db::raw_def::v10::{RawModuleDefV10, RawModuleDefV10Builder};
use spacetimedb_lib::db::raw_def::v9::{Lifecycle, RawIndexAlgorithm, RawModuleDefV9, TableAccess};
use spacetimedb_sats::serde::SerdeWrapper;
use spacetimedb_sats::{AlgebraicType, ProductType};
use spacetimedb_schema::def::ModuleDef;

/// A chat module: a table with a primary key, a private table, an event table, a per-caller view, an
/// anonymous view, a client-callable reducer, lifecycle reducers and a procedure. Accessor names in
/// `CamelCase` show the server's default snake_case policy at work (the served V10 keeps the accessor
/// name and says the canonical one in `ExplicitNames`).
fn module() -> RawModuleDefV10 {
    let mut b = RawModuleDefV10Builder::new();
    let message = b
        .build_table_with_new_type(
            "Message",
            ProductType::from([
                ("id", AlgebraicType::U64),
                ("sender", AlgebraicType::identity()),
                ("text", AlgebraicType::String),
                ("sent", AlgebraicType::timestamp()),
            ]),
            true,
        )
        .with_auto_inc_primary_key(0)
        .with_index_no_accessor_name(RawIndexAlgorithm::BTree { columns: 0.into() }, "message_id_idx_btree")
        .with_access(TableAccess::Public)
        .finish();
    b.build_table_with_new_type(
        "moderation_note",
        ProductType::from([("message_id", AlgebraicType::U64), ("note", AlgebraicType::String)]),
        true,
    )
    .with_access(TableAccess::Private)
    .finish();
    b.build_table_with_new_type(
        "Typing",
        ProductType::from([("sender", AlgebraicType::identity()), ("room", AlgebraicType::String)]),
        true,
    )
    .with_access(TableAccess::Public)
    .with_event(true)
    .finish();

    b.add_view("my_messages", 0, true, false, ProductType::unit(), AlgebraicType::array(AlgebraicType::Ref(message)));
    b.add_view(
        "latest_message",
        1,
        true,
        true,
        ProductType::unit(),
        AlgebraicType::option(AlgebraicType::Ref(message)),
    );

    b.add_reducer("SendMessage", ProductType::from([("text", AlgebraicType::String)]));
    b.add_lifecycle_reducer(Lifecycle::Init, "init", ProductType::unit());
    b.add_lifecycle_reducer(Lifecycle::OnConnect, "client_connected", ProductType::unit());
    b.add_procedure("count_messages", ProductType::from([("since", AlgebraicType::timestamp())]), AlgebraicType::U64);
    b.finish()
}

fn main() {
    let def = ModuleDef::try_from(module()).unwrap_or_else(|e| panic!("the module does not validate: {e:?}"));
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let write = |name: &str, json: String| {
        let path = fixtures.join(name);
        std::fs::write(&path, json + "\n").unwrap();
        println!("wrote {}", path.display());
    };
    let v10 = RawModuleDefV10::from(def.clone());
    write("module-2x.v10.json", serde_json::to_string_pretty(&SerdeWrapper(v10)).unwrap());
    let v9 = RawModuleDefV9::from(def);
    write("module-2x.v9.json", serde_json::to_string_pretty(&SerdeWrapper(v9)).unwrap());
}
