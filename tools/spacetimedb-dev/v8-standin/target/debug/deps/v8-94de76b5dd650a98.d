/work/main/tools/spacetimedb-dev/v8-standin/target/debug/deps/v8-94de76b5dd650a98.d: src/lib.rs

/work/main/tools/spacetimedb-dev/v8-standin/target/debug/deps/libv8-94de76b5dd650a98.rlib: src/lib.rs

/work/main/tools/spacetimedb-dev/v8-standin/target/debug/deps/libv8-94de76b5dd650a98.rmeta: src/lib.rs

src/lib.rs:
