//! The folders of the crate import each other one way (docs/architecture.md): this test reads every
//! source file and fails on a `crate::<part>` path that a part may not use, so a loop cannot creep back.

use std::path::Path;

/// Each part and the parts it may use (besides `error`, the crate's shared leaf).
const ALLOWED: [(&str, &[&str]); 10] = [
    ("codec", &[]),
    ("diagnostics", &[]),
    ("projection", &["codec"]),
    ("relay", &["codec", "projection"]),
    ("session", &["codec", "diagnostics", "projection"]),
    ("auth", &[]),
    ("actors", &["auth", "codec", "projection", "session"]),
    ("gateway", &["actors", "auth", "codec", "diagnostics", "projection", "relay", "session"]),
    ("bindings", &["actors", "auth", "codec", "diagnostics", "gateway", "projection", "relay", "session"]),
    ("layers", &[]),
];

fn uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let part: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.push(part);
        }
    }
    out
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn parts_import_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    for (part, allowed) in ALLOWED {
        let mut paths = Vec::new();
        let dir = src.join(part);
        if dir.is_dir() {
            files(&dir, &mut paths);
        } else {
            paths.push(src.join(format!("{part}.rs")));
        }
        for path in paths {
            for used in uses(&std::fs::read_to_string(&path).unwrap()) {
                let known = ALLOWED.iter().any(|(p, _)| *p == used);
                if known && used != part && !allowed.contains(&used.as_str()) {
                    problems.push(format!("{} uses crate::{used}", path.strip_prefix(&src).unwrap().display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "imports against the layering:\n{}", problems.join("\n"));
}
