//! Tests of the schema and codec against the reference module's schema
//! (`tests/fixtures/reference-schema.v9.json`).
