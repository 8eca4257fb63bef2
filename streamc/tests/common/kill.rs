//! Killing apps at pseudo-random moments: a deterministic PRNG, a child process that is always
//! reaped, and a series of SIGKILLs against a supervised cluster (`streamc run --processes N`).

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// SplitMix64: a small deterministic PRNG.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A child process that is killed (SIGKILL) and reaped when dropped, on every path.
pub struct Guard(pub Option<Child>);

impl Guard {
    pub fn pid(&self) -> u32 {
        self.0.as_ref().expect("running").id()
    }

    /// Kills the process (a no-op on one that has exited but is not reaped yet) and reaps it.
    pub fn kill_and_wait(mut self) -> ExitStatus {
        let mut child = self.0.take().expect("running");
        let _ = child.kill();
        child.wait().expect("wait for the app")
    }

    /// Waits up to `limit` for the process to exit by itself; kills it after that.
    pub fn wait_at_most(mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        let child = self.0.as_mut().expect("running");
        while started.elapsed() < limit {
            if let Some(s) = child.try_wait().expect("try_wait") {
                self.0 = None;
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `supervisor` (a `streamc run ... --processes N` command, its standard error going
/// to `log`) and SIGKILLs one process of each cluster start it makes, at a pseudo-random moment
/// within `window` of the start (or of the moment `progressed` first says the start has made
/// progress), until `wanted` kills landed or the cluster finished by itself. Returns how the
/// supervisor ended, the kills and the cluster starts.
pub fn kill_cluster_series(
    supervisor: &mut Command,
    log: &Path,
    processes: usize,
    wanted: usize,
    window: Duration,
    seed: u64,
    progressed: &mut dyn FnMut() -> bool,
) -> (ExitStatus, usize, usize) {
    let mut supervisor = Guard(Some(
        supervisor.stderr(std::fs::File::create(log).expect("create the log")).spawn().expect("start streamc"),
    ));
    // The pids of each start of the cluster, from the supervisor's log.
    let prefix = format!("streamc: cluster of {processes} processes on 127.0.0.1 (pids ");
    let starts = || -> Vec<Vec<u32>> {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .map(|p| p.trim_end_matches(')').split(", ").map(|n| n.parse().unwrap()).collect())
            .collect()
    };
    let ended = |g: &mut Guard| g.0.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
    let mut rng = Rng(seed);
    let mut kills = 0;
    let t = Instant::now();
    'series: while kills < wanted {
        while starts().len() <= kills {
            if ended(&mut supervisor) {
                break 'series;
            }
            assert!(t.elapsed() < Duration::from_secs(300), "the cluster did not restart after kill {kills}");
            std::thread::sleep(Duration::from_millis(10));
        }
        let pids = starts()[kills].clone();
        while !progressed() {
            if ended(&mut supervisor) {
                break 'series;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(rng.below(window.as_millis() as u64)));
        if ended(&mut supervisor) {
            break;
        }
        let victim = pids[rng.below(pids.len() as u64) as usize];
        let _ = Command::new("kill").arg("-9").arg(victim.to_string()).status();
        kills += 1;
    }
    let status = supervisor.wait_at_most(Duration::from_secs(300)).expect("the cluster did not finish in 300 s");
    (status, kills, starts().len())
}
