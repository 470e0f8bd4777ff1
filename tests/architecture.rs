//! The module graph reads top-down: no module imports a module that imports it back.
//!
//! Scans `src/` for `crate::<module>` and `super::<module>` paths (comments and
//! `#[cfg(test)]` modules left out: a test may look at its module from anywhere) and fails
//! on any cycle between top-level modules, or between the files of one module folder,
//! printing the cycle. Re-exports through a folder's `mod.rs` are not followed: the
//! folder's root is no node of its own graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source of one file without comments and `#[cfg(test)]` modules.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.find("//").map_or(line, |i| &line[..i]);
        out.push_str(line);
        out.push('\n');
    }
    let mut code = out;
    while let Some(at) = code.find("#[cfg(test)]") {
        let rest = &code[at..];
        let end = match (rest.find('{'), rest.find(';')) {
            // `#[cfg(test)] mod x;`: the declaration only.
            (b, Some(semi)) if b.is_none_or(|b| semi < b) => at + semi + 1,
            (Some(open), _) => {
                let mut depth = 0usize;
                let mut end = code.len();
                for (i, c) in code[at + open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = at + open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            _ => code.len(),
        };
        code.replace_range(at..end, "");
    }
    code
}

/// The first segment of every path that starts with `prefix` (`crate::`, `super::`),
/// including each item of a `prefix{a, b::c}` group.
fn heads(code: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        // `super::super::` and `self::super::` are not siblings; a longer word ending in
        // the prefix (`xsuper::`) is not the keyword.
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            let chars: Vec<char> = group.chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 0 => {
                        let name = ident(&chars[i..].iter().collect::<String>());
                        if !name.is_empty() {
                            out.insert(name);
                        }
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level modules, and for each module folder the graph between its files.
fn graphs(src: &Path) -> (Graph, BTreeMap<String, Graph>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let name = |p: &Path| p.file_stem().unwrap().to_str().unwrap().to_string();
    let top: BTreeSet<String> = fs::read_dir(src)
        .unwrap()
        .flatten()
        .map(|e| name(&e.path()))
        .filter(|n| n != "lib" && n != "main")
        .collect();
    let mut modules = Graph::new();
    let mut folders: BTreeMap<String, Graph> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_str()
                    .unwrap()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        if parts.len() == 1 && !top.contains(&parts[0]) || parts.last().unwrap() == "tests" {
            continue;
        }
        let code = code(&fs::read_to_string(&file).unwrap());
        let own = parts[0].clone();
        let crate_heads = heads(&code, "crate::");
        let node = modules.entry(own.clone()).or_default();
        node.extend(
            crate_heads
                .iter()
                .filter(|m| top.contains(*m) && **m != own)
                .cloned(),
        );
        // A top-level folder's root: `super::` is the crate.
        if parts.len() == 2 && parts[1] == "mod" {
            node.extend(
                heads(&code, "super::")
                    .into_iter()
                    .filter(|m| top.contains(m) && *m != own),
            );
            continue;
        }
        if parts.len() < 2 || parts.last().unwrap() == "mod" {
            continue;
        }
        // A file inside a folder: `super::x` is a sibling, and so is `crate::<own>::x`
        // for a file directly in a top-level folder.
        let folder = parts[..parts.len() - 1].join("/");
        let me = parts.last().unwrap().clone();
        let dir = src.join(&folder);
        let siblings: BTreeSet<String> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| name(&e.path()))
            .filter(|n| n != "mod")
            .collect();
        let mut deps: BTreeSet<String> = heads(&code, "super::");
        if parts.len() == 2 {
            deps.extend(heads(&code, &format!("crate::{own}::")));
        }
        let g = folders.entry(folder).or_default();
        g.entry(me.clone()).or_default().extend(
            deps.into_iter()
                .filter(|d| siblings.contains(d) && *d != me),
        );
    }
    (modules, folders)
}

/// A cycle in `g`, as the path that closes it, if there is one.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        g: &Graph,
        n: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(g, m, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_cycles_between_top_level_modules() {
    let (modules, _) = graphs(&src());
    assert!(modules.contains_key("verdict") && modules.contains_key("report"));
    if let Some(cycle) = find_cycle(&modules) {
        panic!("modules import each other: {}", cycle.join(" -> "));
    }
}

#[test]
fn no_cycles_between_the_files_of_a_module() {
    let (_, folders) = graphs(&src());
    assert!(folders.contains_key("score") && folders.contains_key("verdict"));
    let cycles: Vec<String> = folders
        .iter()
        .filter_map(|(folder, g)| find_cycle(g).map(|c| format!("{folder}: {}", c.join(" -> "))))
        .collect();
    assert!(
        cycles.is_empty(),
        "files import each other:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_verdict_sits_below_the_report_and_exit_below_both() {
    let (modules, _) = graphs(&src());
    assert!(modules["report"].contains("verdict"));
    assert!(!modules["verdict"].contains("report"));
    assert!(modules["exit"].is_empty(), "{:?}", modules["exit"]);
}

#[test]
fn paths_are_found_in_uses_and_groups_but_not_in_comments_or_tests() {
    let text = "use crate::score::{self, Metrics};\n\
                use crate::{report::CaseReport, suite};\n\
                // use crate::provider::Metadata;\n\
                use super::spill::Samples;\n\
                fn f() { super::super::x(); crate::store::write(); }\n\
                #[cfg(test)]\nmod tests {\n    use crate::app::y;\n    fn g() { if true {} }\n}\n\
                use super::{model::A, sample};\n";
    let code = code(text);
    assert_eq!(
        heads(&code, "crate::").into_iter().collect::<Vec<_>>(),
        ["report", "score", "store", "suite"]
    );
    assert_eq!(
        heads(&code, "super::").into_iter().collect::<Vec<_>>(),
        ["model", "sample", "spill", "super"]
    );
}

#[test]
fn a_cycle_is_found_and_spelled_out() {
    let g: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .fold(Graph::new(), |mut g, (from, to)| {
            g.entry(from.into()).or_default().insert(to.into());
            g
        });
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    let mut acyclic = g.clone();
    acyclic.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&acyclic), None);
}
