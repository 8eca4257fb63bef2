//! Helpers shared by the integration tests: where the workspace is, a fresh scratch directory
//! per test, and JSON-lines output read back in a canonical form.
#![allow(dead_code)] // each test file uses its own subset

pub mod kill;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `streamc` CLI, run from the workspace root with the tests' one build cache (the runtime is
/// compiled once; cargo's lock orders the builds).
pub fn streamc() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamc"));
    cmd.env("STREAMC_CACHE_DIR", root().join("target").join("streamc-cache"));
    // Release builds unless a test asks for `quick` ones, whatever the caller's environment says.
    cmd.env_remove("STREAMC_APP_PROFILE");
    cmd.current_dir(root());
    cmd
}

/// [`streamc`] building apps unoptimised (`STREAMC_APP_PROFILE=quick`: the same results, ~5x
/// faster to build), for tests whose inputs are small and whose apps are rebuilt after every
/// change of the runtime.
pub fn streamc_quick() -> Command {
    let mut cmd = streamc();
    cmd.env("STREAMC_APP_PROFILE", "quick");
    cmd
}

/// Runs `cmd`, failing the test with its status and output unless it succeeds.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run a command");
    assert!(
        out.status.success(),
        "{:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        cmd,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `target/streamc-tests/<name>`, emptied and created.
pub fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target").join("streamc-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Every non-empty line of a JSON-lines file, parsed.
pub fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// A batch's rows as canonical strings (JSON objects serialize with sorted keys), sorted.
pub fn canon(rows: &Value) -> Vec<String> {
    let mut v: Vec<String> = rows.as_array().expect("rows").iter().map(|r| r.to_string()).collect();
    v.sort();
    v
}

/// `--processes N` when `STREAMC_TEST_PROCESSES=N` is set: the conformance suites then run every
/// app as a cluster of N local processes (`tests/cluster.sh` runs them so with 2 and 3), and
/// their rows must still be Spark's.
pub fn cluster_args() -> Vec<String> {
    match std::env::var("STREAMC_TEST_PROCESSES") {
        Ok(n) if !n.is_empty() => vec!["--processes".to_owned(), n],
        _ => Vec::new(),
    }
}
