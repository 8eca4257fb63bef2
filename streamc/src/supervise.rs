//! `streamc run SPEC --processes N`: one app as N local processes of a cluster (the runtime's
//! `cluster` feature), supervised. The supervisor picks N free ports on 127.0.0.1, writes the
//! hostfile, starts one process per line (`--hostfile F --process I`) and waits:
//!
//! - every process ends with status 0: the run is over, status 0;
//! - a process ends with an error: the others are stopped, and the run fails with its status
//!   (an error that is the input's or the spec's would only repeat);
//! - a process is killed by a signal (a crash, an OOM kill, `kill -9`): the others are stopped
//!   and the cluster is started again, resuming from the last committed checkpoint.
//!
//! SIGINT/SIGTERM to the supervisor are passed on to every process as SIGTERM (each finishes its
//! batch in flight). Process 0's standard output is the run's; the others write none.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Starts after this many restarts in a row without a batch in between are refused.
const MAX_RESTARTS: u32 = 1000;

/// Runs `exe args` as `n` supervised processes of one cluster; with `pin`, process `i` keeps to
/// its share of the machine's CPUs (`--cpu-share i/n`: the runtime's `cpus.rs` says why). `app`
/// is the app's crate in the build cache: marked used at every start, so that a long run's
/// binary is not pruned from the cache before a restart needs it.
pub fn run_processes(exe: &Path, args: &[String], n: usize, pin: bool, work: &Path, app: &Path) -> Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("cannot watch for SIGINT/SIGTERM")?;
    }
    std::fs::create_dir_all(work).with_context(|| format!("cannot create `{}`", work.display()))?;
    let hostfile = work.join(format!("hosts-{}", std::process::id()));
    // However the run ends, its hostfile goes with it.
    let _remove = RemoveOnDrop(&hostfile);
    let mut restarts = 0u32;
    loop {
        // Not being able to mark it only risks a rebuild later: not a reason to stop.
        let _ = crate::cache::touch(app);
        write_hostfile(&hostfile, n)?;
        let mut children = Vec::with_capacity(n);
        // The thread forwarding process 0's standard output.
        let mut forwarders = Vec::new();
        for i in 0..n {
            let share = pin.then(|| format!("{i}/{n}"));
            match start(exe, args, &hostfile, i, share.as_deref()) {
                Ok((c, forward)) => {
                    children.push(c);
                    forwarders.extend(forward);
                }
                Err(e) => {
                    stop_all(&mut children, true);
                    join_forwarders(forwarders);
                    return Err(e);
                }
            }
        }
        eprintln!(
            "streamc: cluster of {n} processes on 127.0.0.1 (pids {})",
            children.iter().map(|c| c.id().to_string()).collect::<Vec<_>>().join(", ")
        );
        if pin && restarts == 0 {
            eprintln!("streamc: each process keeps to its share of the CPUs (`--cpu-share I/{n}`)");
        }
        let ended = watch(&mut children, &stop);
        // Every process has ended: what process 0 wrote is forwarded to the end before the run
        // ends or restarts (under load the forwarding lags; its last lines were lost).
        join_forwarders(forwarders);
        match ended {
            Ended::Done => return Ok(ExitCode::SUCCESS),
            Ended::Failed(i, status) => {
                eprintln!("streamc: process {i} of the cluster failed ({status}); the cluster stops");
                return Ok(ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)));
            }
            Ended::Killed(i, status) => {
                restarts += 1;
                if restarts > MAX_RESTARTS {
                    bail!("process {i} of the cluster was killed ({status}) after {MAX_RESTARTS} restarts; giving up");
                }
                eprintln!(
                    "streamc: process {i} of the cluster was killed ({status}); restarting every process from the last commit (restart {restarts})"
                );
            }
        }
    }
}

/// Removes a file when dropped (one that is not there is fine).
struct RemoveOnDrop<'a>(&'a Path);

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

enum Ended {
    Done,
    Failed(usize, ExitStatus),
    Killed(usize, ExitStatus),
}

/// Waits until every process has ended, or one has ended badly (then stops the others).
fn watch(children: &mut [Child], stop: &AtomicBool) -> Ended {
    let mut done = vec![false; children.len()];
    let mut forwarded = false;
    loop {
        if stop.load(Ordering::Relaxed) && !forwarded {
            forwarded = true;
            for c in children.iter() {
                let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            }
        }
        for (i, c) in children.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            let Ok(Some(status)) = c.try_wait() else { continue };
            done[i] = true;
            if status.success() {
                continue;
            }
            // A process killed by a signal makes its peers fail with a lost connection, maybe
            // first: give them a moment, then look for the killed one.
            std::thread::sleep(Duration::from_millis(300));
            let mut killed = (status.code().is_none()).then_some((i, status));
            for (j, other) in children.iter_mut().enumerate() {
                if j != i
                    && killed.is_none()
                    && let Ok(Some(s)) = other.try_wait()
                    && s.code().is_none()
                {
                    killed = Some((j, s));
                }
            }
            stop_all(children, false);
            // Stopped on request: what the processes say is the outcome, no restart.
            return match killed {
                Some((j, s)) if !forwarded => Ended::Killed(j, s),
                _ => Ended::Failed(i, status),
            };
        }
        if done.iter().all(|&d| d) {
            return Ended::Done;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops every process still running (SIGKILL: a cluster that lost a member cannot finish its
/// batch anyway; `gentle` first gives them a second after SIGTERM).
fn stop_all(children: &mut [Child], gentle: bool) {
    if gentle {
        for c in children.iter() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    for c in children.iter_mut() {
        if matches!(c.try_wait(), Ok(None)) {
            let _ = c.kill();
        }
        let _ = c.wait();
    }
}

/// Waits for the threads forwarding the processes' output: they end when their process's
/// standard output closes, that is when it has ended.
fn join_forwarders(forwarders: Vec<JoinHandle<()>>) {
    for f in forwarders {
        // A forwarder that panicked has nothing left to forward.
        let _ = f.join();
    }
}

/// One process: `--hostfile F --process I` (and `--cpu-share` when `share` is given) after the
/// app's arguments. Process 0's standard output is forwarded without the connection notes
/// timely prints there, by the thread returned with it.
fn start(
    exe: &Path,
    args: &[String],
    hostfile: &Path,
    i: usize,
    share: Option<&str>,
) -> Result<(Child, Option<JoinHandle<()>>)> {
    let mut cmd = Command::new(exe);
    cmd.args(args).arg("--hostfile").arg(hostfile).arg("--process").arg(i.to_string());
    if let Some(s) = share {
        cmd.arg("--cpu-share").arg(s);
    }
    cmd.stdout(if i == 0 { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().with_context(|| format!("cannot run {}", exe.display()))?;
    let forward = child.stdout.take().map(|out| {
        std::thread::spawn(move || {
            let mut stdout = std::io::stdout();
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if is_connection_note(&line) {
                    continue;
                }
                let _ = writeln!(stdout, "{line}");
                let _ = stdout.flush();
            }
        })
    });
    Ok((child, forward))
}

/// Whether `n` processes on a machine of `cores` cores each keep to their share of its CPUs
/// (`--cpu-share`): when each can have a core per worker thread (`--workers` in the app
/// arguments, else `cores / n`), unless the app arguments give a share themselves. A
/// `--workers` that does not read as a number is the app's to report: no share then.
pub fn pins(n: usize, cores: usize, app_args: &[String]) -> bool {
    let given = app_args.iter().any(|a| a == "--workers" || a.starts_with("--workers="));
    let workers = if given { workers_arg(app_args) } else { Some((cores / n).max(1)) };
    workers.is_some_and(|w| n * w <= cores) && !app_args.iter().any(|a| a.starts_with("--cpu-share"))
}

/// The worker threads the app arguments give (`--workers N` or `--workers=N`), if they do.
fn workers_arg(app_args: &[String]) -> Option<usize> {
    let mut it = app_args.iter();
    while let Some(a) = it.next() {
        if a == "--workers" {
            return it.next().and_then(|v| v.parse().ok());
        }
        if let Some(v) = a.strip_prefix("--workers=") {
            return v.parse().ok();
        }
    }
    None
}

/// The lines timely's networking prints on standard output while the processes connect.
fn is_connection_note(line: &str) -> bool {
    line.starts_with("awaiting connections (at ")
        || (line.starts_with("worker ")
            && (line.contains(":\terror connecting to worker ") || line.contains(":\tconnection")))
}

/// `n` free ports on 127.0.0.1, one `host:port` per line (process 0 first).
fn write_hostfile(path: &PathBuf, n: usize) -> Result<()> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<_>>()
        .context("cannot find free ports on 127.0.0.1")?;
    let mut text = String::new();
    for l in &listeners {
        text.push_str(&format!("127.0.0.1:{}\n", l.local_addr()?.port()));
    }
    drop(listeners);
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workers_the_app_arguments_give() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(workers_arg(&args(&["--max-batches", "3", "--workers", "2"])), Some(2));
        assert_eq!(workers_arg(&args(&["--workers=3"])), Some(3));
        assert_eq!(workers_arg(&args(&["--max-batches", "3"])), None);
    }

    #[test]
    fn processes_keep_to_their_cpus_when_each_has_a_core_per_worker() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(pins(2, 2, &[]), "the default: cores / N workers each");
        assert!(!pins(3, 2, &[]), "more processes than cores");
        assert!(pins(2, 8, &args(&["--workers", "4"])));
        assert!(!pins(2, 8, &args(&["--workers=5"])), "more workers than cores");
        assert!(!pins(2, 2, &args(&["--workers", "x"])), "the app reports a bad --workers");
        assert!(!pins(2, 2, &args(&["--cpu-share", "0/1"])), "the arguments give a share");
    }

    #[test]
    fn timely_connection_notes_are_recognised() {
        assert!(is_connection_note("awaiting connections (at 0/1)"));
        assert!(is_connection_note(
            "worker 1:\terror connecting to worker 0: Connection refused (os error 111); retrying"
        ));
        assert!(!is_connection_note("(worker 1,3)"));
        assert!(!is_connection_note("worker 1"));
    }
}
