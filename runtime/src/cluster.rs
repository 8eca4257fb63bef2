//! The cluster engine's transport: the processes of one app (`--processes N` on one machine,
//! or one `--hostfile` member per machine) connected by timely dataflow, which owns the
//! connections, the serialization of messages and the progress tracking that tells a process
//! when a round's messages from every other process have arrived.
//!
//! One timely worker per process runs on its own thread; the batch loop hands it one round at a
//! time ([`Peers::all_gather`]): every process contributes a message, and every process gets
//! all of them back, in process order. A round is one timely epoch: the messages enter the
//! dataflow at that epoch, are exchanged to every process (`Exchange` by destination), and the
//! round is over when the worker's probe has passed the epoch.
//!
//! timely is fail-stop: when a process dies its peers' connections break and their workers
//! stop; a round then fails here with [`Error::Cluster`], and the app stops with it (the
//! `streamc run --processes` supervisor restarts every process from the last commit).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use timely::dataflow::operators::{Exchange, Inspect, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};

use crate::error::Error;

/// Where this process is in its cluster: its index and every member's `host:port`, in index
/// order (a hostfile's lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub process: usize,
    pub addresses: Vec<String>,
}

impl Membership {
    /// Reads a hostfile: one `host:port` per line, blank lines and `#` comments ignored.
    pub fn from_hostfile(path: &std::path::Path, process: usize) -> Result<Membership, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read hostfile `{}`: {e}", path.display())))?;
        let mut addresses = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if !line.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) {
                return Err(Error::Config(format!(
                    "{}:{}: `{line}` is not `host:port`\nhelp: a hostfile has one `host:port` per line, process 0 first",
                    path.display(),
                    i + 1
                )));
            }
            addresses.push(line.to_owned());
        }
        Membership::new(process, addresses).map_err(|e| Error::Config(format!("hostfile `{}`: {e}", path.display())))
    }

    /// Checks that `process` is one of `addresses`.
    pub fn new(process: usize, addresses: Vec<String>) -> Result<Membership, String> {
        if addresses.is_empty() {
            return Err("no process is listed".to_owned());
        }
        if process >= addresses.len() {
            return Err(format!(
                "process {process} is not in a cluster of {} (processes are numbered from 0)",
                addresses.len()
            ));
        }
        Ok(Membership { process, addresses })
    }
}

type Round = Vec<Vec<u8>>;

/// What the worker answers a round with.
type Replies = Receiver<Result<Round, String>>;

/// A round's message on the wire: to, from, round, bytes.
type Message = (u32, u32, u64, Vec<u8>);

/// This process's connection to its peers.
pub struct Peers {
    index: usize,
    count: usize,
    rounds: Mutex<(Sender<Vec<u8>>, Replies)>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").field("index", &self.index).field("count", &self.count).finish_non_exhaustive()
    }
}

impl Peers {
    /// Connects to every member (blocking until all are connected: timely retries connecting
    /// to members that are not listening yet).
    pub fn connect(m: &Membership) -> Result<Peers, Error> {
        let (index, count) = (m.process, m.addresses.len());
        let (to_worker, from_batch) = channel::<Vec<u8>>();
        let (to_batch, from_worker) = channel::<Result<Round, String>>();
        let config = timely::Config {
            communication: timely::CommunicationConfig::Cluster {
                threads: 1,
                process: index,
                addresses: m.addresses.clone(),
                report: false,
                zerocopy: false,
            },
            worker: timely::WorkerConfig::default(),
        };
        // `execute` wants a closure it may call on several threads; this one runs once.
        let channels = Mutex::new(Some((from_batch, to_batch)));
        let (ready_tx, ready_rx) = channel::<Result<(), String>>();
        let worker = std::thread::Builder::new()
            .name("streamc-cluster".to_owned())
            .spawn(move || {
                let guards = timely::execute(config, move |worker| {
                    let Some((rounds, replies)) = channels.lock().ok().and_then(|mut c| c.take()) else { return };
                    serve(worker, count, &rounds, &replies);
                });
                match guards {
                    Ok(g) => {
                        let _ = ready_tx.send(Ok(()));
                        drop(g);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| Error::Cluster(format!("cannot start the cluster thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Error::Cluster(format!("cannot connect to the cluster {:?}: {e}", m.addresses))),
            Err(_) => return Err(Error::Cluster("the cluster thread stopped while connecting".to_owned())),
        }
        Ok(Peers { index, count, rounds: Mutex::new((to_worker, from_worker)), worker: Some(worker) })
    }

    /// This process's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many processes the cluster has.
    pub fn count(&self) -> usize {
        self.count
    }

    /// One round: every process contributes `mine`; returns every process's message, in process
    /// order (this one's included). Every process must call it the same number of times.
    pub fn all_gather(&self, mine: Vec<u8>) -> Result<Round, Error> {
        let lost = || {
            Error::Cluster(
                "lost the connection to the cluster (a process stopped or its machine went away); \
                 this process stops too\nhelp: restart every process; they resume from the last committed batch"
                    .to_owned(),
            )
        };
        let rounds = self.rounds.lock().map_err(|_| lost())?;
        rounds.0.send(mine).map_err(|_| lost())?;
        match rounds.1.recv() {
            Ok(Ok(all)) => Ok(all),
            Ok(Err(e)) => Err(Error::Cluster(e)),
            Err(_) => Err(lost()),
        }
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        // Closing the round channel ends the worker's loop; timely then shuts the connections
        // down once every process has done the same.
        if let Ok(r) = self.rounds.get_mut() {
            let (closed, _) = channel();
            r.0 = closed;
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl crate::app::Collective for Peers {
    fn index(&self) -> usize {
        self.index
    }
    fn count(&self) -> usize {
        self.count
    }
    fn all_gather(&self, mine: Vec<u8>) -> Result<Vec<Vec<u8>>, Error> {
        Peers::all_gather(self, mine)
    }
}

/// The worker's loop: one epoch per round, until the batch loop hangs up.
fn serve(
    worker: &mut timely::worker::Worker,
    count: usize,
    rounds: &Receiver<Vec<u8>>,
    replies: &Sender<Result<Round, String>>,
) {
    let me = worker.index();
    let mut input = InputHandle::<u64, timely::container::CapacityContainerBuilder<Vec<Message>>>::new();
    let probe = ProbeHandle::new();
    // A peer may be a round ahead: messages are kept by round until theirs is complete.
    let arrived: Rc<RefCell<Vec<Message>>> = Rc::default();
    let sink = Rc::clone(&arrived);
    worker.dataflow::<u64, _, _>(|scope| {
        input
            .to_stream(scope)
            .exchange(|m: &Message| u64::from(m.0))
            .inspect(move |m: &Message| sink.borrow_mut().push(m.clone()))
            .probe_with(&probe);
    });
    let mut epoch = 0u64;
    while let Ok(mine) = rounds.recv() {
        for to in 0..count {
            input.send((to as u32, me as u32, epoch, mine.clone()));
        }
        epoch += 1;
        input.advance_to(epoch);
        while probe.less_than(input.time()) {
            worker.step_or_park(Some(Duration::from_millis(5)));
        }
        let round = epoch - 1;
        let mut got: Vec<Message> = Vec::with_capacity(count);
        arrived.borrow_mut().retain_mut(|m| {
            if m.2 != round {
                return true;
            }
            got.push((m.0, m.1, m.2, std::mem::take(&mut m.3)));
            false
        });
        got.sort_by_key(|m| m.1);
        let reply = if got.len() == count && got.iter().enumerate().all(|(i, m)| m.1 as usize == i) {
            Ok(got.into_iter().map(|m| m.3).collect())
        } else {
            Err(format!(
                "a round of the cluster got {} messages from processes {:?}, expected one from each of {count}",
                got.len(),
                got.iter().map(|m| m.1).collect::<Vec<_>>()
            ))
        };
        if replies.send(reply).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    #[test]
    fn three_processes_gather_every_round_in_order() {
        let addresses: Vec<String> = (0..3).map(|_| format!("127.0.0.1:{}", free_port())).collect();
        let handles: Vec<_> = (0..3)
            .map(|p| {
                let m = Membership::new(p, addresses.clone()).unwrap();
                std::thread::spawn(move || {
                    let peers = Peers::connect(&m).unwrap();
                    (0..20u8).map(|round| peers.all_gather(vec![p as u8, round]).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            let rounds = h.join().unwrap();
            for (r, got) in rounds.iter().enumerate() {
                assert_eq!(got, &(0..3u8).map(|p| vec![p, r as u8]).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn a_hostfile_names_the_bad_line() {
        let dir = std::env::temp_dir().join(format!("streamc-hostfile-{}", std::process::id()));
        std::fs::write(&dir, "# cluster\n127.0.0.1:2101\nnot-an-address\n").unwrap();
        let e = Membership::from_hostfile(&dir, 0).unwrap_err().to_string();
        assert!(e.contains(":3: `not-an-address` is not `host:port`"), "{e}");
        std::fs::write(&dir, "127.0.0.1:2101\n\n127.0.0.1:2102\n").unwrap();
        let m = Membership::from_hostfile(&dir, 1).unwrap();
        assert_eq!(m.addresses, ["127.0.0.1:2101", "127.0.0.1:2102"]);
        let e = Membership::from_hostfile(&dir, 2).unwrap_err().to_string();
        assert!(e.contains("process 2 is not in a cluster of 2"), "{e}");
        let _ = std::fs::remove_file(&dir);
    }
}
