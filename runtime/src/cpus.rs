//! A process's share of the machine's CPUs (`--cpu-share I/N`, [`App::with_cpu_share`]): the
//! processes of a cluster on one machine (`streamc run --processes N` passes it) each keep to
//! CPUs of their own. Unpinned, a process's communication threads, woken in every round, were
//! scheduled on the CPU where the other process's batch thread was computing and preempted it;
//! kept to its own CPUs, a process's threads take turns with its batch thread, which waits in
//! the round anyway (BENCHMARKS.md: 2-process runs up to 19 % faster on 2 cores, the word count
//! most, and within the noise when the host was busy; one process alone gained nothing).
//!
//! Linux only (`sched_setaffinity`, through `nix`'s safe wrapper); elsewhere the share is
//! ignored.
//!
//! [`App::with_cpu_share`]: crate::App::with_cpu_share

use crate::error::Error;

/// The CPUs, of `allowed` (the ids a process may run on, ascending), that share `i` of `n`
/// takes: the `i`-th of `n` consecutive parts of nearly equal size. `None` when there are
/// fewer CPUs than parts (some part would have none), or `i` is not below `n`.
pub(crate) fn share_of(allowed: &[usize], i: usize, n: usize) -> Option<&[usize]> {
    let len = allowed.len();
    if i >= n || len < n {
        return None;
    }
    Some(&allowed[i * len / n..(i + 1) * len / n])
}

/// Keeps the calling thread, and every thread it starts from now on, on share `i` of `n` of
/// the CPUs it may run on ([`share_of`]); returns the CPUs taken, or `None` when the share
/// is not taken (fewer CPUs than shares; not Linux). Threads already running keep theirs: call
/// it before starting any.
#[cfg(target_os = "linux")]
pub(crate) fn take_share(i: usize, n: usize) -> Result<Option<Vec<usize>>, Error> {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;
    let failed = |what: &str, e: nix::Error| Error::Config(format!("cannot {what} (`--cpu-share {i}/{n}`): {e}"));
    // Pid 0: the calling thread.
    let this = Pid::from_raw(0);
    let set = sched_getaffinity(this).map_err(|e| failed("read the CPUs this process may run on", e))?;
    let allowed: Vec<usize> = (0..CpuSet::count()).filter(|&c| set.is_set(c).unwrap_or(false)).collect();
    let Some(mine) = share_of(&allowed, i, n) else { return Ok(None) };
    let mut keep = CpuSet::new();
    for &c in mine {
        keep.set(c).map_err(|e| failed("name a CPU to run on", e))?;
    }
    sched_setaffinity(this, &keep).map_err(|e| failed("keep the process to its CPUs", e))?;
    Ok(Some(mine.to_vec()))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn take_share(_i: usize, _n: usize) -> Result<Option<Vec<usize>>, Error> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_consecutive_disjoint_and_cover_the_cpus() {
        let cpus = [0, 1, 2, 3, 5, 8, 9];
        for n in 1..=cpus.len() {
            let parts: Vec<&[usize]> = (0..n).map(|i| share_of(&cpus, i, n).unwrap()).collect();
            assert_eq!(parts.concat(), cpus, "{n} shares");
            assert!(parts.iter().all(|p| p.len() == cpus.len() / n || p.len() == cpus.len() / n + 1), "{parts:?}");
        }
        assert_eq!(share_of(&[0, 1], 1, 2), Some(&[1][..]));
        assert_eq!(share_of(&[0, 1], 2, 2), None);
        assert_eq!(share_of(&[0, 1], 0, 3), None, "fewer CPUs than shares: none taken");
        assert_eq!(share_of(&[], 0, 1), None);
    }

    /// On a thread of its own (the share applies to the calling thread and those it starts).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_and_the_threads_it_starts_keep_to_the_share() {
        use nix::sched::{CpuSet, sched_getaffinity};
        use nix::unistd::Pid;
        let on = || {
            let set = sched_getaffinity(Pid::from_raw(0)).unwrap();
            (0..CpuSet::count()).filter(|&c| set.is_set(c).unwrap()).collect::<Vec<_>>()
        };
        std::thread::spawn(move || {
            let allowed = on();
            let n = allowed.len().min(2);
            let taken = take_share(n - 1, n).unwrap().expect("a share of as many CPUs as there are");
            assert_eq!(taken, share_of(&allowed, n - 1, n).unwrap());
            assert_eq!(on(), taken);
            assert_eq!(std::thread::spawn(on).join().unwrap(), taken, "a thread started after inherits it");
            assert_eq!(take_share(0, allowed.len() + 1).unwrap(), None, "more shares than CPUs: none taken");
        })
        .join()
        .unwrap();
    }
}
