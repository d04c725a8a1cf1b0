//! Helpers for the infra and events checks: the workspace's function crates, the SAM template
//! as YAML (CloudFormation's short tags such as `!Ref` and `!GetAtt` kept as tagged values)
//! and the Rust sources that tests live in. The checks themselves are in `tests/`.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

/// The workspace root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// A function crate under `functions/`: its directory name and package name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FunctionCrate {
    pub dir: String,
    pub package: String,
}

/// The `name` of a Cargo manifest's `[package]` table.
pub fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if in_package && let Some(rest) = line.strip_prefix("name") {
            let value = rest.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_owned());
        }
    }
    None
}

/// Every crate under `functions/` (a directory with a `Cargo.toml`), sorted.
pub fn function_crates() -> Vec<FunctionCrate> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("functions")).expect("functions/") {
        let path = entry.expect("dir entry").path();
        let manifest = path.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).expect("read Cargo.toml");
        out.push(FunctionCrate {
            dir: path.file_name().unwrap().to_string_lossy().into_owned(),
            package: package_name(&text)
                .unwrap_or_else(|| panic!("{}: no package name", manifest.display())),
        });
    }
    out.sort();
    out
}

/// `infra/template.yaml` parsed.
pub fn template() -> Value {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("template");
    serde_yaml_ng::from_str(&text).expect("template is YAML")
}

/// The value under a CloudFormation short tag (`!Ref X` → `X`), or the value itself.
pub fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => &t.value,
        other => other,
    }
}

/// The tag's name without `!` (`Ref`, `GetAtt`, `Sub`, …) if the value is tagged.
pub fn tag(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) => Some(t.tag.to_string().trim_start_matches('!').to_owned()),
        _ => None,
    }
}

/// The logical id a `!Ref X` or `!GetAtt X.Attr` points at, with the attribute if any.
pub fn reference(v: &Value) -> Option<(String, Option<String>)> {
    let inner = untag(v).as_str()?;
    match tag(v)?.as_str() {
        "Ref" => Some((inner.to_owned(), None)),
        "GetAtt" => {
            let (id, attr) = inner.split_once('.')?;
            Some((id.to_owned(), Some(attr.to_owned())))
        }
        _ => None,
    }
}

/// Every `.rs` file under the given directories (recursively), with its text.
pub fn rust_sources(dirs: &[&str], skip: &[&str]) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, skip: &[PathBuf], out: &mut Vec<(PathBuf, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if skip.iter().any(|s| path.starts_with(s)) || path.ends_with("target") {
                continue;
            }
            if path.is_dir() {
                walk(&path, skip, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push((path, text));
            }
        }
    }
    let root = root();
    let skip: Vec<PathBuf> = skip.iter().map(|s| root.join(s)).collect();
    let mut out = Vec::new();
    for d in dirs {
        walk(&root.join(d), &skip, &mut out);
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_package_name_not_a_dependency_name() {
        let manifest = "[workspace]\nname = \"x\"\n[package]\nversion = \"1\"\nname = \"app\"\n[dependencies]\nname = \"y\"\n";
        assert_eq!(package_name(manifest).as_deref(), Some("app"));
        assert_eq!(package_name("[dependencies]\nname = \"y\"\n"), None);
    }

    #[test]
    fn references_through_short_tags() {
        let v: Value =
            serde_yaml_ng::from_str("a: !Ref Table\nb: !GetAtt Queue.Arn\nc: plain").unwrap();
        assert_eq!(reference(&v["a"]), Some(("Table".into(), None)));
        assert_eq!(
            reference(&v["b"]),
            Some(("Queue".into(), Some("Arn".into())))
        );
        assert_eq!(reference(&v["c"]), None);
    }
}
