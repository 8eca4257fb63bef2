//! The command line of generated binaries: [`App::run_main`] is their whole `main`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::app::{App, BatchInput, BatchOutput};
use crate::error::Error;

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--replay DIR`: replay the app's only source.
    pub replay_all: Option<PathBuf>,
    /// `--replay NAME=DIR`, repeatable.
    pub replay: Vec<(String, PathBuf)>,
    /// `--jsonl PATH`.
    pub jsonl: Option<PathBuf>,
    /// `--checkpoint DIR`.
    pub checkpoint: Option<PathBuf>,
    /// `--max-batches N`.
    pub max_batches: Option<u64>,
    /// `--workers N`.
    pub workers: Option<usize>,
    /// `--progress PATH`.
    pub progress: Option<PathBuf>,
    /// `--ui ADDR`.
    pub ui: Option<String>,
    /// `--hostfile PATH`: the members of a cluster this process is one of.
    pub hostfile: Option<PathBuf>,
    /// `--process I`: this process's index in the hostfile.
    pub process: Option<usize>,
    /// `--cpu-share I/N`: the share of the CPUs this process keeps to.
    pub cpu_share: Option<(usize, usize)>,
    /// `--help`.
    pub help: bool,
}

/// Parses the arguments after the program name. `sources` are the app's source names: a
/// `--replay` value `NAME=DIR` whose `NAME` is one of them is per source, anything else is a
/// directory for all sources (so a directory whose name contains `=` still works).
pub fn parse_args<I>(args: I, sources: &[&str]) -> Result<Options, Error>
where
    I: IntoIterator<Item = String>,
{
    let mut o = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |flag: &str| {
            inline.clone().or_else(|| args.next()).ok_or_else(|| Error::Usage(format!("`{flag}` needs a value")))
        };
        match flag.as_str() {
            "-h" | "--help" => o.help = true,
            "--replay" => {
                let v = value("--replay")?;
                match v.split_once('=') {
                    Some((name, dir)) if sources.contains(&name) => {
                        o.replay.push((name.to_owned(), PathBuf::from(dir)));
                    }
                    _ => {
                        if o.replay_all.is_some() {
                            return Err(Error::Usage("`--replay DIR` given twice".to_owned()));
                        }
                        o.replay_all = Some(PathBuf::from(v));
                    }
                }
            }
            "--jsonl" => {
                if o.jsonl.is_some() {
                    return Err(Error::Usage("`--jsonl` given twice".to_owned()));
                }
                o.jsonl = Some(PathBuf::from(value("--jsonl")?));
            }
            "--progress" => {
                if o.progress.is_some() {
                    return Err(Error::Usage("`--progress` given twice".to_owned()));
                }
                o.progress = Some(PathBuf::from(value("--progress")?));
            }
            "--ui" => {
                if o.ui.is_some() {
                    return Err(Error::Usage("`--ui` given twice".to_owned()));
                }
                let v = value("--ui")?;
                // A bare port is served on loopback only.
                o.ui = Some(if v.parse::<u16>().is_ok() { format!("127.0.0.1:{v}") } else { v });
            }
            "--checkpoint" => {
                if o.checkpoint.is_some() {
                    return Err(Error::Usage("`--checkpoint` given twice".to_owned()));
                }
                o.checkpoint = Some(PathBuf::from(value("--checkpoint")?));
            }
            "--workers" => {
                if o.workers.is_some() {
                    return Err(Error::Usage("`--workers` given twice".to_owned()));
                }
                let v = value("--workers")?;
                let n = v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Error::Usage(format!("`--workers` needs a positive whole number of threads, found `{v}`"))
                })?;
                o.workers = Some(n);
            }
            "--hostfile" => {
                if o.hostfile.is_some() {
                    return Err(Error::Usage("`--hostfile` given twice".to_owned()));
                }
                o.hostfile = Some(PathBuf::from(value("--hostfile")?));
            }
            "--process" => {
                if o.process.is_some() {
                    return Err(Error::Usage("`--process` given twice".to_owned()));
                }
                let v = value("--process")?;
                let n = v
                    .parse::<usize>()
                    .map_err(|_| Error::Usage(format!("`--process` needs a process index (0, 1, ...), found `{v}`")))?;
                o.process = Some(n);
            }
            "--cpu-share" => {
                if o.cpu_share.is_some() {
                    return Err(Error::Usage("`--cpu-share` given twice".to_owned()));
                }
                let v = value("--cpu-share")?;
                let share = v
                    .split_once('/')
                    .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
                    .filter(|&(i, n)| i < n);
                o.cpu_share = Some(share.ok_or_else(|| {
                    Error::Usage(format!(
                        "`--cpu-share` needs I/N, share I (from 0) of N parts of the CPUs, found `{v}`"
                    ))
                })?);
            }
            "--max-batches" => {
                if o.max_batches.is_some() {
                    return Err(Error::Usage("`--max-batches` given twice".to_owned()));
                }
                let v = value("--max-batches")?;
                let n = v.parse::<u64>().map_err(|_| {
                    Error::Usage(format!("`--max-batches` needs a whole number of batches, found `{v}`"))
                })?;
                o.max_batches = Some(n);
            }
            _ => return Err(Error::Usage(format!("unexpected argument `{arg}`"))),
        }
    }
    if o.hostfile.is_some() != o.process.is_some() {
        return Err(Error::Usage(
            "`--hostfile` and `--process` go together: the cluster's members, and which of them this process is"
                .to_owned(),
        ));
    }
    Ok(o)
}

fn usage(program: &str, app: &str, sources: &[String]) -> String {
    format!(
        "Runs the streaming app `{app}`.\n\n\
         usage: {program} [--replay DIR | --replay SOURCE=DIR ...] [--jsonl PATH] [--progress PATH] [--checkpoint DIR] [--max-batches N] [--workers N] [--ui ADDR] [--hostfile PATH --process I] [--cpu-share I/N]\n\n\
         options:\n  \
         --replay DIR         replay the only source from DIR: each file, in name order, is one batch\n  \
         --replay SOURCE=DIR  replay source SOURCE from DIR (repeat for every source)\n  \
         --jsonl PATH         also write every output of every batch to PATH as JSON lines\n  \
         --progress PATH      write a progress report (JSON, as Spark's) to PATH after every batch\n  \
         --checkpoint DIR     checkpoint into DIR, and resume from its newest checkpoint if it has one\n  \
         --max-batches N      stop after N batches\n  \
         --workers N          split large batches over N threads (default: the number of cores)\n  \
         --ui ADDR            serve a live page of the batches and Prometheus /metrics on ADDR (HOST:PORT, or a\n                       \
         port on 127.0.0.1; needs the runtime's `ui` feature, which `streamc run --ui` turns on)\n  \
         --hostfile PATH      run as one process of a cluster whose members (`host:port`, one per line,\n                       \
         process 0 first) PATH lists; needs the runtime's `cluster` feature (`streamc run --processes`)\n  \
         --process I          this process's line in the hostfile, from 0\n  \
         --cpu-share I/N      keep to share I (from 0) of N equal parts of the CPUs this process may use\n                       \
         (Linux; `streamc run --processes N` gives each process its share)\n  \
         -h, --help           print this help\n\n\
         sources: {}\n",
        if sources.is_empty() { "none".to_owned() } else { sources.join(", ") }
    )
}

impl<F> App<F>
where
    F: FnMut(&BatchInput, &mut BatchOutput) -> Result<(), Error> + Send + 'static,
{
    /// Applies the process's command line (`--replay [NAME=]DIR`, `--jsonl PATH`,
    /// `--progress PATH`, `--checkpoint DIR`, `--max-batches N`, `--workers N`, `--ui ADDR`,
    /// `--hostfile PATH --process I`, `--cpu-share I/N`, `--help`) to
    /// this app, and makes SIGINT/SIGTERM stop it after the batch in flight. For programs that
    /// call `start()` themselves; generated binaries use [`run_main`](Self::run_main).
    pub fn with_cli_args(self) -> Result<Self, Error> {
        let mut args = std::env::args();
        let program = args.next().unwrap_or_else(|| self.name().to_owned());
        let names: Vec<String> = self.source_names().map(str::to_owned).collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let opts = parse_args(args, &name_refs)?;
        if opts.help {
            print!("{}", usage(&program, self.name(), &self.describe_sources()));
            std::process::exit(0);
        }
        let mut app = self.apply(opts);
        app.stop_on_signals = true;
        Ok(app)
    }

    fn apply(mut self, opts: Options) -> Self {
        if let Some(dir) = opts.replay_all {
            self = self.with_replay_all(dir);
        }
        for (name, dir) in opts.replay {
            self = self.with_replay(&name, dir);
        }
        if let Some(p) = opts.jsonl {
            self = self.with_jsonl(p);
        }
        if let Some(p) = opts.progress {
            self = self.with_progress(p);
        }
        if let Some(dir) = opts.checkpoint {
            self = self.with_checkpoint_dir(dir);
        }
        if let Some(n) = opts.max_batches {
            self = self.with_max_batches(n);
        }
        if let Some(n) = opts.workers {
            self = self.with_workers(n);
        }
        if let Some(addr) = opts.ui {
            self = self.with_ui(&addr);
        }
        if let (Some(path), Some(process)) = (opts.hostfile, opts.process) {
            self = self.with_cluster(path, process);
        }
        if let Some((i, n)) = opts.cpu_share {
            self = self.with_cpu_share(i, n);
        }
        self
    }

    /// The whole `main` of a generated binary (which also sets the allocator's thresholds,
    /// [`keep_freed_memory`]): parses `--replay`, `--jsonl`, `--progress`,
    /// `--checkpoint`, `--max-batches` and `--help`, runs
    /// the app until it ends or SIGINT/SIGTERM arrives (the batch in flight is finished, exit
    /// 0; a second signal kills the process), and reports errors as `error: ...` on stderr with
    /// exit code 1 (2 for a malformed command line).
    pub fn run_main(self) -> ExitCode {
        self.run_main_with_args(std::env::args())
    }

    /// [`run_main`](Self::run_main) with the given command line (program name first) instead of
    /// the process's.
    pub fn run_main_with_args<I>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = String>,
    {
        keep_freed_memory();
        let mut args = args.into_iter();
        let program = args.next().unwrap_or_else(|| self.name().to_owned());
        let names: Vec<String> = self.source_names().map(str::to_owned).collect();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let opts = match parse_args(args, &name_refs) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}\nhelp: run `{program} --help` for usage");
                return ExitCode::from(2);
            }
        };
        if opts.help {
            print!("{}", usage(&program, self.name(), &self.describe_sources()));
            return ExitCode::SUCCESS;
        }
        match self.run_with(opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(if matches!(e, Error::Usage(_)) { 2 } else { 1 })
            }
        }
    }

    fn run_with(self, opts: Options) -> Result<(), Error> {
        let mut app = self.apply(opts);
        app.stop_on_signals = true;
        app.start()?.await_termination()
    }
}

/// Memory a batch frees stays with the process for the next batch, in a generated binary on
/// Linux with glibc: glibc's allocator returns the free top of a thread's heap to the system
/// once it passes the trim threshold, and the threshold follows the largest block it mapped
/// alone (at most 64 MiB). A batch thread that builds and frees some megabytes of tables and
/// buffers per batch (a cluster process's partials, their encodings) had them returned and
/// faulted in again every batch: 20–25 `madvise` calls of ~11 MB in a 20-batch word count per
/// process, ~12 % of a 2-process run (BENCHMARKS.md). Fixed thresholds (blocks of 32 MiB and
/// more mapped alone, as the largest default; a free top kept up to 128 MiB per heap) keep
/// them. Setting either threshold turns glibc's moving thresholds off, as its environment
/// variable `GLIBC_TUNABLES` would; that variable, when it sets them, wins. Elsewhere (other
/// C libraries, other systems) nothing is changed.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 128 << 20;
        if std::env::var_os("GLIBC_TUNABLES").is_some_and(|t| t.to_string_lossy().contains("malloc.")) {
            return;
        }
        // SAFETY: `mallopt` only changes the allocator's parameters; it is safe to call at any
        // time (glibc takes the arenas' locks), and these values are in the ranges it documents.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, Error> {
        parse_args(args.iter().map(|s| s.to_string()), &["lines", "files"])
    }

    #[test]
    fn replay_forms() {
        let o = parse(&["--replay", "in", "--jsonl=out.jsonl"]).unwrap();
        assert_eq!(o.replay_all, Some(PathBuf::from("in")));
        assert_eq!(o.jsonl, Some(PathBuf::from("out.jsonl")));
        let o = parse(&["--replay", "lines=a", "--replay=files=b"]).unwrap();
        assert_eq!(o.replay, [("lines".to_owned(), PathBuf::from("a")), ("files".to_owned(), PathBuf::from("b"))]);
        // Not a source name: a directory that happens to contain `=`.
        let o = parse(&["--replay", "x=y"]).unwrap();
        assert_eq!(o.replay_all, Some(PathBuf::from("x=y")));
        assert!(parse(&["-h"]).unwrap().help);
        assert_eq!(parse(&["--cpu-share", "1/2"]).unwrap().cpu_share, Some((1, 2)));
        let o = parse(&["--checkpoint", "ck", "--max-batches=5", "--progress", "p.jsonl"]).unwrap();
        assert_eq!((o.checkpoint, o.max_batches), (Some(PathBuf::from("ck")), Some(5)));
        assert_eq!(o.progress, Some(PathBuf::from("p.jsonl")));
    }

    #[test]
    fn usage_errors() {
        for (args, msg) in [
            (&["--replay"][..], "`--replay` needs a value"),
            (&["--frob"][..], "unexpected argument `--frob`"),
            (&["--jsonl", "a", "--jsonl", "b"][..], "`--jsonl` given twice"),
            (&["--checkpoint", "a", "--checkpoint=b"][..], "`--checkpoint` given twice"),
            (&["--progress", "a", "--progress=b"][..], "`--progress` given twice"),
            (&["--max-batches", "x"][..], "`--max-batches` needs a whole number of batches, found `x`"),
            (&["--workers", "0"][..], "`--workers` needs a positive whole number of threads, found `0`"),
            (&["--workers", "2", "--workers", "3"][..], "`--workers` given twice"),
            (
                &["--cpu-share", "2/2"][..],
                "`--cpu-share` needs I/N, share I (from 0) of N parts of the CPUs, found `2/2`",
            ),
            (&["--cpu-share", "1"][..], "`--cpu-share` needs I/N, share I (from 0) of N parts of the CPUs, found `1`"),
            (&["--cpu-share", "0/1", "--cpu-share=0/1"][..], "`--cpu-share` given twice"),
        ] {
            match parse(args) {
                Err(Error::Usage(m)) => assert_eq!(m, msg),
                other => panic!("{args:?}: {other:?}"),
            }
        }
    }
}
