//! Benchmark 7: compile time. `streamc build examples/word_count.yaml -o DIR` then
//! `cargo build --release` of the crate it wrote, cold (a fresh target directory: the runtime
//! and its dependencies are compiled too) and warm (the same target directory, `main.rs`
//! touched: only the app crate is rebuilt), with the peak memory of the build's processes
//! (`/usr/bin/time -f %M`: the largest RSS of cargo and every rustc it waited for); and the
//! `stream!` expansion time, measured by the build script (see `build.rs`).

use crate::report::Row;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

mod expansion {
    include!(concat!(env!("OUT_DIR"), "/expansion.rs"));
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The `streamc` binary: `STREAMC_BIN`, else the workspace's release build (built here, untimed,
/// when missing or stale: cargo decides).
fn streamc_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("STREAMC_BIN") {
        return Some(PathBuf::from(p));
    }
    eprintln!("suite: building the streamc CLI (cargo build --release -p streamc) ...");
    let ok = Command::new(cargo())
        .current_dir(workspace())
        .args(["build", "--release", "-q", "-p", "streamc", "--bin", "streamc"])
        .status()
        .is_ok_and(|s| s.success());
    let bin = workspace().join("target/release/streamc");
    (ok && bin.exists()).then_some(bin)
}

/// Runs `cmd`, under `/usr/bin/time` when it exists; returns (seconds, peak RSS in MB).
fn timed(mut cmd: Command) -> Option<(f64, Option<f64>)> {
    let time = Path::new("/usr/bin/time");
    let rss_file = std::env::temp_dir().join(format!("streamc-suite-rss-{}", std::process::id()));
    let mut cmd = if time.exists() {
        let mut t = Command::new(time);
        t.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                t.env(k, v);
            }
        }
        if let Some(d) = cmd.get_current_dir() {
            t.current_dir(d);
        }
        t
    } else {
        std::mem::replace(&mut cmd, Command::new("true"))
    };
    let start = Instant::now();
    let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().ok()?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        eprintln!("suite: {:?} failed ({status})", cmd.get_program());
        return None;
    }
    let rss = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse::<f64>().ok()))
        .map(|kb| kb / 1024.0);
    let _ = std::fs::remove_file(&rss_file);
    Some((secs, rss))
}

/// `streamc build` then `cargo build --release`: (streamc s, cargo s, peak MB).
fn build_once(bin: &Path, dir: &Path, target: &Path, touch: bool) -> Option<(f64, f64, Option<f64>)> {
    let mut sc = Command::new(bin);
    sc.current_dir(workspace()).arg("build").arg("examples/word_count.yaml").arg("-o").arg(dir);
    let (streamc_s, _) = timed(sc)?;
    if touch {
        let main = std::fs::File::options().append(true).open(dir.join("src/main.rs")).ok()?;
        main.set_modified(std::time::SystemTime::now()).ok()?;
    }
    let mut cb = Command::new(cargo());
    cb.arg("build").arg("--release").arg("--manifest-path").arg(dir.join("Cargo.toml")).env("CARGO_TARGET_DIR", target);
    let (cargo_s, rss) = timed(cb)?;
    Some((streamc_s, cargo_s, rss))
}

pub fn run(rows: &mut Vec<Row>, cold: bool) {
    let b = "7. compile time";
    rows.push(
        Row::new(b, "`stream!` expansion of word count (compile_macro, opt-level 0)", expansion::MACRO_US / 1e3, "ms")
            .target("≤ 50 ms", expansion::MACRO_US <= 50_000.0),
    );
    rows.push(Row::new(b, "YAML expansion of word_count.yaml (expand_yaml)", expansion::YAML_US / 1e3, "ms"));
    let Some(bin) = streamc_bin() else {
        eprintln!("suite: no streamc binary (set STREAMC_BIN); compile time skipped");
        return;
    };
    let root = workspace().join("target/bench-tmp/suite-compile");
    let (dir, target) = (root.join("word_count"), root.join("target"));
    if cold {
        let _ = std::fs::remove_dir_all(&target);
        eprintln!("suite: cold build of the word count crate (runtime included) ...");
        if let Some((s, c, rss)) = build_once(&bin, &dir, &target, false) {
            let row = Row::new(b, "cold: streamc build + cargo build --release (fresh target dir)", s + c, "s");
            rows.push(row);
            if let Some(mb) = rss {
                rows.push(Row::new(b, "cold: peak memory of a build process (rustc)", mb, "MB"));
            }
        }
    } else if !target.exists() {
        let _ = build_once(&bin, &dir, &target, false);
    }
    let mut warm = Vec::new();
    for _ in 0..3 {
        warm.extend(build_once(&bin, &dir, &target, true));
    }
    warm.sort_by(|a, b| (a.0 + a.1).total_cmp(&(b.0 + b.1)));
    if let Some(&(s, c, rss)) = warm.get(warm.len() / 2) {
        rows.push(
            Row::new(
                b,
                &format!("warm: streamc build ({:.0} ms) + cargo build --release of the app crate", s * 1e3),
                s + c,
                "s",
            )
            .target("≤ 15 s", s + c <= 15.0),
        );
        if let Some(mb) = rss {
            rows.push(Row::new(b, "warm: peak memory of a build process (rustc)", mb, "MB"));
        }
    }
}
