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
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::Instant;

use timely::communication::Hooks;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::{Exchange, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};

use crate::app::{StealRequest, Stolen, Traffic};
use crate::error::Error;

mod notes;

use notes::{Reply, Routed, Router};

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

/// How long a process waits for every member of its cluster to be reachable when it starts.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(120);

/// Opens one TCP connection to every other member: this process listens on its own address for
/// the members after it and connects to the ones before it (timely's convention: the
/// connecting side first sends its index, as a big-endian u64). timely's own set-up retries
/// once a second and prints to standard output; this one retries every few milliseconds, so a
/// cluster whose processes start together is connected in milliseconds, and gives up with an
/// error naming the missing members after `timeout`.
fn connect_sockets(addresses: &[String], me: usize, timeout: Duration) -> Result<Vec<Option<TcpStream>>, Error> {
    let n = addresses.len();
    let deadline = Instant::now() + timeout;
    let listener = TcpListener::bind(&addresses[me])
        .map_err(|e| Error::Cluster(format!("process {me} cannot listen on `{}`: {e}", addresses[me])))?;
    listener.set_nonblocking(true).map_err(|e| Error::Cluster(format!("cannot set up `{}`: {e}", addresses[me])))?;
    let mut sockets: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    let missing =
        |sockets: &[Option<TcpStream>]| -> Vec<usize> { (0..n).filter(|&i| i != me && sockets[i].is_none()).collect() };
    loop {
        let mut progress = false;
        for (to, address) in addresses.iter().enumerate().take(me) {
            if sockets[to].is_some() {
                continue;
            }
            let Some(addr) = address.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
                continue; // not resolvable yet: retried until the deadline
            };
            if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                stream
                    .set_nodelay(true)
                    .and_then(|()| stream.write_all(&(me as u64).to_be_bytes()))
                    .map_err(|e| Error::Cluster(format!("cannot connect to process {to} at `{address}`: {e}")))?;
                sockets[to] = Some(stream);
                progress = true;
            }
        }
        match listener.accept() {
            Ok((mut stream, from)) => {
                let mut id = [0u8; 8];
                stream
                    .set_nonblocking(false)
                    .and_then(|()| stream.set_nodelay(true))
                    .and_then(|()| stream.set_read_timeout(Some(Duration::from_secs(10))))
                    .and_then(|()| stream.read_exact(&mut id))
                    .and_then(|()| stream.set_read_timeout(None))
                    .map_err(|e| Error::Cluster(format!("a connection from {from} to process {me} broke: {e}")))?;
                let id = u64::from_be_bytes(id) as usize;
                if id <= me || id >= n || sockets[id].is_some() {
                    return Err(Error::Cluster(format!(
                        "{from} connected to process {me} as process {id}, which is not expected here                          (a cluster of {n}; is another cluster using the same ports?)"
                    )));
                }
                sockets[id] = Some(stream);
                progress = true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(Error::Cluster(format!("process {me} cannot accept connections: {e}"))),
        }
        let waiting = missing(&sockets);
        if waiting.is_empty() {
            return Ok(sockets);
        }
        if Instant::now() >= deadline {
            let who: Vec<String> = waiting.iter().map(|&i| format!("{i} ({})", addresses[i])).collect();
            return Err(Error::Cluster(format!(
                "process {me} could not reach process {} within {:.1} s\nhelp: start every member of the hostfile \
                 (one command per line, each with its own `--process`)",
                who.join(", process "),
                timeout.as_secs_f64()
            )));
        }
        if !progress {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// The send and receive buffers asked for each connection: room for a batch's round (a word
/// count's ~650 KB each way) in one go.
const SOCKET_BUFFER: usize = 4 << 20;

/// Gives a connection buffers that hold a whole round ([`SOCKET_BUFFER`]; the kernel may cap
/// it, at `net.core.rmem_max` and `wmem_max`). With the default ones (Linux starts a receive
/// buffer at 128 KB and grows it as the connection goes), a batch's first large round filled
/// the receiver's buffer before its thread read it: the receiver advertised a zero window, and
/// in about one run in ten the sender then waited for its window probe, ~200 ms (counted by
/// `nstat`'s `TcpExtTCPWinProbe`), in a run of ~270 ms. A setting refused only costs that.
fn room_for_a_round(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::socket::{setsockopt, sockopt};
        let _ = setsockopt(stream, sockopt::RcvBuf, &SOCKET_BUFFER);
        let _ = setsockopt(stream, sockopt::SndBuf, &SOCKET_BUFFER);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

type Round = Vec<Vec<u8>>;

/// What the batch loop (or the thread serving its offered share) hands the worker.
enum Command {
    /// A round's messages, `out[j]` for process `j`.
    Round(Round),
    /// A note for one process, outside the rounds (`notes.rs`).
    Note(usize, Vec<u8>),
}

/// What the worker answers a round with.
type Replies = Receiver<Result<Round, String>>;

/// A round's message on the wire: to, from, round, bytes.
type Message = (u32, u32, u64, serde_bytes::ByteBuf);

/// This process's connection to its peers.
pub struct Peers {
    index: usize,
    count: usize,
    rounds: Mutex<(Sender<Command>, Replies)>,
    /// Notes go to the worker here, from any thread (not under the rounds' lock, which a
    /// round holds until it ends).
    notes: Mutex<Sender<Command>>,
    /// The replies to this process's steal requests, and the last request's number.
    steals: Mutex<(Receiver<Reply>, u64)>,
    /// Where the notes that arrive go.
    router: Arc<Mutex<Router>>,
    /// The timely worker's thread, woken when a command is handed to it.
    worker_thread: std::thread::Thread,
    worker: Option<JoinHandle<()>>,
    /// What the rounds moved so far.
    traffic: Mutex<Traffic>,
    /// This process's work between its rounds, as a batch's shares are learned from.
    clock: Mutex<WorkClock>,
}

/// When this process's last round ended, and, once armed ([`Collective::start_work_clock`](crate::app::Collective::start_work_clock)),
/// the time from then to the start of the next round.
#[derive(Debug, Default)]
struct WorkClock {
    last_end: Option<Instant>,
    armed: bool,
    work: Option<Duration>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").field("index", &self.index).field("count", &self.count).finish_non_exhaustive()
    }
}

impl Peers {
    /// Connects to every member, blocking until all are connected (members that are not
    /// listening yet are retried every few milliseconds, for at most [`CONNECT_TIMEOUT`]).
    pub fn connect(m: &Membership) -> Result<Peers, Error> {
        let (index, count) = (m.process, m.addresses.len());
        let (to_worker, from_batch) = channel::<Command>();
        let (to_batch, from_worker) = channel::<Result<Round, String>>();
        let (steal_tx, steal_rx) = channel::<Reply>();
        let router = Arc::new(Mutex::new(Router::default()));
        let sockets = connect_sockets(&m.addresses, index, CONNECT_TIMEOUT)?;
        for s in sockets.iter().flatten() {
            room_for_a_round(s);
        }
        let allocators = ProcessBuilder::new_typed_vector(1, Hooks::default().refill, None);
        let (builders, network) =
            initialize_networking_from_sockets(allocators, sockets, index, 1, Hooks::default())
                .map_err(|e| Error::Cluster(format!("cannot start the cluster's connections: {e}")))?;
        let builders: Vec<AllocatorBuilder> = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
        // `execute` wants a closure it may call on several threads; this one runs once.
        let channels = Mutex::new(Some((from_batch, to_batch, steal_tx, Arc::clone(&router))));
        let (ready_tx, ready_rx) = channel::<Result<(), String>>();
        let (thread_tx, thread_rx) = channel::<std::thread::Thread>();
        let worker = std::thread::Builder::new()
            .name("streamc-cluster".to_owned())
            .spawn(move || {
                let guards = timely::execute::execute_from(
                    builders,
                    Box::new(network),
                    timely::WorkerConfig::default(),
                    move |worker| {
                        let Some((commands, replies, steals, router)) = channels.lock().ok().and_then(|mut c| c.take())
                        else {
                            return;
                        };
                        let _ = thread_tx.send(std::thread::current());
                        serve(worker, count, &commands, &replies, &steals, &router);
                    },
                );
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
        let worker_thread =
            thread_rx.recv().map_err(|_| Error::Cluster("the cluster's worker stopped while connecting".to_owned()))?;
        Ok(Peers {
            index,
            count,
            notes: Mutex::new(to_worker.clone()),
            rounds: Mutex::new((to_worker, from_worker)),
            steals: Mutex::new((steal_rx, 0)),
            router,
            worker_thread,
            worker: Some(worker),
            traffic: Mutex::default(),
            clock: Mutex::default(),
        })
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
        self.exchange(vec![mine; self.count])
    }

    /// One round of messages between every pair: `out[j]` goes to process `j`; returns what
    /// every process sent this one, in process order. Every process must call it (or
    /// [`all_gather`](Self::all_gather)) the same number of times.
    pub fn exchange(&self, out: Round) -> Result<Round, Error> {
        if out.len() != self.count {
            return Err(Error::Cluster(format!(
                "a round of a cluster of {} processes was given {} messages; this is a bug in streamc",
                self.count,
                out.len()
            )));
        }
        let started = Instant::now();
        let others = |round: &Round| {
            round.iter().enumerate().filter(|&(j, _)| j != self.index).map(|(_, m)| m.len() as u64).sum::<u64>()
        };
        let sent = others(&out);
        if let Ok(mut c) = self.clock.lock()
            && std::mem::take(&mut c.armed)
        {
            c.work = c.last_end.map(|e| started.saturating_duration_since(e));
        }
        let rounds = self.rounds.lock().map_err(|_| lost())?;
        rounds.0.send(Command::Round(out)).map_err(|_| lost())?;
        self.worker_thread.unpark();
        let all = match rounds.1.recv() {
            Ok(Ok(all)) => all,
            Ok(Err(e)) => return Err(Error::Cluster(e)),
            Err(_) => return Err(lost()),
        };
        if let Ok(mut t) = self.traffic.lock() {
            t.rounds += 1;
            t.bytes_sent += sent;
            t.bytes_received += others(&all);
            t.round_micros += started.elapsed().as_micros() as u64;
        }
        if let Ok(mut c) = self.clock.lock() {
            c.last_end = Some(Instant::now());
        }
        Ok(all)
    }

    /// What the rounds moved since this process connected.
    pub fn traffic(&self) -> Traffic {
        self.traffic.lock().map(|t| *t).unwrap_or_default()
    }

    /// Sends a note to process `to` (`notes.rs`).
    fn note(&self, to: usize, bytes: Vec<u8>) -> Result<(), Error> {
        self.notes.lock().map_err(|_| lost())?.send(Command::Note(to, bytes)).map_err(|_| lost())?;
        self.worker_thread.unpark();
        Ok(())
    }
}

/// The error of a process whose cluster went away.
fn lost() -> Error {
    Error::Cluster(
        "lost the connection to the cluster (a process stopped or its machine went away); \
         this process stops too\nhelp: restart every process; they resume from the last committed batch"
            .to_owned(),
    )
}

impl Drop for Peers {
    fn drop(&mut self) {
        // Closing the round channel ends the worker's loop; timely then shuts the connections
        // down once every process has done the same.
        if let Ok(r) = self.rounds.get_mut() {
            let (closed, _) = channel();
            r.0 = closed;
        }
        if let Ok(n) = self.notes.get_mut() {
            let (closed, _) = channel();
            *n = closed;
        }
        self.worker_thread.unpark();
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
    fn exchange(&self, out: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, Error> {
        Peers::exchange(self, out)
    }
    fn traffic(&self) -> Traffic {
        Peers::traffic(self)
    }
    fn start_work_clock(&self) {
        if let Ok(mut c) = self.clock.lock() {
            c.armed = true;
            c.work = None;
        }
    }
    fn work_before_round(&self) -> Option<Duration> {
        self.clock.lock().ok().and_then(|c| c.work)
    }
    fn offer(&self, session: u64) -> Option<Receiver<StealRequest>> {
        self.router.lock().ok().map(|mut r| r.offer(session))
    }
    fn withdraw(&self, session: u64) {
        if let Ok(mut r) = self.router.lock() {
            r.withdraw(session);
        }
    }
    fn answer(&self, request: &StealRequest, block: Option<(u64, &[u8])>) -> Result<(), Error> {
        self.note(request.from, notes::reply(request.id, block, true))
    }
    fn has_asked(&self, session: u64, p: usize) -> bool {
        self.router.lock().is_ok_and(|r| r.has_asked(session, p))
    }
    fn steal(&self, session: u64, from: usize) -> Result<Stolen, Error> {
        let mut steals = self.steals.lock().map_err(|_| lost())?;
        steals.1 += 1;
        let id = steals.1;
        self.note(from, notes::request(session, id))?;
        loop {
            match steals.0.recv() {
                Ok(r) if r.id == id => {
                    if let (Stolen::Block { text, .. }, Ok(mut t)) = (&r.stolen, self.traffic.lock()) {
                        t.blocks_taken += 1;
                        t.bytes_taken += text.len() as u64;
                    }
                    return Ok(r.stolen);
                }
                // A reply to an earlier request this process stopped waiting for.
                Ok(_) => {}
                Err(_) => return Err(lost()),
            }
        }
    }
}

/// The worker's loop: one epoch per round, and the notes between rounds routed as they arrive
/// (`notes.rs`), until the batch loop hangs up. A round's messages to this process itself also
/// go through the dataflow (timely passes them by value). Notes go through a dataflow of their
/// own, an epoch each: they are delivered as they come, with no round to wait for.
fn serve(
    worker: &mut timely::worker::Worker,
    count: usize,
    commands: &Receiver<Command>,
    replies: &Sender<Result<Round, String>>,
    steals: &Sender<Reply>,
    router: &Mutex<Router>,
) {
    let me = worker.index();
    let mut input = InputHandle::<u64, timely::container::CapacityContainerBuilder<Vec<Message>>>::new();
    let mut notes = InputHandle::<u64, timely::container::CapacityContainerBuilder<Vec<Message>>>::new();
    let probe = ProbeHandle::new();
    // A peer may be a round ahead: messages are kept by round until theirs is complete.
    let arrived: Rc<RefCell<Vec<Message>>> = Rc::default();
    let sink = Rc::clone(&arrived);
    worker.dataflow::<u64, _, _>(|scope| {
        input.to_stream(scope).exchange(|m: &Message| u64::from(m.0)).probe_with(&probe).sink(
            Pipeline,
            "Arrived",
            move |(messages, _)| {
                messages.for_each(|_, data: &mut Vec<Message>| sink.borrow_mut().append(data));
            },
        );
    });
    let noted: Rc<RefCell<Vec<Message>>> = Rc::default();
    let note_sink = Rc::clone(&noted);
    worker.dataflow::<u64, _, _>(|scope| {
        notes.to_stream(scope).exchange(|m: &Message| u64::from(m.0)).sink(Pipeline, "Noted", move |(messages, _)| {
            messages.for_each(|_, data: &mut Vec<Message>| note_sink.borrow_mut().append(data));
        });
    });
    let mut send_note = |to: usize, bytes: Vec<u8>| {
        // Each note is an epoch of its own: closing it is what pushes it to the network.
        let at = *notes.time();
        notes.send((to as u32, me as u32, at, serde_bytes::ByteBuf::from(bytes)));
        notes.advance_to(at + 1);
    };
    let mut epoch = 0u64;
    // Whether a round is under way (its messages sent, not all arrived).
    let mut in_round = false;
    loop {
        loop {
            match commands.try_recv() {
                Ok(Command::Round(out)) => {
                    for (to, bytes) in out.into_iter().enumerate() {
                        input.send((to as u32, me as u32, epoch, serde_bytes::ByteBuf::from(bytes)));
                    }
                    epoch += 1;
                    input.advance_to(epoch);
                    in_round = true;
                }
                Ok(Command::Note(to, bytes)) => send_note(to, bytes),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        let arrived_notes = std::mem::take(&mut *noted.borrow_mut());
        for m in arrived_notes {
            let from = m.1 as usize;
            let routed = match router.lock() {
                Ok(mut r) => r.arrived(from, m.3.into_vec()),
                Err(_) => return,
            };
            match routed {
                Ok(Routed::Reply(r)) => {
                    let _ = steals.send(r);
                }
                Ok(Routed::Answer(bytes)) => send_note(from, bytes),
                Ok(Routed::Served) => {}
                Err(e) => {
                    // Only a bug sends a note that does not read back; stopping the worker
                    // stops this process with a cluster error rather than leave a thief waiting.
                    eprintln!("streamc: a note from process {from} does not read back: {e}; this is a bug in streamc");
                    return;
                }
            }
        }
        if in_round && !probe.less_than(input.time()) {
            in_round = false;
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
                Ok(got.into_iter().map(|m| m.3.into_vec()).collect())
            } else {
                Err(format!(
                    "a round of the cluster got {} messages from processes {:?}, expected one from each of {count}",
                    got.len(),
                    got.iter().map(|m| m.1).collect::<Vec<_>>()
                ))
            };
            if replies.send(reply).is_err() {
                return;
            }
            continue;
        }
        // Woken by what arrives from the network, or by a command (`Peers` unparks this
        // thread); the timeout only bounds a wake-up missed.
        worker.step_or_park(Some(Duration::from_millis(5)));
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
    fn a_member_that_never_starts_is_named_after_the_timeout() {
        let addresses: Vec<String> = (0..3).map(|_| format!("127.0.0.1:{}", free_port())).collect();
        let e = connect_sockets(&addresses, 1, Duration::from_millis(300)).unwrap_err().to_string();
        assert!(e.contains("process 1 could not reach process 0 (127.0.0.1:"), "{e}");
        assert!(e.contains(", process 2 (127.0.0.1:") && e.contains("within 0.3 s"), "{e}");
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
