//! `events/<function>/<case>.json`: every function has an events directory, every directory
//! belongs to a function, every file is JSON a handler can take (`cargo lambda invoke
//! --data-file`), and every file is loaded by at least one test of the workspace.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use infra_check::{function_crates, root, rust_sources};

fn event_files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(root().join("events"))
        .expect("events/")
        .flatten()
    {
        if !dir.path().is_dir() {
            continue;
        }
        let function = dir.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let case = name.strip_suffix(".json").unwrap_or_else(|| {
                panic!("events/{function}/{name}: only <case>.json files belong here")
            });
            out.push((function.clone(), case.to_owned()));
        }
    }
    out.sort();
    out
}

#[test]
fn every_function_has_events_and_every_events_dir_a_function() {
    let packages: BTreeSet<String> = function_crates().into_iter().map(|c| c.package).collect();
    let dirs: BTreeSet<String> = event_files().into_iter().map(|(f, _)| f).collect();
    for p in &packages {
        assert!(dirs.contains(p), "functions/{p} has no events/{p}/*.json");
    }
    for d in &dirs {
        assert!(
            packages.contains(d),
            "events/{d} belongs to no function crate"
        );
    }
}

#[test]
fn every_event_is_a_json_object() {
    for (function, case) in event_files() {
        let path = root()
            .join("events")
            .join(&function)
            .join(format!("{case}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        assert!(
            v.is_object(),
            "{}: an event is a JSON object",
            path.display()
        );
    }
}

/// The crate a source file belongs to: its nearest ancestor directory with a `Cargo.toml`.
fn crate_of(path: &Path) -> Option<&Path> {
    path.ancestors()
        .skip(1)
        .find(|d| d.join("Cargo.toml").is_file())
}

/// A test references `events/<f>/<case>.json` when it names that path, or when its crate names
/// the directory `events/<f>` (a fixture loader) and holds the case as a literal `"<case>"`.
fn referenced(sources: &[(PathBuf, String)], function: &str, case: &str) -> bool {
    let path = format!("events/{function}/{case}.json");
    let dir = format!("events/{function}\"");
    let dir_slash = format!("events/{function}/\"");
    let literal = format!("\"{case}\"");
    if sources.iter().any(|(_, t)| t.contains(&path)) {
        return true;
    }
    let loaders: BTreeSet<&Path> = sources
        .iter()
        .filter(|(_, t)| t.contains(&dir) || t.contains(&dir_slash))
        .filter_map(|(p, _)| crate_of(p))
        .collect();
    sources
        .iter()
        .any(|(p, t)| t.contains(&literal) && crate_of(p).is_some_and(|c| loaders.contains(c)))
}

#[test]
fn every_event_file_is_loaded_by_a_test() {
    // Tests of every crate except this one (which lists the files but loads none).
    let sources = rust_sources(&["functions", "shared", "tools"], &["tools/infra-check"]);
    let unreferenced: Vec<String> = event_files()
        .into_iter()
        .filter(|(f, c)| !referenced(&sources, f, c))
        .map(|(f, c)| format!("events/{f}/{c}.json"))
        .collect();
    assert!(
        unreferenced.is_empty(),
        "event files no test loads: {unreferenced:#?}"
    );
}

#[test]
fn the_reference_check_finds_a_missing_reference() {
    let sources = vec![
        (
            root().join("tools/infra-check/tests/a.rs"),
            "include_str!(\"../../events/f/one.json\"); let d = \"events/g\"; load(\"two\");"
                .to_owned(),
        ),
        (
            root().join("shared/aws-adapters/src/lib.rs"),
            "\"three\"".to_owned(),
        ),
    ];
    assert!(referenced(&sources, "f", "one"));
    assert!(referenced(&sources, "g", "two"));
    assert!(
        !referenced(&sources, "g", "three"),
        "a literal in another crate does not count"
    );
    assert!(!referenced(&sources, "h", "one"));
}
