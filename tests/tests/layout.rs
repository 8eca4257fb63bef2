//! The shape of the code, as rules that fail when broken: no import circle between the modules
//! of `streamc/src` or `runtime/src`, and no source file over 800 lines.
//!
//! An import is any path through `crate::` or `super::` in a module's text (`use` lines and
//! paths written inline alike), resolved to the deepest module it names; `mod` declarations are
//! not imports. A circle is a strongly connected set of two or more modules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under `src`: `lib.rs`/`main.rs` are the root, `a/mod.rs` is `a`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// Text without comments and string literals, so that paths in docs and messages do not count.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"' (lifetimes have no closing quote two bytes on).
            i += 3;
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The text without its `#[cfg(test)]` items: a module's unit tests may use the whole crate
/// (they run the compiler end to end), which is not a dependency of the module itself.
fn without_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // Skip to the end of the item: its first `;` before any `{`, or its matching `}`.
        let (mut depth, mut end) = (0usize, after.len());
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every path that starts with `crate::`, `super::`, `self::` or the name of a child module
/// (use trees with braces expanded), as absolute paths (segments) from the crate root; `here` is
/// the module the code is in and `children` its child modules.
fn paths(code: &str, here: &[String], children: &[String]) -> Vec<Vec<String>> {
    paths_in(&tokenize(code), here, children)
}

fn paths_in(toks: &[String], here: &[String], children: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let preceded_by_colons = i > 0 && toks[i - 1] == "::";
        let followed_by_colons = toks.get(i + 1).is_some_and(|t| t == "::");
        if preceded_by_colons || !followed_by_colons {
            i += 1;
            continue;
        }
        let t = toks[i].as_str();
        let (mut base, mut j) = match t {
            "crate" => (Vec::new(), i + 2),
            "super" => (here[..here.len().saturating_sub(1)].to_vec(), i + 2),
            "self" => (here.to_vec(), i + 2),
            // A child module's name begins the path: it is read as the first segment.
            _ if children.iter().any(|c| c == t) => (here.to_vec(), i),
            _ => {
                i += 1;
                continue;
            }
        };
        // Further `super::` hops.
        while toks.get(j).is_some_and(|t| t == "super") && toks.get(j + 1).is_some_and(|t| t == "::") {
            base.pop();
            j += 2;
        }
        tree(toks, &mut j, base, &mut out);
        i = j.max(i + 1);
    }
    out
}

/// Reads a use tree at `toks[*j]`: `a::b::c`, `a::{b, c::d}`, `*`.
fn tree(toks: &[String], j: &mut usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        match toks.get(*j).map(String::as_str) {
            Some("{") => {
                *j += 1;
                loop {
                    match toks.get(*j).map(String::as_str) {
                        Some("}") => {
                            *j += 1;
                            return;
                        }
                        Some(",") => *j += 1,
                        None => return,
                        _ => tree(toks, j, prefix.clone(), out),
                    }
                }
            }
            Some(t) if t.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_') => {
                prefix.push(t.to_string());
                *j += 1;
                if toks.get(*j).is_some_and(|t| t == "::") {
                    *j += 1;
                    continue;
                }
                out.push(prefix);
                return;
            }
            Some("*") => {
                *j += 1;
                prefix.push("*".to_string());
                out.push(prefix);
                return;
            }
            _ => {
                out.push(prefix);
                return;
            }
        }
    }
}

fn tokenize(code: &str) -> Vec<String> {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            toks.push(std::mem::take(&mut cur));
        }
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            toks.push("::".to_string());
        } else if !c.is_whitespace() {
            toks.push(c.to_string());
        }
    }
    if !cur.is_empty() {
        toks.push(cur);
    }
    toks
}

/// What one module says about names: the names it defines, the names it re-exports (`pub use`,
/// to the path they stand for) and the modules it re-exports whole (`pub use m::*`).
#[derive(Default)]
struct Names {
    defined: Vec<String>,
    /// `macro_rules!` macros written here (`#[macro_export]` puts them at the crate root).
    macros: Vec<String>,
    reexported: Vec<(String, Vec<String>)>,
    globs: Vec<Vec<String>>,
}

fn names(toks: &[String], paths_of_pub_uses: Vec<Vec<String>>) -> Names {
    let mut n = Names::default();
    for w in toks.windows(3) {
        if w[0] == "macro_rules" && w[1] == "!" {
            n.macros.push(w[2].clone());
        }
    }
    for w in toks.windows(2) {
        if matches!(w[0].as_str(), "struct" | "enum" | "fn" | "trait" | "type" | "const" | "static" | "mod" | "union") {
            n.defined.push(w[1].clone());
        }
    }
    for p in paths_of_pub_uses {
        match p.last().map(String::as_str) {
            Some("*") => n.globs.push(p[..p.len() - 1].to_vec()),
            Some(name) => n.reexported.push((name.to_string(), p.clone())),
            None => {}
        }
    }
    n
}

/// The `pub use` statements of a module's tokens (the text after `use` up to `;`), and the
/// tokens without them.
fn pub_uses(toks: &[String]) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut rest = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let at = i;
        if toks[i] == "pub" {
            let mut j = i + 1;
            if toks.get(j).is_some_and(|t| t == "(") {
                while j < toks.len() && toks[j] != ")" {
                    j += 1;
                }
                j += 1;
            }
            if toks.get(j).is_some_and(|t| t == "use") {
                let mut k = j + 1;
                while k < toks.len() && toks[k] != ";" {
                    out.push_str(&toks[k]);
                    out.push(' ');
                    k += 1;
                }
                out.push_str("; ");
                i = k + 1;
                continue;
            }
        }
        rest.push(toks[at].clone());
        i = at + 1;
    }
    (out, rest)
}

/// The module graph of one crate: module -> the modules it imports, with re-exports followed to
/// the module that defines the name (a facade such as `lib.rs` or `table/mod.rs` that only
/// re-exports is not what its users depend on).
fn graph(src: &Path) -> BTreeMap<Vec<String>, Vec<Vec<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    // `main.rs` is a second crate root beside `lib.rs`; its `crate::` is not the library's.
    files.retain(|f| f.file_name().is_none_or(|n| n != "main.rs"));
    let modules: Vec<(Vec<String>, String)> = files
        .iter()
        .map(|f| (module_of(src, f), without_tests(&code_only(&std::fs::read_to_string(f).expect("read source")))))
        .collect();
    let known: Vec<Vec<String>> = modules.iter().map(|(m, _)| m.clone()).collect();
    let children = |m: &Vec<String>| -> Vec<String> {
        known.iter().filter(|k| k.len() == m.len() + 1 && k.starts_with(m)).map(|k| k[m.len()].clone()).collect()
    };
    let mut table: BTreeMap<Vec<String>, Names> = BTreeMap::new();
    // Each module's tokens without its `pub use` lines: a re-export is followed, not counted.
    let mut bodies: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (m, code) in &modules {
        let toks = tokenize(code);
        let (uses, rest) = pub_uses(&toks);
        table.insert(m.clone(), names(&toks, paths(&uses, m, &children(m))));
        bodies.insert(m.clone(), rest);
    }
    let deepest = |p: &[String]| -> Vec<String> {
        (0..=p.len()).rev().map(|n| p[..n].to_vec()).find(|q| known.contains(q)).unwrap_or_default()
    };
    // The module that defines what `p` names, following re-exports (at most 8 hops).
    fn resolve(
        p: Vec<String>,
        hops: usize,
        deepest: &dyn Fn(&[String]) -> Vec<String>,
        table: &BTreeMap<Vec<String>, Names>,
    ) -> Vec<String> {
        let m = deepest(&p);
        let Some(name) = p.get(m.len()) else { return m };
        let Some(names) = table.get(&m) else { return m };
        if hops == 0 || names.defined.contains(name) {
            return m;
        }
        if m.is_empty()
            && let Some((home, _)) = table.iter().find(|(_, n)| n.macros.contains(name))
        {
            return home.clone();
        }
        if let Some((_, target)) = names.reexported.iter().find(|(n, t)| n == name && *t != p) {
            let mut q = target.clone();
            q.extend_from_slice(&p[m.len() + 1..]);
            return resolve(q, hops - 1, deepest, table);
        }
        for g in &names.globs {
            let defines =
                table.get(g).is_some_and(|n| n.defined.contains(name) || n.reexported.iter().any(|(r, _)| r == name));
            if defines {
                let mut q = g.clone();
                q.extend_from_slice(&p[m.len()..]);
                return resolve(q, hops - 1, deepest, table);
            }
        }
        m
    }
    let mut g = BTreeMap::new();
    for (m, _) in &modules {
        let mut deps: Vec<Vec<String>> = Vec::new();
        for p in paths_in(&bodies[m], m, &children(m)) {
            let t = resolve(p, 8, &deepest, &table);
            if &t != m && !deps.contains(&t) {
                deps.push(t);
            }
        }
        g.insert(m.clone(), deps);
    }
    g
}

/// Strongly connected components of two or more modules (Tarjan's algorithm).
fn circles(g: &BTreeMap<Vec<String>, Vec<Vec<String>>>) -> Vec<Vec<String>> {
    struct St<'g> {
        g: &'g BTreeMap<Vec<String>, Vec<Vec<String>>>,
        index: BTreeMap<&'g Vec<String>, usize>,
        low: BTreeMap<&'g Vec<String>, usize>,
        stack: Vec<&'g Vec<String>>,
        on: Vec<&'g Vec<String>>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut St<'g>, v: &'g Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.push(v);
        for w in &s.g[v] {
            let Some((w, _)) = s.g.get_key_value(w) else { continue };
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("low");
                *lv = (*lv).min(lw);
            } else if s.on.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("low");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.retain(|x| *x != w);
                comp.push(if w.is_empty() { "crate".to_string() } else { w.join("::") });
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = St {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_circles() {
    let mut report = String::new();
    for krate in ["streamc", "runtime"] {
        let g = graph(&root().join(krate).join("src"));
        assert!(g.len() > 5, "{krate}: too few modules read ({}); is the path right?", g.len());
        for c in circles(&g) {
            report += &format!("{krate}/src: modules importing each other in a circle: {}\n", c.join(", "));
            let name = |m: &Vec<String>| if m.is_empty() { "crate".to_string() } else { m.join("::") };
            for (m, deps) in &g {
                for d in deps.iter().filter(|d| c.contains(&name(d)) && c.contains(&name(m))) {
                    report += &format!("  {} -> {}\n", name(m), name(d));
                }
            }
        }
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn the_circle_finder_finds_circles() {
    let m = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    let mut g = BTreeMap::new();
    g.insert(m("a"), vec![m("b")]);
    g.insert(m("b"), vec![m("c")]);
    g.insert(m("c"), vec![m("a")]);
    g.insert(m("d"), vec![m("a")]);
    assert_eq!(circles(&g), vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]);
    // Paths: braces, `super`, and strings or comments ignored.
    let code = code_only("use crate::x::{y::Z, w}; // crate::nope\nlet s = \"crate::nope2\"; super::v::f();");
    let p = paths(&code, &m("q::r"), &["t".to_string()]);
    assert_eq!(p, vec![m("x::y::Z"), m("x::w"), m("q::v::f")]);
    let p = paths("use t::{a, b::*}; let x = t::c();", &m("q"), &["t".to_string()]);
    assert_eq!(p, vec![m("q::t::a"), m("q::t::b::*"), m("q::t::c")]);
}

#[test]
fn no_source_file_over_800_lines() {
    let mut report = String::new();
    for krate in ["streamc", "runtime", "macros"] {
        let mut files = Vec::new();
        rust_files(&root().join(krate).join("src"), &mut files);
        for f in files {
            let n = std::fs::read_to_string(&f).expect("read source").lines().count();
            if n > MAX_LINES {
                report += &format!("{}: {n} lines (at most {MAX_LINES}; split it along a seam)\n", f.display());
            }
        }
    }
    assert!(report.is_empty(), "{report}");
}
