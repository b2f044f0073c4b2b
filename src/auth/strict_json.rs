//! JSON parsing that notices repeated object keys.
//!
//! `serde_json::Value` resolves `{"sub":"alice","sub":"mallory"}` silently (the last one wins), while
//! SpacetimeDB's claim structs refuse a repeated field and other JWT libraries keep the first: one token,
//! two identities depending on who reads it. So token JSON is parsed here, where every repeated key is
//! recorded with its path, and the caller decides (verification refuses, diagnostics report).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Repeated keys recorded per document: enough to name the cause without letting a hostile 16 KiB
/// token build a long list.
pub const MAX_RECORDED_DUPLICATES: usize = 8;

/// Parses one JSON document. Returns the value (a repeated key keeps its last value, as
/// `serde_json::Value` does) and the paths of the repeated keys (`sub`, `act.sub`, `perms[2].id`),
/// each once, in order of appearance.
pub fn parse(bytes: &[u8]) -> serde_json::Result<(Value, Vec<String>)> {
    let duplicates = RefCell::new(Vec::new());
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = Node { path: Path::Root, duplicates: &duplicates }.deserialize(&mut deserializer)?;
    deserializer.end()?; // trailing characters are an error, as with serde_json::from_slice
    Ok((value, duplicates.into_inner()))
}

/// Where a value sits, rendered only when a duplicate is found (most tokens have none).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => write!(f, "{key}"),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// A value being parsed: builds the same `Value` serde_json would, and records repeated keys.
struct Node<'a> {
    path: Path<'a>,
    duplicates: &'a RefCell<Vec<String>>,
}

impl Node<'_> {
    fn record(&self, path: String) {
        let mut duplicates = self.duplicates.borrow_mut();
        if duplicates.len() < MAX_RECORDED_DUPLICATES && !duplicates.contains(&path) {
            duplicates.push(path);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let child = Node { path: Path::Index(&self.path, items.len()), duplicates: self.duplicates };
            match seq.next_element_seed(child)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = Path::Key(&self.path, &key);
            let value = map.next_value_seed(Node { path, duplicates: self.duplicates })?;
            if object.contains_key(&key) {
                self.record(path.to_string());
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dups(json: &str) -> Vec<String> {
        parse(json.as_bytes()).unwrap().1
    }

    #[test]
    fn builds_what_serde_json_builds() {
        let text = r#"{"a":[1,-2,3.5,1e3,"s",true,null,{"b":{}}],"u":18446744073709551615,"e":"\u00e9\ud83d\ude00"}"#;
        let (value, duplicates) = parse(text.as_bytes()).unwrap();
        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
        assert!(duplicates.is_empty());
    }

    #[test]
    fn records_repeated_keys_at_every_depth_with_their_path() {
        assert_eq!(dups(r#"{"sub":"alice","sub":"mallory"}"#), ["sub"]);
        assert_eq!(dups(r#"{"act":{"sub":"a","sub":"b"}}"#), ["act.sub"]);
        assert_eq!(dups(r#"{"p":[{"id":1},{"id":1,"id":2}]}"#), ["p[1].id"]);
        assert_eq!(dups(r#"{"a":1,"b":2,"a":3,"a":4,"b":5}"#), ["a", "b"]);
        // Keys that differ only by escaping are the same key once decoded.
        assert_eq!(dups(r#"{"sub":"a","s\u0075b":"b"}"#), ["sub"]);
        // The same key in sibling objects is no duplicate.
        assert!(dups(r#"{"a":{"k":1},"b":{"k":1}}"#).is_empty());
        // Last one wins, as with serde_json::Value.
        assert_eq!(parse(br#"{"sub":"alice","sub":"mallory"}"#).unwrap().0["sub"], "mallory");
    }

    #[test]
    fn the_record_is_bounded() {
        let many: Vec<String> = (0..100).map(|i| format!(r#""k{i}":1,"k{i}":2"#)).collect();
        assert_eq!(dups(&format!("{{{}}}", many.join(","))).len(), MAX_RECORDED_DUPLICATES);
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for bad in ["", "{", "{}x", "[1,]", r#"{"a":1,}"#, "nan", "1e400"] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(deep.as_bytes()).is_err(), "the recursion limit still applies");
    }
}
