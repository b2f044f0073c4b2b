//! The buffer one take returns: the contract between the relay and `lib/stream.js`, defined here once.
//!
//! ```text
//! header  u32 LE entries, u32 LE more (1: take again after letting the sockets drain)
//! data    the streams' bytes, in index order
//! index   `entries` times: u32 LE stream id, u32 LE byte length, u32 LE flags (bit ENDED: the stream ended)
//! ```
//!
//! The index comes last so the streams write their bytes straight into the buffer that crosses to JS
//! (one copy, into V8's heap). The JS side reads it with constants generated from this file:
//! `lib/take-layout.js`, which a test here renders and compares (`SPACETIME_GATEWAY_WRITE_GENERATED=1
//! cargo test take_layout` rewrites it).

/// Bytes before the data.
pub const HEADER_BYTES: usize = 8;
/// Where in the header: the number of index entries, and the "take again" flag.
pub const ENTRIES_AT: usize = 0;
pub const MORE_AT: usize = 4;
/// Bytes per index entry, and where in an entry: stream id, byte length, flags.
pub const ENTRY_BYTES: usize = 12;
pub const ID_AT: usize = 0;
pub const LENGTH_AT: usize = 4;
pub const FLAGS_AT: usize = 8;
/// Flag: the stream ended with this entry (nothing follows it).
pub const ENDED: u32 = 1;

/// One take's buffer while it is being filled.
#[derive(Debug)]
pub struct TakeBuffer {
    bytes: Vec<u8>,
    index: Vec<[u32; 3]>,
}

impl Default for TakeBuffer {
    fn default() -> Self {
        TakeBuffer { bytes: vec![0; HEADER_BYTES], index: Vec::new() }
    }
}

impl TakeBuffer {
    /// Where the streams append their bytes (after the header; an entry then says whose they were).
    pub fn data(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Bytes of stream output so far.
    pub fn data_len(&self) -> usize {
        self.bytes.len() - HEADER_BYTES
    }

    /// The last `len` bytes appended are stream `id`'s; `ended`: the stream ended.
    pub fn entry(&mut self, id: u32, len: u32, ended: bool) {
        self.index.push([id, len, if ended { ENDED } else { 0 }]);
    }

    /// The finished buffer: header, data, index.
    pub fn finish(mut self, more: bool) -> Vec<u8> {
        self.bytes.reserve_exact(self.index.len() * ENTRY_BYTES);
        for entry in &self.index {
            for value in entry {
                self.bytes.extend_from_slice(&value.to_le_bytes());
            }
        }
        put_u32(&mut self.bytes, ENTRIES_AT, self.index.len() as u32);
        put_u32(&mut self.bytes, MORE_AT, u32::from(more));
        self.bytes
    }
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn get_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// One stream's part of a take.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub id: u32,
    pub bytes: &'a [u8],
    pub ended: bool,
}

/// Reads a take buffer as `lib/stream.js` does (Rust tests read takes with it); panics if the index does
/// not cover the data exactly.
pub fn read(buffer: &[u8]) -> (Vec<Entry<'_>>, bool) {
    let entries = get_u32(buffer, ENTRIES_AT) as usize;
    let more = get_u32(buffer, MORE_AT) == 1;
    let index_at = buffer.len() - entries * ENTRY_BYTES;
    let mut at = HEADER_BYTES;
    let mut out = Vec::with_capacity(entries);
    for i in 0..entries {
        let entry = index_at + i * ENTRY_BYTES;
        let len = get_u32(buffer, entry + LENGTH_AT) as usize;
        out.push(Entry {
            id: get_u32(buffer, entry + ID_AT),
            bytes: &buffer[at..at + len],
            ended: get_u32(buffer, entry + FLAGS_AT) & ENDED != 0,
        });
        at += len;
    }
    assert_eq!(at, index_at, "the index covers the data exactly");
    (out, more)
}

/// `lib/take-layout.js`: the layout's constants for the JS side.
pub fn js_constants() -> String {
    let constants = [
        ("HEADER_BYTES", HEADER_BYTES as u32, "bytes before the data"),
        ("ENTRIES_AT", ENTRIES_AT as u32, "header: u32 LE number of index entries"),
        ("MORE_AT", MORE_AT as u32, "header: u32 LE, 1 = take again after letting the sockets drain"),
        ("ENTRY_BYTES", ENTRY_BYTES as u32, "bytes per index entry (the index ends the buffer)"),
        ("ID_AT", ID_AT as u32, "entry: u32 LE stream id"),
        ("LENGTH_AT", LENGTH_AT as u32, "entry: u32 LE byte length of the stream's data"),
        ("FLAGS_AT", FLAGS_AT as u32, "entry: u32 LE flags"),
        ("ENDED", ENDED, "flag: the stream ended"),
    ];
    let mut js = String::from(
        "'use strict';\n\
         // Generated from src/relay/take.rs (the layout of the Buffer `take()` returns: header, data, index);\n\
         // do not edit. `SPACETIME_GATEWAY_WRITE_GENERATED=1 cargo test take_layout` rewrites it, and\n\
         // `cargo test` fails while it differs.\n\n\
         module.exports = Object.freeze({\n",
    );
    for (name, value, doc) in constants {
        js.push_str(&format!("  /** {doc} */\n  {name}: {value},\n"));
    }
    js.push_str("});\n");
    js
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streams 7 (`abc`), 9 (nothing, ended) and 8 (`de`, ended), and more to take.
    fn sample() -> Vec<u8> {
        let mut take = TakeBuffer::default();
        take.data().extend_from_slice(b"abc");
        take.entry(7, 3, false);
        take.entry(9, 0, true);
        take.data().extend_from_slice(b"de");
        take.entry(8, 2, true);
        take.finish(true)
    }

    /// Compares a generated file with its committed copy (rewriting it first when asked to).
    fn check_generated(relative: &str, expected: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        if std::env::var_os("SPACETIME_GATEWAY_WRITE_GENERATED").is_some() {
            std::fs::write(&path, expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "{relative} differs from src/relay/take.rs: run SPACETIME_GATEWAY_WRITE_GENERATED=1 cargo test take_layout"
        );
    }

    /// The JS side's constants, and a buffer built here that `__test__/take-layout.test.mjs` hands to the
    /// JS relay hub (it must deliver `sample()`'s streams).
    #[test]
    fn take_layout_is_what_lib_reads() {
        check_generated("lib/take-layout.js", &js_constants());
        let hex: String = sample().iter().map(|b| format!("{b:02x}")).collect();
        check_generated("__test__/fixtures/take-buffer.json", &format!("{{ \"hex\": \"{hex}\" }}\n"));
    }

    #[test]
    fn a_buffer_reads_back_as_written() {
        let buffer = sample();
        assert_eq!(buffer.len(), HEADER_BYTES + 5 + 3 * ENTRY_BYTES);
        let (entries, more) = read(&buffer);
        assert!(more);
        assert_eq!(
            entries,
            vec![
                Entry { id: 7, bytes: b"abc", ended: false },
                Entry { id: 9, bytes: b"", ended: true },
                Entry { id: 8, bytes: b"de", ended: true },
            ]
        );
        let empty = TakeBuffer::default().finish(false);
        assert_eq!(empty.len(), HEADER_BYTES);
        let (entries, more) = read(&empty);
        assert!(entries.is_empty() && !more);
    }
}
