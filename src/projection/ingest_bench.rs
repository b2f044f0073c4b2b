//! A throughput measurement, not a test: an initial subscription of 100k `document` rows, from the
//! server's frame to rows in the projection (what `Session` does on `SubscribeMultiApplied`).
//!
//! `CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo test --release --lib projection::ingest_bench -- --ignored --nocapture`

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use spacetimedb_client_api_messages::websocket::common::{QuerySetId, RowSizeHint};
use spacetimedb_client_api_messages::websocket::v1 as ws;
use spacetimedb_sats::bsatn;

use crate::codec::protocol::{self, ServerMessage};
use crate::codec::tests::decode_bench::document_row;
use crate::codec::tests::reference_schema;
use crate::projection::Projection;

const ROWS: usize = 100_000;

fn subscribe_applied_frame() -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = Vec::with_capacity(ROWS);
    for i in 0..ROWS {
        offsets.push(data.len() as u64);
        data.extend_from_slice(&document_row(i));
    }
    let list = ws::BsatnRowList::new(RowSizeHint::RowOffsets(Arc::from(offsets)), Bytes::from(data));
    let update = ws::TableUpdate {
        table_id: 4096.into(),
        table_name: "document".into(),
        num_rows: ROWS as u64,
        updates: [ws::CompressableQueryUpdate::Uncompressed(ws::QueryUpdate {
            deletes: Default::default(),
            inserts: list,
        })]
        .into(),
    };
    let msg: ServerMessage = ws::ServerMessage::SubscribeMultiApplied(ws::SubscribeMultiApplied {
        request_id: 1,
        total_host_execution_duration_micros: 0,
        query_id: QuerySetId::new(1),
        update: ws::DatabaseUpdate { tables: vec![update] },
    });
    let mut frame = vec![0u8];
    frame.extend(bsatn::to_vec(&msg).unwrap());
    frame
}

#[test]
#[ignore = "benchmark: run explicitly in release mode"]
fn ingest_100k_document_rows() {
    let schema = reference_schema();
    let frame = subscribe_applied_frame();
    for _ in 0..5 {
        let mut projection = Projection::new(&schema);
        let t0 = Instant::now();
        let ServerMessage::SubscribeMultiApplied(applied) = protocol::decode_server_frame(&frame).unwrap() else {
            panic!()
        };
        let t1 = Instant::now();
        let table = &applied.update.tables[0];
        let mut inserts = Vec::new();
        for q in protocol::query_updates(table).unwrap() {
            inserts.extend(protocol::rows(&q.inserts).unwrap());
        }
        let t2 = Instant::now();
        let changes = projection.apply("document", &[] as &[Bytes], &inserts).unwrap();
        let t3 = Instant::now();
        assert_eq!(changes.len(), ROWS);
        println!(
            "{ROWS} rows, {:.1} MiB: decode message {:.1} ms, split rows {:.1} ms, projection {:.1} ms; total {:.1} ms = {:.2} M rows/s",
            frame.len() as f64 / (1 << 20) as f64,
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3,
            (t3 - t0).as_secs_f64() * 1e3,
            ROWS as f64 / (t3 - t0).as_secs_f64() / 1e6
        );
    }
}
