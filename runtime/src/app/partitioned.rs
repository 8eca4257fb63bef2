//! State partitioned by key over a cluster's processes ([`crate::partition`]): a Structured
//! aggregation's, and a DStream batch's keyed tables and what follows them. The batch's round
//! trips, as [`BatchInput`] methods the generated code calls. Outside a cluster each is what
//! one process does alone.

use std::sync::atomic::Ordering;

use super::input::BatchInput;
use crate::error::Error;
use crate::footprint::StateSize;
use crate::partition::{Partition, Partitioned};
use crate::persist::{Persist, read_all};
use crate::ship::{Shipped, ship_all, ship_all_into, unship_all};
use crate::sink::deferred::Deferred;
use crate::sink::{BatchOutput, Piece, StateReport};
use crate::source::{Lines, TextBatch};

impl BatchInput {
    /// [`run_partials_shipped`](Self::run_partials_shipped) for a keyed aggregation whose state
    /// is partitioned: every process runs `partial` over its share of `text` (on its workers
    /// when the share is large, `share_parts`), cuts each partial
    /// ([`Partition`]) and sends piece `j` to process `j`; returns the pieces this process
    /// received, in process and worker order, for it to merge into the keys it owns.
    pub fn run_partials_partitioned<'t, R, F>(
        &'t self,
        text: &'t TextBatch,
        partial: F,
    ) -> Result<Option<Vec<R>>, Error>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send + Shipped<'t> + Partition,
    {
        let Some(peers) = &self.peers else { return Ok(self.run_partials(text, partial)) };
        let (me, n) = (peers.index(), peers.count());
        // Each partial of this process (its workers', the blocks it took from others, `steal.rs`)
        // is cut; piece `j` of every partial goes to process `j`, with the partial's tag.
        let tagged = self.tagged_partials(peers, text, &partial)?;
        let mut tags = Vec::with_capacity(tagged.len());
        let mut pieces: Vec<Vec<R>> = (0..n).map(|_| Vec::with_capacity(tagged.len())).collect();
        for (tag, r) in tagged {
            tags.push(tag);
            for (j, piece) in r.split(n).into_iter().enumerate() {
                pieces[j].push(piece);
            }
        }
        let mine = std::mem::take(&mut pieces[me]);
        let out: Vec<Vec<u8>> = pieces
            .iter()
            .map(|p| {
                let mut m = Vec::new();
                tags.write(&mut m);
                ship_all_into(p, &mut m);
                m
            })
            .collect();
        let got = peers.exchange(out)?;
        let merged = self.in_line_order(got, me, tags, mine, "pieces")?;
        // Every process's share counts once (as a part the batch was split into).
        self.parts_run.fetch_add(merged.len() as u64, Ordering::Relaxed);
        Ok(Some(merged))
    }

    /// [`run_partials_partitioned`](Self::run_partials_partitioned) with
    /// [`run_partials_first`](Self::run_partials_first)'s first part outside a cluster; in a
    /// cluster every part is a partial, cut by key (`first` is not called).
    pub fn run_partials_partitioned_first<'t, R, F, G>(
        &'t self,
        text: &'t TextBatch,
        partial: F,
        first: G,
    ) -> Result<Vec<R>, Error>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send + Shipped<'t> + Partition,
        G: FnOnce(Lines<'t>),
    {
        self.first_or_cluster(text, partial, first, |input, partial| input.run_partials_partitioned(text, partial))
    }

    /// The rows a partitioned aggregation put out in this batch, `emitted` being this process's
    /// (its keys'), and the figures of its state: in a cluster every process gets every
    /// process's rows, in process order, and the figures added up; alone, both as given.
    pub fn gather_partitioned<T: Persist>(
        &self,
        emitted: Vec<T>,
        report: StateReport,
    ) -> Result<(Vec<T>, StateReport), Error> {
        let Some(peers) = &self.peers else { return Ok((emitted, report)) };
        let me = peers.index();
        let figures = |r: &StateReport| (r.rows_total, r.rows_updated, r.dropped_by_watermark, r.memory_bytes);
        let mut bytes = Vec::new();
        figures(&report).write(&mut bytes);
        emitted.write(&mut bytes);
        // This process's own rows stay here; the others get them as bytes.
        let mut out = vec![bytes; peers.count()];
        out[me] = Vec::new();
        let all = peers.exchange(out)?;
        let mut sum =
            StateReport { rows_total: 0, rows_updated: 0, dropped_by_watermark: 0, memory_bytes: Some(0), ..report };
        let mut mine = Some((figures(&report), emitted));
        let mut rows = Vec::new();
        for (p, bytes) in all.iter().enumerate() {
            let ((total, updated, dropped, memory), part): ((u64, u64, u64, Option<u64>), Vec<T>) = if p == me {
                mine.take().expect("one own part")
            } else {
                read_all(bytes).map_err(|e| {
                    Error::Cluster(format!(
                        "the rows process {p} sent in batch {} do not read back: {e}",
                        self.batch_id
                    ))
                })?
            };
            sum.rows_total += total;
            sum.rows_updated += updated;
            sum.dropped_by_watermark += dropped;
            sum.memory_bytes = sum.memory_bytes.zip(memory).map(|(a, b)| a + b);
            rows.extend(part);
        }
        Ok((rows, sum))
    }

    /// Whether this process owns `key` (a stream-stream join's rows of a key are joined, and
    /// buffered, by the process that owns it; the others skip them): always outside a cluster.
    #[inline]
    pub fn owns<K: std::hash::Hash + ?Sized>(&self, key: &K) -> bool {
        self.peers.as_ref().is_none_or(|p| crate::partition::owner(key, p.count()) == p.index())
    }

    /// Puts out the rows of a partitioned aggregation without putting them together: `rows` are
    /// this process's (the keys it owns), `state` its state's figures and `counts` its rows at
    /// plan nodes (`(node, rows)`, for [`BatchOutput::report_rows`]). Alone, each of `outs`
    /// emits `rows`. In a cluster every process writes its own data file of each file sink
    /// ([`crate::sink::process_part_path`]) and sends process 0 one message: its figures and
    /// counts (added up for the progress line), the files it wrote (which process 0 lists in
    /// the batch's commit, written after every file is on disk), the console's first rows, and
    /// every row only for the outputs that read them all (a memory sink, `--jsonl`); in the
    /// batch's last round, which carries it (`sink/deferred.rs`): process 0 puts the
    /// rows out after that round, in process order. `outs` must be console, file or memory
    /// sinks.
    pub fn emit_partitioned<R: crate::structured::Row>(
        &self,
        output: &mut BatchOutput,
        outs: &[crate::OutputId],
        rows: &[R],
        state: StateReport,
        counts: &[(&'static str, usize)],
    ) -> Result<(), Error> {
        let Some(peers) = &self.peers else {
            output.report_state_figures(state);
            for &(node, n) in counts {
                output.report_rows(node, n);
            }
            for &out in outs {
                output.emit_rows(out, rows)?;
            }
            return Ok(());
        };
        let pieces =
            outs.iter().map(|&o| output.piece(o, rows, peers.index())).collect::<Result<Vec<Piece>, Error>>()?;
        output.defer(Deferred::Rows {
            outs: outs.to_vec(),
            width: R::COLUMNS,
            pieces,
            state,
            counts: counts.iter().map(|&(node, n)| (node, n as u64)).collect(),
        });
        Ok(())
    }

    /// A batch in parts over a cluster's processes, put together on process 0 for outputs
    /// `outs` (the others get nothing back): every record, or, when the outputs read only the
    /// first ones (a `print` without `--jsonl`), each process's first that many, the rest
    /// counted. A `save_as_text_files` among them reads none: each process writes its part
    /// before the round (`BatchOutput::save_part`), and process 0's emit commits them all.
    /// Outputs that are all `print`s (without `--jsonl`) get theirs in the batch's last round
    /// instead of a round of their own ([`crate::sink`]'s deferred emits): every process
    /// keeps its first records as `print` writes them, and process 0 prints them after that
    /// round; every process gets nothing back, and its emits of `outs` in this batch do
    /// nothing. Alone, `part` as it is.
    pub fn gather_output<'t, T: Shipped<'t> + crate::fmt::Record>(
        &'t self,
        output: &mut BatchOutput,
        outs: &[crate::OutputId],
        mut part: Vec<T>,
    ) -> Result<Vec<T>, Error> {
        let Some(peers) = &self.peers else { return Ok(part) };
        // A `save_as_text_files` writes each process's part where it is (process 0 commits them
        // once this round has shown every part is on disk).
        for &o in outs {
            output.save_part(o, &part, peers.index(), peers.count())?;
        }
        let Some(read) = output.records_read(outs) else { return self.gather(part, false) };
        if output.prints_only(outs) {
            let held = part.len() as u64;
            let lines = part
                .iter()
                .take(read)
                .map(|r| {
                    let mut line = String::new();
                    r.spark_fmt(&mut line);
                    line
                })
                .collect();
            output.defer(Deferred::Print { outs: outs.to_vec(), held, lines });
            return Ok(Vec::new());
        }
        let (me, n) = (peers.index(), peers.count());
        let held = part.len() as u64;
        part.truncate(read);
        let mut out = vec![Vec::new(); n];
        if me != 0 {
            held.write(&mut out[0]);
            out[0].extend_from_slice(&ship_all(&part));
        }
        let got = peers.exchange(out)?;
        if me != 0 {
            return Ok(Vec::new());
        }
        let mut unsent = held - part.len() as u64;
        for (p, bytes) in got.into_iter().enumerate().skip(1) {
            let bytes = self.received.keep(bytes);
            let bad = |e: Error| {
                Error::Cluster(format!("the rows process {p} sent in batch {} do not read back: {e}", self.batch_id))
            };
            let mut input = bytes;
            let held = u64::read(&mut input).map_err(bad)?;
            let rows: Vec<T> = unship_all(input).map_err(bad)?;
            unsent += held - rows.len() as u64;
            part.extend(rows);
        }
        output.count_unsent(outs, unsent);
        Ok(part)
    }

    /// The rows a step partitioned by key kept on each process of a cluster (a Structured
    /// deduplication's: each process keeps its keys' rows), put together on process 0 in
    /// process order, with `counts` (rows counted after the step) added up there; the others get
    /// no rows back and their own counts. Alone, both as given.
    pub fn gather_counted<'t, T: Shipped<'t>, const N: usize>(
        &'t self,
        part: Vec<T>,
        counts: [u64; N],
    ) -> Result<(Vec<T>, [u64; N]), Error> {
        let Some(peers) = &self.peers else { return Ok((part, counts)) };
        let me = peers.index();
        let mut out = vec![Vec::new(); peers.count()];
        if me != 0 {
            counts.iter().for_each(|c| c.write(&mut out[0]));
            out[0].extend_from_slice(&ship_all(&part));
        }
        let got = peers.exchange(out)?;
        if me != 0 {
            return Ok((Vec::new(), counts));
        }
        let (mut rows, mut sum) = (part, counts);
        for (p, bytes) in got.into_iter().enumerate().skip(1) {
            let bad = |e: Error| {
                Error::Cluster(format!("the rows process {p} sent in batch {} do not read back: {e}", self.batch_id))
            };
            let mut input = self.received.keep(bytes);
            for s in &mut sum {
                *s += u64::read(&mut input).map_err(bad)?;
            }
            rows.extend(unship_all::<T>(input).map_err(bad)?);
        }
        Ok((rows, sum))
    }

    /// The figures of a state partitioned by key over a cluster's processes (a Structured
    /// deduplication's), added up on process 0, which reports them; alone, as given.
    pub fn add_up_report(&self, report: StateReport) -> Result<StateReport, Error> {
        let counts =
            [report.rows_total, report.rows_updated, report.dropped_by_watermark, report.memory_bytes.unwrap_or(0)];
        let (_, [rows_total, rows_updated, dropped_by_watermark, memory]) =
            self.gather_counted(Vec::<()>::new(), counts)?;
        Ok(StateReport {
            rows_total,
            rows_updated,
            dropped_by_watermark,
            memory_bytes: report.memory_bytes.map(|_| memory),
            ..report
        })
    }

    /// In a cluster, [`run_partials_partitioned`](Self::run_partials_partitioned) for a stage
    /// that ends in a keyed state (`update_state_by_key`, `map_with_state`): each process runs
    /// `partial` over its share of the batch, which gives the pairs bound for the state (and
    /// the rows its fused streams counted), and gets back, in process and worker order, the
    /// pairs whose keys it owns. Outside a cluster `None`: the stage runs as it always does.
    pub fn shuffle_by_key<'t, R, F>(&'t self, text: &'t TextBatch, partial: F) -> Result<Option<Vec<R>>, Error>
    where
        F: Fn(Lines<'t>) -> R + Sync,
        R: Send + Shipped<'t> + Partition,
    {
        if self.peers.is_none() {
            return Ok(None);
        }
        self.run_partials_partitioned(text, partial)
    }

    /// The lines of `text` this process reads when a DStream source's stage runs over each
    /// process's share of the batch (the same line-aligned cut as
    /// [`run_partials_shipped`](Self::run_partials_shipped)'s): every line outside a cluster.
    pub fn share<'t>(&self, text: &'t TextBatch) -> Lines<'t> {
        let Some(peers) = &self.peers else { return text.lines() };
        let (me, n) = (peers.index(), peers.count());
        // Every process's share counts once (as a part the batch was split into).
        if me == 0 {
            self.parts_run.fetch_add(n as u64, Ordering::Relaxed);
        }
        text.split_part(me, n).unwrap_or_else(|| text.lines().take_none())
    }

    /// A DStream batch of pairs in parts over a cluster's processes (each process the pairs of
    /// its share of the batch), sent by key: each pair to the process that owns its key, which
    /// gets its keys' pairs in process order (each key's in batch order). Alone, `part` as it is.
    pub fn exchange_by_key<'t, K, V>(&'t self, part: Vec<(K, V)>) -> Result<Vec<(K, V)>, Error>
    where
        K: std::hash::Hash + Shipped<'t>,
        V: Shipped<'t>,
    {
        let Some(peers) = &self.peers else { return Ok(part) };
        let (me, n) = (peers.index(), peers.count());
        let mut pieces = part.split(n);
        let mine = std::mem::take(&mut pieces[me]);
        let out: Vec<Vec<u8>> =
            pieces.iter().enumerate().map(|(j, p)| if j == me { Vec::new() } else { ship_all(p) }).collect();
        let got = peers.exchange(out)?;
        self.in_process_order(got, me, mine, "pairs")
    }

    /// A DStream batch spread over a cluster's processes (each has the part it computed: the
    /// keys it owns), put together in process order: on every process (`everywhere`), or on
    /// process 0 alone, which writes the outputs (the others get nothing back). Alone, `part`
    /// as it is. Every process calls it at the same point of the batch.
    pub fn gather<'t, T: Shipped<'t>>(&'t self, part: Vec<T>, everywhere: bool) -> Result<Vec<T>, Error> {
        let Some(peers) = &self.peers else { return Ok(part) };
        let (me, n) = (peers.index(), peers.count());
        let sends_to = |j: usize| j != me && (everywhere || j == 0);
        let bytes = if (0..n).any(sends_to) { ship_all(&part) } else { Vec::new() };
        let out: Vec<Vec<u8>> = (0..n).map(|j| if sends_to(j) { bytes.clone() } else { Vec::new() }).collect();
        drop(bytes);
        let got = peers.exchange(out)?;
        if !everywhere && me != 0 {
            return Ok(Vec::new());
        }
        self.in_process_order(got, me, part, "rows")
    }

    /// The partials every process sent (`got`, in process order; this process's own are
    /// `mine`, with `tags`), each message their [`Tag`](super::steal::Tag)s and then the
    /// partials: all of them in the order of their tags, that is line order.
    pub(super) fn in_line_order<'t, T: Shipped<'t>>(
        &'t self,
        got: Vec<Vec<u8>>,
        me: usize,
        tags: Vec<super::steal::Tag>,
        mine: Vec<T>,
        what: &str,
    ) -> Result<Vec<T>, Error> {
        let mut all: Vec<(super::steal::Tag, T)> = Vec::new();
        let mut mine = Some((tags, mine));
        for (p, bytes) in got.into_iter().enumerate() {
            let (tags, part) = if p == me {
                mine.take().unwrap_or_default()
            } else {
                let bad = |e: Error| {
                    Error::Cluster(format!(
                        "the {what} process {p} sent in batch {} do not read back: {e}",
                        self.batch_id
                    ))
                };
                let mut input = self.received.keep(bytes);
                let tags: Vec<super::steal::Tag> = Persist::read(&mut input).map_err(bad)?;
                let part: Vec<T> = unship_all(input).map_err(bad)?;
                if tags.len() != part.len() {
                    return Err(bad(Error::Cluster(format!("{} tags for {} partials", tags.len(), part.len()))));
                }
                (tags, part)
            };
            all.extend(tags.into_iter().zip(part));
        }
        all.sort_by_key(|(tag, _)| *tag);
        Ok(all.into_iter().map(|(_, p)| p).collect())
    }

    /// What a round brought process `me`, in process order: its own `mine` in its place, and
    /// every other process's message read back (borrowing from the bytes, kept for the batch).
    /// `what` names the messages in the error when one does not read back.
    pub(super) fn in_process_order<'t, T: Shipped<'t>>(
        &'t self,
        got: Vec<Vec<u8>>,
        me: usize,
        mine: Vec<T>,
        what: &str,
    ) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        let mut mine = Some(mine);
        for (p, bytes) in got.into_iter().enumerate() {
            if p == me {
                all.extend(mine.take().into_iter().flatten());
                continue;
            }
            let part: Vec<T> = unship_all(self.received.keep(bytes)).map_err(|e| {
                Error::Cluster(format!("the {what} process {p} sent in batch {} do not read back: {e}", self.batch_id))
            })?;
            all.extend(part);
        }
        Ok(all)
    }

    /// Restores a partitioned state, keeping the keys this process owns: from the shards a
    /// cluster wrote (this process's alone when the cluster had as many processes as this one;
    /// otherwise all of them, put together and cut again) or from a whole snapshot (one process
    /// wrote it).
    pub fn restore_partitioned<S: Partitioned>(&self, name: &str, state: &mut S) -> Result<(), Error> {
        let (me, n) = self.peers.as_ref().map_or((0, 1), |p| (p.index(), p.count()));
        let Some(r) = &self.restore else {
            // A fresh run's first batch: a state set up whole (`map_with_state`'s initial
            // states) keeps the keys this process owns.
            if self.batch_id == 0 && n > 1 {
                state.keep_partition(me, n);
            }
            return Ok(());
        };
        let Some((_, pieces)) = r.shards.iter().find(|(s, _)| s == name) else {
            self.restore(name, state)?;
            if n > 1 {
                state.keep_partition(me, n);
            }
            return Ok(());
        };
        // Shards cut by today's ownership rule, by as many processes as this cluster has, are
        // each process's own; any others are put together and cut again.
        let restored = if pieces.len() == n && r.version >= crate::checkpoint::OWNERSHIP_VERSION {
            state.restore(&pieces[me])
        } else {
            let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            S::concat_snapshots(&pieces).and_then(|whole| state.restore(&whole)).map(|()| {
                if n > 1 {
                    state.keep_partition(me, n);
                }
            })
        };
        restored.map_err(|e| Error::Checkpoint {
            path: r.path.clone(),
            message: format!("cannot restore state `{name}` from the shards of checkpoint `{}`: {e}", r.path.display()),
        })
    }

    /// Saves a partitioned state: in a cluster each process saves its part into its own shard
    /// file, which process 0's commit names once every process has written it (two phases, see
    /// [`crate::checkpoint`]); alone, the whole state into the commit.
    pub fn save_partitioned<S: Partitioned>(&self, output: &mut BatchOutput, name: &str, state: &S) {
        match &self.peers {
            Some(peers) => output.save_state_shard(name, peers.index(), peers.count(), state),
            None => output.save_state(name, state),
        }
    }
}

/// A state's figures for the progress line, before a cluster adds them up.
pub fn state_report(
    node: &'static str,
    operator: &'static str,
    state: &impl StateSize,
    rows_updated: u64,
    dropped_by_watermark: u64,
) -> StateReport {
    StateReport {
        node,
        operator,
        rows_total: state.rows() as u64,
        rows_updated,
        dropped_by_watermark,
        memory_bytes: Some(state.memory_bytes()),
    }
}
