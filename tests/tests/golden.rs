//! Golden tests of the compiler: `streamc check` diagnostics for bad specs
//! (`data/check/err/*.yaml` → `*.stderr`), clean checks for good ones (`data/check/ok/`), and
//! `streamc expand` output for the examples (`data/expand/*.rs`).
//! Regenerate with `STREAMC_BLESS=1 cargo test -p streamc-tests --test golden` and review the diff.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the golden file, or rewrites it when blessing. Returns a failure
/// description instead of panicking so that one run reports every mismatch.
fn compare(golden: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("STREAMC_BLESS").is_some() {
        std::fs::write(golden, actual).expect("write golden");
        return None;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    (expected != actual).then(|| format!("--- {} differs; actual:\n{actual}", golden.display()))
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string().replace('\\', "/")
}

#[test]
fn check_diagnostics_of_bad_specs() {
    let dir = root().join("tests/data/check/err");
    let files = yaml_files(&dir);
    assert!(files.len() >= 12, "expected at least 12 bad specs, found {}", files.len());
    let mut failures = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("read spec");
        let c = streamc::compile_yaml(&src);
        if c.diags.is_empty() {
            failures.push(format!("{} was accepted, but it is in err/", rel(&f)));
            continue;
        }
        let rendered = streamc::diag::render_text(&c.diags, &c.spans, &rel(&f), &src);
        failures.extend(compare(&f.with_extension("stderr"), &rendered));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn good_specs_check_clean() {
    let mut specs = yaml_files(&root().join("tests/data/check/ok"));
    specs.extend(yaml_files(&root().join("examples")));
    for f in specs {
        let src = std::fs::read_to_string(&f).expect("read spec");
        let c = streamc::compile_yaml(&src);
        assert!(c.diags.is_empty(), "{}", streamc::diag::render_text(&c.diags, &c.spans, &rel(&f), &src));
    }
}

#[test]
fn explain_and_graph_of_examples() {
    use streamc::explain::{GraphFormat, explain, graph};
    let mut failures = Vec::new();
    let mut specs = yaml_files(&root().join("examples"));
    specs.extend(yaml_files(&root().join("tests/data/check/ok")));
    for f in specs {
        let src = std::fs::read_to_string(&f).expect("read spec");
        let c = streamc::compile_yaml(&src);
        let phys = c.physical.as_ref().unwrap_or_else(|| panic!("{}: {:?}", rel(&f), c.diags));
        let stem = f.file_stem().expect("stem").to_string_lossy().into_owned();
        let dir = root().join("tests/data/explain");
        failures.extend(compare(&dir.join(format!("{stem}.txt")), &explain(&c.program, phys)));
        failures.extend(compare(&dir.join(format!("{stem}.dot")), &graph(&c.program, phys, GraphFormat::Dot).unwrap()));
        failures
            .extend(compare(&dir.join(format!("{stem}.mmd")), &graph(&c.program, phys, GraphFormat::Mermaid).unwrap()));
        // The drawing (layout-rs) is not a golden; it must draw every node of the dot text.
        let svg = graph(&c.program, phys, GraphFormat::Svg).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let dot = graph(&c.program, phys, GraphFormat::Dot).unwrap();
        let boxes = dot.matches(" [label=").count();
        assert!(
            svg.starts_with("<?xml") && svg.matches("<rect").count() >= boxes,
            "{stem}: {boxes} nodes, svg:\n{svg}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn expand_output_of_examples() {
    let mut failures = Vec::new();
    let mut specs = yaml_files(&root().join("examples"));
    specs.extend(yaml_files(&root().join("tests/data/check/ok")));
    for f in specs {
        let src = std::fs::read_to_string(&f).expect("read spec");
        let name = rel(&f);
        let code = streamc::expand_yaml(&name, &src).unwrap_or_else(|e| panic!("{e}"));
        let stem = f.file_stem().expect("stem").to_string_lossy().into_owned();
        let golden = root().join("tests/data/expand").join(format!("{stem}.rs.txt"));
        failures.extend(compare(&golden, &code));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
