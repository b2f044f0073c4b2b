/work/main/tools/spacetimedb-dev/v8-standin/target/debug/libv8.rlib: /work/main/tools/spacetimedb-dev/v8-standin/src/lib.rs
