//! The CLI's commands. `build` writes a standalone cargo crate; `run` writes it into a cache
//! directory named by the content hash of the generated code, builds it with cargo (a no-op
//! when nothing changed) and runs the binary with the replay and jsonl options.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use streamc::physical::Physical;
use streamc::program::Program;

#[derive(Parser)]
#[command(name = "streamc", version, about = "Compile Spark-style streaming pipelines to native Rust")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Type-check a spec and report every problem with its location.
    Check { spec: PathBuf },
    /// Print the generated Rust code.
    Expand { spec: PathBuf },
    /// Print the checked plan as Spark's `explain()` does: the logical tree of each query or
    /// output, then the physical plan (fused stages, materialized data, state across batches).
    Explain { spec: PathBuf },
    /// Print the plan as a graph: operators, data flow, and each fused stage as a cluster.
    Graph {
        spec: PathBuf,
        /// `dot` (Graphviz), `mermaid`, or `svg` (drawn here, no Graphviz needed).
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormatArg,
    },
    /// Write a standalone cargo crate for the spec.
    Build {
        spec: PathBuf,
        /// Directory to write the crate into (created if missing).
        #[arg(short, long)]
        out: PathBuf,
        /// Build with the runtime's `cluster` feature, so that the binary can run as one process
        /// of a cluster (`--hostfile PATH --process I`).
        #[arg(long)]
        cluster: bool,
    },
    /// Build (cached by content hash) and run the spec.
    Run {
        spec: PathBuf,
        /// Replay input instead of the spec's sources: `DIR` (the only source) or `NAME=DIR`;
        /// each file of DIR, in name order, is one micro-batch.
        #[arg(long, value_name = "[NAME=]DIR")]
        replay: Vec<String>,
        /// Also write every output of every batch as JSON lines to this file.
        #[arg(long, value_name = "FILE")]
        jsonl: Option<PathBuf>,
        /// Use this checkpoint directory instead of the spec's (resumes from it if it holds one).
        #[arg(long, value_name = "DIR")]
        checkpoint: Option<PathBuf>,
        /// Serve a live page of the batches (charts, recent batches, the plan) and Prometheus
        /// `/metrics` on ADDR (`HOST:PORT`, or a port on 127.0.0.1) while the app runs; builds the
        /// app with the runtime's `ui` feature.
        #[arg(long, value_name = "ADDR")]
        ui: Option<String>,
        /// Run as a cluster of N processes on this machine (timely dataflow; each process takes a
        /// share of every batch), supervised: a killed process restarts the cluster from the last
        /// commit.
        #[arg(long, value_name = "N", conflicts_with = "hostfile")]
        processes: Option<usize>,
        /// Run as one member of a cluster whose members (`host:port`, one per line, process 0
        /// first) this file lists; start one such command per line, with `--process`.
        #[arg(long, value_name = "FILE", requires = "process")]
        hostfile: Option<PathBuf>,
        /// This member's line in `--hostfile`, from 0.
        #[arg(long, value_name = "I", requires = "hostfile")]
        process: Option<usize>,
        /// Further arguments for the app after `--` (e.g. `-- --max-batches 5`).
        #[arg(last = true)]
        app_args: Vec<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GraphFormatArg {
    Dot,
    Mermaid,
    Svg,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn read_spec(spec: &Path) -> Result<String> {
    std::fs::read_to_string(spec).with_context(|| format!("cannot read spec `{}`", spec.display()))
}

/// Checks a spec and hands the result to `f`; prints the diagnostics and fails otherwise.
fn with_checked(spec: &Path, f: impl FnOnce(&streamc::Compilation, &Physical)) -> Result<ExitCode> {
    let src = read_spec(spec)?;
    let c = streamc::compile_yaml(&src);
    match &c.physical {
        Some(phys) if c.diags.is_empty() => {
            f(&c, phys);
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprint!("{}", streamc::diag::render_text(&c.diags, &c.spans, &spec.display().to_string(), &src));
            Ok(ExitCode::from(1))
        }
    }
}

/// Compiles a spec to `main.rs`, printing diagnostics on failure.
fn expand(spec: &Path) -> Result<Option<String>> {
    let src = read_spec(spec)?;
    match streamc::expand_yaml(&spec.display().to_string(), &src) {
        Ok(code) => Ok(Some(code)),
        Err(rendered) => {
            eprint!("{rendered}");
            Ok(None)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Cmd::Check { spec } => {
            let src = read_spec(&spec)?;
            let c = streamc::compile_yaml(&src);
            if c.diags.is_empty() {
                let stages = c.physical.as_ref().map_or(0, |p| p.stages().len());
                let plural = |n: usize, what: &str| match (n, what) {
                    (1, _) => format!("1 {what}"),
                    (_, "query") => format!("{n} queries"),
                    _ => format!("{n} {what}s"),
                };
                match &c.program {
                    Program::Table(t) => println!(
                        "ok: `{}` has {}, {}",
                        spec.display(),
                        plural(t.sources.len(), "source"),
                        plural(stages, "query")
                    ),
                    Program::DStream(plan) => println!(
                        "ok: `{}` has {}, {}, {}",
                        spec.display(),
                        plural(plan.streams.len(), "stream"),
                        plural(plan.outputs.len(), "output"),
                        plural(stages, "fused stage")
                    ),
                }
                Ok(ExitCode::SUCCESS)
            } else {
                eprint!("{}", streamc::diag::render_text(&c.diags, &c.spans, &spec.display().to_string(), &src));
                Ok(ExitCode::from(1))
            }
        }
        Cmd::Explain { spec } => {
            Ok(with_checked(&spec, |c, phys| print!("{}", streamc::explain::explain(&c.program, phys)))?)
        }
        Cmd::Graph { spec, format } => {
            let format = match format {
                GraphFormatArg::Dot => streamc::explain::GraphFormat::Dot,
                GraphFormatArg::Mermaid => streamc::explain::GraphFormat::Mermaid,
                GraphFormatArg::Svg => streamc::explain::GraphFormat::Svg,
            };
            let mut drawn = Ok(String::new());
            let code = with_checked(&spec, |c, phys| drawn = streamc::explain::graph(&c.program, phys, format))?;
            match drawn {
                Ok(text) => print!("{text}"),
                Err(e) => bail!("`{}`: {e} (`--format dot` writes the text itself)", spec.display()),
            }
            Ok(code)
        }
        Cmd::Expand { spec } => match expand(&spec)? {
            Some(code) => {
                print!("{code}");
                Ok(ExitCode::SUCCESS)
            }
            None => Ok(ExitCode::from(1)),
        },
        Cmd::Build { spec, out, cluster } => {
            let Some(code) = expand(&spec)? else {
                return Ok(ExitCode::from(1));
            };
            let name = package_name(&spec, &code);
            let mut features = runtime_features(&spec)?;
            if cluster {
                features.push("cluster");
            }
            write_crate(&out, &name, &code, &features)?;
            eprintln!("wrote crate `{name}` to {} (build it with `cargo build --release`)", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Run { spec, replay, jsonl, checkpoint, ui, processes, hostfile, process, app_args } => {
            if processes == Some(0) {
                bail!("`--processes` needs at least 1 process");
            }
            let Some(code) = expand(&spec)? else {
                return Ok(ExitCode::from(1));
            };
            let mut features = runtime_features(&spec)?;
            if ui.is_some() {
                features.push("ui");
            }
            let cluster = processes.is_some_and(|n| n > 1) || hostfile.is_some();
            if cluster {
                features.push("cluster");
            }
            // The features are part of the crate: another set is another crate in the cache.
            let name = match features.is_empty() {
                true => package_name(&spec, &code),
                false => package_name(&spec, &format!("{code}\n{features:?}")),
            };
            let cache = cache_dir()?;
            let keep = crate::cache::keep_from_env().map_err(anyhow::Error::msg)?;
            let profile = app_profile()?;
            let dir = cache.join(&name);
            write_crate(&dir, &name, &code, &features)?;
            crate::cache::touch(&dir).with_context(|| format!("cannot mark {} as used", dir.display()))?;
            let target = cache.join("target");
            if profile == "quick" {
                eprintln!(
                    "streamc: STREAMC_APP_PROFILE=quick: the app is built unoptimised (slow to run; unset it for a real job)"
                );
            }
            eprintln!("streamc: compiling `{}` (crate {})", spec.display(), dir.display());
            let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--profile", profile, "--message-format=json", "--manifest-path"])
                .arg(dir.join("Cargo.toml"))
                .env("CARGO_TARGET_DIR", &target)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .output()
                .context("cannot start cargo (is the Rust toolchain installed?)")?;
            if !output.status.success() {
                report_rustc_errors(&spec, &code, &String::from_utf8_lossy(&output.stdout))?;
                bail!(
                    "the generated crate for `{}` did not compile (see rustc's messages above; the crate is in {})",
                    spec.display(),
                    dir.display()
                );
            }
            prune_cache(&cache, keep);
            let exe = target.join(profile).join(&name);
            let mut cmd = Command::new(&exe);
            for r in &replay {
                cmd.arg("--replay").arg(r);
            }
            if let Some(j) = &jsonl {
                cmd.arg("--jsonl").arg(j);
            }
            if let Some(c) = &checkpoint {
                cmd.arg("--checkpoint").arg(c);
            }
            if let Some(addr) = &ui {
                cmd.arg("--ui").arg(addr);
            }
            cmd.args(&app_args);
            if let (Some(h), Some(p)) = (&hostfile, process) {
                cmd.arg("--hostfile").arg(h).arg("--process").arg(p.to_string());
            }
            if let Some(n) = processes.filter(|&n| n > 1) {
                let mut args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
                // The N processes share this machine's cores: each takes its part of them for its
                // worker threads, unless the app arguments say otherwise.
                let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
                let given = app_args.iter().any(|a| a == "--workers" || a.starts_with("--workers="));
                if !given {
                    args.extend(["--workers".to_owned(), (cores / n).max(1).to_string()]);
                }
                // And keeps to them, when each process can have a core per worker.
                let pin = crate::supervise::pins(n, cores, &app_args);
                return crate::supervise::run_processes(&exe, &args, n, pin, &cache.join("cluster"), &dir);
            }
            // Become the app (same pid), so that Ctrl-C and `kill` reach it directly and its
            // exit status is ours.
            #[cfg(unix)]
            {
                use std::os::unix::process::CommandExt;
                let err = cmd.exec();
                bail!("cannot run {}: {err}", exe.display());
            }
            #[cfg(not(unix))]
            let status = cmd.status().with_context(|| format!("cannot run {}", exe.display()))?;
            #[cfg(not(unix))]
            Ok(match status.code() {
                Some(0) => ExitCode::SUCCESS,
                Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
                None => ExitCode::from(1),
            })
        }
    }
}

/// A package name unique to the generated code: `<spec stem>-<content hash>`, the stem made a
/// valid cargo name (ASCII letters, digits and `_`, starting with a letter: `01_word_count.yaml`
/// gives `app_01_word_count-…`).
fn package_name(spec: &Path, code: &str) -> String {
    let mut stem: String = spec
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    if !stem.starts_with(|c: char| c.is_ascii_alphabetic()) {
        stem.insert_str(0, "app_");
    }
    let hash = fnv1a(code.as_bytes()) ^ fnv1a(env!("CARGO_PKG_VERSION").as_bytes());
    format!("{stem}-{:016x}", hash)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Removes the apps of the build cache beyond the `keep` most recently used (see
/// [`crate::cache`]), saying what it removed; a failure to remove is a warning, not a failed run.
fn prune_cache(cache: &Path, keep: usize) {
    match crate::cache::prune(cache, keep, crate::cache::GRACE, std::time::SystemTime::now()) {
        Ok(p) if p.apps > 0 => eprintln!(
            "streamc: removed {} unused app build{} ({:.1} MB) from {}, keeping the {keep} most recently used (STREAMC_CACHE_KEEP)",
            p.apps,
            if p.apps == 1 { "" } else { "s" },
            p.bytes as f64 / 1e6,
            cache.display()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("streamc: warning: could not remove unused app builds from {}: {e}", cache.display()),
    }
}

/// The cargo profile `streamc run` builds an app with: `release`, or with
/// `STREAMC_APP_PROFILE=quick` the same code unoptimised (the same semantics: no overflow
/// checks or debug assertions either way), for runs where building costs more than running
/// (the test suite's small conformance inputs).
fn app_profile() -> Result<&'static str> {
    match std::env::var("STREAMC_APP_PROFILE").as_deref() {
        Err(std::env::VarError::NotPresent) | Ok("" | "release") => Ok("release"),
        Ok("quick") => Ok("quick"),
        Ok(other) => bail!("STREAMC_APP_PROFILE={other:?}: expected `release` (the default) or `quick`"),
        Err(e) => bail!("STREAMC_APP_PROFILE: {e}"),
    }
}

fn cache_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("STREAMC_CACHE_DIR") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(d).join("streamc"));
    }
    match std::env::var_os("HOME") {
        Some(h) => Ok(PathBuf::from(h).join(".cache").join("streamc")),
        None => bail!("no cache directory: set STREAMC_CACHE_DIR"),
    }
}

/// Where the runtime crate is: `STREAMC_RUNTIME_PATH`, or this workspace's `runtime/`.
fn runtime_path() -> Result<PathBuf> {
    let p = match std::env::var_os("STREAMC_RUNTIME_PATH") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("runtime"),
    };
    p.canonicalize()
        .with_context(|| format!("cannot find the streamc runtime crate at {} (set STREAMC_RUNTIME_PATH)", p.display()))
}

/// The runtime features a spec's generated code needs (the parquet sink's, say).
fn runtime_features(spec: &Path) -> Result<Vec<&'static str>> {
    let c = streamc::compile_yaml(&read_spec(spec)?);
    Ok(match (&c.program, &c.physical) {
        (streamc::program::Program::Table(plan), Some(Physical::Table(queries))) => {
            streamc::table::runtime_features(plan, queries)
        }
        (streamc::program::Program::DStream(plan), _)
            if plan.streams.iter().any(|s| matches!(s.op, streamc::dstream::plan::Op::KafkaDirectStream { .. })) =>
        {
            vec!["kafka"]
        }
        _ => Vec::new(),
    })
}

fn write_crate(dir: &Path, name: &str, code: &str, features: &[&str]) -> Result<()> {
    let runtime = runtime_path()?;
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nstreamc-runtime = {{ path = {runtime:?}, default-features = false, features = {features:?} }}\n\n\
         [profile.release]\ncodegen-units = 4\n\n\
         # `STREAMC_APP_PROFILE=quick`: the same code unoptimised, ~5x faster to build.\n\
         [profile.quick]\ninherits = \"release\"\nopt-level = 0\ncodegen-units = 16\n\n\
         # A crate of its own, not a member of any enclosing workspace.\n[workspace]\n"
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("src").join("main.rs"), code)?;
    // Seed the crate's lock file with the workspace's, so the generated crate builds with the
    // versions streamc was tested with, and without a registry lookup: anew when the workspace's
    // is newer (a streamc with other dependencies: a crate of an unchanged spec kept the old
    // lock, and cargo went to the registry for what it lacked).
    if let Some(ws) = runtime.parent() {
        seed_lock(&ws.join("Cargo.lock"), &dir.join("Cargo.lock"))?;
    }
    Ok(())
}

/// Copies `workspace`'s lock file to `lock` when `lock` is missing or older.
fn seed_lock(workspace: &Path, lock: &Path) -> Result<()> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(ws) = modified(workspace) else { return Ok(()) };
    if modified(lock).is_none_or(|app| app < ws) {
        std::fs::copy(workspace, lock).with_context(|| format!("cannot write {}", lock.display()))?;
    }
    Ok(())
}

/// Writes a file only when its content differs, so cargo's fingerprints stay valid.
fn write_if_changed(path: &Path, content: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}

/// Shows rustc's errors from building a generated crate. An error inside a closure written in
/// the spec is shown at the spec's line and column (with rustc's own rendering after it, as a
/// note); anything else is shown as rustc rendered it.
fn report_rustc_errors(spec: &Path, code: &str, cargo_json: &str) -> Result<()> {
    let src = read_spec(spec)?;
    let c = streamc::compile_yaml(&src);
    let sites = match &c.program {
        Program::DStream(plan) => streamc::codegen::closure_sites(plan, code),
        Program::Table(_) => Vec::new(),
    };
    let path = spec.display().to_string();
    for line in cargo_json.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if msg["reason"] != "compiler-message" {
            continue;
        }
        let m = &msg["message"];
        if m["level"] != "error" {
            continue;
        }
        let rendered = m["rendered"].as_str().unwrap_or_default();
        let primary = m["spans"].as_array().and_then(|s| s.iter().find(|s| s["is_primary"] == true));
        let site = primary.and_then(|p| {
            let file = p["file_name"].as_str()?;
            let line = p["line_start"].as_u64()? as usize;
            file.ends_with("main.rs").then_some(())?;
            sites.iter().find(|(range, _)| range.contains(&line)).map(|(_, span)| *span)
        });
        match site {
            Some(span) => {
                let mut diags = streamc::diag::Diagnostics::default();
                let text = m["message"].as_str().unwrap_or("error in a closure");
                diags
                    .error(span, text.to_string())
                    .help("rustc found this in the closure; its own message, on the generated code, follows");
                let ours = streamc::diag::render_text(&diags, &c.spans, &path, &src);
                // Drop the "could not compile" trailer: cargo prints its own.
                let ours = ours.rsplit_once("error: could not compile").map_or(ours.as_str(), |(a, _)| a);
                eprint!("{ours}");
                eprintln!("{rendered}");
            }
            None => eprint!("{rendered}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{package_name, seed_lock};
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    #[test]
    fn an_app_crate_takes_the_workspace_lock_when_it_has_none_or_an_older_one() {
        let dir = std::env::temp_dir().join(format!("streamc-seed-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (ws, lock) = (dir.join("ws.lock"), dir.join("app.lock"));
        let set_age = |p: &Path, secs_ago: u64| {
            let f = std::fs::File::options().write(true).open(p).unwrap();
            f.set_modified(SystemTime::now() - Duration::from_secs(secs_ago)).unwrap();
        };
        std::fs::write(&ws, "new").unwrap();
        set_age(&ws, 100);
        // None yet: seeded.
        seed_lock(&ws, &lock).unwrap();
        assert_eq!(std::fs::read_to_string(&lock).unwrap(), "new");
        // Newer than the workspace's (cargo rewrote it): kept.
        std::fs::write(&lock, "pruned by cargo").unwrap();
        seed_lock(&ws, &lock).unwrap();
        assert_eq!(std::fs::read_to_string(&lock).unwrap(), "pruned by cargo");
        // Older than the workspace's (another streamc since): seeded anew.
        set_age(&lock, 1000);
        seed_lock(&ws, &lock).unwrap();
        assert_eq!(std::fs::read_to_string(&lock).unwrap(), "new");
        // No workspace lock (a runtime from elsewhere): nothing to seed.
        std::fs::remove_file(&lock).unwrap();
        seed_lock(&dir.join("none.lock"), &lock).unwrap();
        assert!(!lock.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn package_names_are_valid_cargo_names() {
        let name = |spec: &str| package_name(Path::new(spec), "code");
        assert!(name("examples/word_count.yaml").starts_with("word_count-"));
        assert!(name("/tmp/01_word_count.yaml").starts_with("app_01_word_count-"));
        assert!(name("Mixed-Case spec.yaml").starts_with("mixed_case_spec-"));
        assert!(name("_x.yaml").starts_with("app__x-"));
        assert!(name(".yaml").starts_with("app_"));
    }
}
