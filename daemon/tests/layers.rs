//! No module of the product uses a module of a layer above its own.
//!
//! The layers are the table under "## Layers" in docs/architecture.md; this test reads
//! that table and every `crate::…` path in the code of `daemon/src` (test code aside: a
//! test may build its fixtures from any layer), so the document and the code cannot drift
//! apart. Every top-level module must be in the table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ARCHITECTURE: &str = include_str!("../../docs/architecture.md");

/// Module name → layer number, from the table: `| N | `a`, `b` | what they own |`.
fn layers() -> BTreeMap<String, u32> {
    let section = ARCHITECTURE
        .split("\n## Layers\n")
        .nth(1)
        .expect("docs/architecture.md has a \"## Layers\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut layers = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, number, modules, ..] = cells.as_slice() else {
            continue;
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        for module in modules.split(',') {
            let module = module.trim().trim_matches('`');
            assert!(
                layers.insert(module.to_string(), number).is_none(),
                "`{module}` is in two layers"
            );
        }
    }
    assert!(!layers.is_empty(), "the Layers table lists no module");
    layers
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files a `#[cfg(test)] mod name;` declares: test code.
fn test_modules(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut tests = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        // A `foo.rs` declares its children in `foo/`, a `mod.rs` or `lib.rs` beside it.
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let parent = file.parent().unwrap();
        let dir = if stem == "mod" || stem == "lib" {
            parent.to_path_buf()
        } else {
            parent.join(stem)
        };
        for pair in lines.windows(2) {
            if pair[0] != "#[cfg(test)]" {
                continue;
            }
            let declared = pair[1]
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'));
            if let Some(name) = declared {
                tests.insert(dir.join(format!("{name}.rs")));
                tests.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    tests
}

/// The top-level modules a line of code names through `crate::`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::X, b}`: the first segment of each item at the top of the group.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            names.push(item);
        } else {
            names.push(rest.to_string());
        }
    }
    names
        .into_iter()
        .filter_map(|n| {
            let first: String = n
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!first.is_empty()).then_some(first)
        })
        .collect()
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let layers = layers();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let tests = test_modules(&files);

    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut missing = Vec::new();
    for line in lib.lines() {
        let declared = line
            .trim()
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ")
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(name) = declared {
            if !layers.contains_key(name) && !tests.contains(&src.join(format!("{name}.rs"))) {
                missing.push(name.to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules missing from docs/architecture.md's Layers table: {missing:?}"
    );

    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if tests.contains(file) || file.ends_with("lib.rs") || file.ends_with("main.rs") {
            continue;
        }
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let Some(&own) = layers.get(&top) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (number, line) in lines.iter().enumerate() {
            let code = line.trim();
            // The inline test module ends the product code of a file.
            if code == "#[cfg(test)]"
                && lines.get(number + 1).is_some_and(|next| {
                    next.trim()
                        .trim_start_matches("pub(crate) ")
                        .trim_start_matches("pub ")
                        .starts_with("mod ")
                })
            {
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            let code = code.split(" //").next().unwrap_or(code);
            for used in crate_paths(code) {
                match layers.get(&used) {
                    Some(&layer) if layer > own => violations.push(format!(
                        "{}:{}: `{top}` (layer {own}) uses `{used}` (layer {layer})",
                        relative.display(),
                        number + 1
                    )),
                    Some(_) => {}
                    None if used == top => {}
                    None => violations.push(format!(
                        "{}:{}: `{used}` is in no layer",
                        relative.display(),
                        number + 1
                    )),
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layers of docs/architecture.md:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_path_reader_sees_grouped_and_nested_imports() {
    assert_eq!(crate_paths("use crate::lds::sod::Sod;"), ["lds"]);
    assert_eq!(
        crate_paths("use crate::{config::{Config, Peer}, fields::FieldSet};"),
        ["config", "fields"]
    );
    assert_eq!(
        crate_paths("let x = crate::session::read(a, crate::sim::card());"),
        ["session", "sim"]
    );
    assert!(crate_paths("notcrate::x").is_empty());
}
