//! Where a DStream batch's elements are when the app runs as a cluster (`--processes`,
//! `--hostfile`): the same generated code runs on every process, and this decides, per stream,
//! whether each process holds the whole batch or its part of it.
//!
//! A stage split over the processes that ends in per-batch keyed tables (`reduce_by_key`,
//! `count_by_value`) cuts each process's partial by key and sends every process the keys it
//! owns (`BatchInput::run_partials_partitioned`), so each table is [`Place::Keyed`]: every
//! process holds the keys it owns, and merges only those. Operators that keep a key's elements
//! together (`filter`, `map_values`, `flat_map_values`) keep that; `map` and `flat_map` leave
//! each process a part of the batch ([`Place::Split`]). Every other operator reads the whole
//! batch, so a stream in parts is put together first (`BatchInput::gather` on every process),
//! and an output's batch is put together on process 0, which writes the outputs. Outside a
//! cluster every one of those calls is the identity: one process holds everything.
//!
//! A stage that ends in a keyed state (`update_state_by_key`, `map_with_state`) sends each pair
//! to the process that owns its key (`shuffle.rs`), so the state is partitioned too.
//!
//! The records of a batch are so the same as one process's, in process order rather than
//! first-seen order (as Spark's, whose order follows its partitions).

use crate::dstream::plan::{Op, Plan, StreamId};
use crate::physical::Fused;

/// Where a stream's batch is over the processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Every process holds the whole batch.
    Whole,
    /// Each process holds the elements whose key (the pair's first part) it owns.
    Keyed,
    /// Each process holds some of the elements; together, the batch.
    Split,
}

/// The placement of every stream of a plan.
#[derive(Debug)]
pub(super) struct Placement {
    /// Per source: whether its split stage exchanges its keyed tables by key.
    pub keyed_stage: Vec<bool>,
    /// Per materialized stream: put together on every process right after it is made.
    pub gather: Vec<bool>,
    /// Per stream: its outputs read a copy put together on process 0.
    pub gather_out: Vec<bool>,
    /// Per stream: it keeps a state partitioned by key (each process the keys it owns).
    pub keyed_state: Vec<bool>,
    /// Per source: its fused operators run over each process's share of the batch
    /// (`BatchInput::share`), so the streams they make are in parts ([`split_ends`]).
    pub split_source: Vec<bool>,
    /// Per materialized stream of pairs in parts: sent by key right after it is made
    /// (`BatchInput::exchange_by_key`), for keyed operators after it.
    pub exchange: Vec<bool>,
}

impl Placement {
    /// Every stream whole on every process (the placement of a pipeline whose partials cannot
    /// cross a process boundary: `stream!` closures).
    fn whole(n: usize) -> Placement {
        Placement {
            keyed_stage: vec![false; n],
            gather: vec![false; n],
            gather_out: vec![false; n],
            keyed_state: vec![false; n],
            split_source: vec![false; n],
            exchange: vec![false; n],
        }
    }
}

/// Decides the placement. `stages[s]` is the split stage of source `s`, if it has one.
pub(super) fn place(plan: &Plan, phys: &Fused, stages: &[Option<Vec<StreamId>>], shipped: bool) -> Placement {
    let n = plan.streams.len();
    if !shipped {
        return Placement::whole(n);
    }
    // A stage whose tables keep a state that cannot be partitioned stays whole.
    let mut keyed: Vec<bool> = stages
        .iter()
        .map(|stage| stage.as_ref().is_some_and(|st| terminals(plan, phys, st).all(|t| partitions(plan, t))))
        .collect();
    // A source with neither a split stage nor a shuffle may still run its chains over shares.
    let mut split: Vec<bool> = (0..n)
        .map(|s| {
            let id = StreamId(s);
            stages[s].is_none()
                && super::shuffle::shuffle_stage(plan, phys, id).is_none()
                && split_ends(plan, phys, id).is_some()
        })
        .collect();
    loop {
        let placement = gathers(plan, phys, stages, &keyed, &split);
        // A keyed stage all of whose tables are put together again at once gains nothing and
        // costs a round: its partials go to every process, as before. The same for a source
        // read in shares whose streams are all put together again.
        let mut changed = false;
        for (s, stage) in stages.iter().enumerate() {
            if let Some(st) = stage.as_ref().filter(|_| keyed[s])
                && terminals(plan, phys, st).all(|t| placement.gather[t.0])
            {
                keyed[s] = false;
                changed = true;
            }
            if split[s]
                && split_ends(plan, phys, StreamId(s)).is_some_and(|ends| ends.iter().all(|e| placement.gather[e.0]))
            {
                split[s] = false;
                changed = true;
            }
        }
        if !changed {
            return placement;
        }
    }
}

/// The materialized streams that end the fused chains from `source`, when every one of its
/// readers starts a chain of narrow operators that may run over a part of the batch and ends in
/// a materialized narrow stream (`pairs` read by several operators, say); `None` otherwise.
/// A process can then run those chains over its share of the batch alone.
pub(super) fn split_ends(plan: &Plan, phys: &Fused, source: StreamId) -> Option<Vec<StreamId>> {
    let s = &plan.streams[source.0];
    if !s.op.is_source() || matches!(s.op, Op::KafkaDirectStream { .. }) || phys.consumers[source.0].is_empty() {
        return None;
    }
    let mut ends = Vec::new();
    for &first in &phys.consumers[source.0] {
        let mut c = first;
        loop {
            let s = &plan.streams[c.0];
            let narrow = matches!(
                s.op,
                Op::Map(_)
                    | Op::FlatMap(_)
                    | Op::Filter(_)
                    | Op::MapValues(_)
                    | Op::FlatMapValues(_)
                    | Op::Repartition(_)
            );
            if s.inputs.len() != 1 || !narrow || !(s.op.def().codegen.in_workers)(s, &plan.streams[s.inputs[0].0].ty) {
                return None;
            }
            if phys.materialized[c.0] {
                ends.push(c);
                break;
            }
            c = phys.fused_consumer(c)?;
        }
    }
    Some(ends)
}

/// Whether stream `id`'s operator keeps no state, or a state partitioned by key.
fn partitions(plan: &Plan, id: StreamId) -> bool {
    let codegen = &plan.streams[id.0].op.def().codegen;
    codegen.keep.is_none() || codegen.partitions
}

/// The per-batch keyed tables that end a stage.
fn terminals<'a>(plan: &'a Plan, phys: &'a Fused, stage: &'a [StreamId]) -> impl Iterator<Item = StreamId> + 'a {
    stage.iter().copied().filter(|&s| plan.streams[s.0].op.def().codegen.merge.is_some() && phys.materialized[s.0])
}

/// The gathers a placement with these keyed stages needs.
fn gathers(plan: &Plan, phys: &Fused, stages: &[Option<Vec<StreamId>>], keyed: &[bool], split: &[bool]) -> Placement {
    let n = plan.streams.len();
    // The streams in parts (not by key) made over a source's shares.
    let mut split_end = vec![false; n];
    for (s, _) in split.iter().enumerate().filter(|(_, on)| **on) {
        for e in split_ends(plan, phys, StreamId(s)).into_iter().flatten() {
            split_end[e.0] = true;
        }
    }
    // The streams made from parts by key: keyed stages' tables, and the keyed states a
    // shuffle feeds (`shuffle.rs`).
    let mut keyed_table = vec![false; n];
    for (s, stage) in stages.iter().enumerate() {
        if let Some(st) = stage.as_ref().filter(|_| keyed[s]) {
            for t in terminals(plan, phys, st) {
                keyed_table[t.0] = true;
            }
        }
        if let Some((_, t)) = super::shuffle::shuffle_stage(plan, phys, StreamId(s)) {
            keyed_table[t.0] = true;
        }
    }
    let (mut gather, mut exchange) = (vec![false; n], vec![false; n]);
    loop {
        let places = places(plan, &keyed_table, &split_end, &exchange, &gather);
        let mut more = false;
        for s in &plan.streams {
            let from: Vec<Place> = s.inputs.iter().map(|i| places[i.0]).collect();
            if made(&s.op, &from).is_some() {
                continue;
            }
            // A keyed operator reading pairs in parts gets them by key; any other operator
            // gets its inputs whole.
            let by_key = made(&s.op, &[Place::Keyed]).is_some() && s.inputs.len() == 1;
            for &i in s.inputs.iter().filter(|i| places[i.0] != Place::Whole) {
                let m = materialized_source(plan, phys, i);
                let flag = if by_key && m == i && places[i.0] == Place::Split { &mut exchange } else { &mut gather };
                more |= !std::mem::replace(&mut flag[m.0], true);
            }
        }
        if !more {
            let gather_out = (0..n).map(|i| places[i] != Place::Whole && !phys.outputs_of[i].is_empty()).collect();
            // A state is partitioned when its stream is made from parts by key, or its keyed
            // operator reads a stream in parts by key.
            let keyed_state = (0..n)
                .map(|i| {
                    let s = &plan.streams[i];
                    let keyed_input = s.inputs.first().is_some_and(|f| places[f.0] == Place::Keyed);
                    s.op.def().codegen.keep.is_some()
                        && (keyed_table[i] || (s.op.def().codegen.partitions && keyed_input))
                })
                .collect();
            let exchange = (0..n).map(|i| exchange[i] && !gather[i]).collect();
            return Placement {
                keyed_stage: keyed.to_vec(),
                gather,
                gather_out,
                keyed_state,
                split_source: split.to_vec(),
                exchange,
            };
        }
    }
}

/// Each stream's place, given the keyed tables and the streams put together.
fn places(plan: &Plan, keyed_table: &[bool], split_end: &[bool], exchange: &[bool], gather: &[bool]) -> Vec<Place> {
    let mut places: Vec<Place> = Vec::with_capacity(plan.streams.len());
    for (i, s) in plan.streams.iter().enumerate() {
        let made = if exchange[i] {
            Place::Keyed
        } else if split_end[i] {
            Place::Split
        } else if keyed_table[i] {
            // `map_with_state` maps each record to anything: its key is gone.
            if matches!(s.op, Op::MapWithState { .. }) { Place::Split } else { Place::Keyed }
        } else if let (Op::StateSnapshots, Some(from)) = (&s.op, s.inputs.first()) {
            // The states of the keys this process owns (a shuffle's state, or one whose input
            // is in parts by key), or all of them.
            let state_input = plan.streams[from.0].inputs.first();
            if keyed_table[from.0] || state_input.is_some_and(|i| places[i.0] == Place::Keyed) {
                Place::Keyed
            } else {
                Place::Whole
            }
        } else {
            let from: Vec<Place> = s.inputs.iter().map(|i| places[i.0]).collect();
            // An operator that needs its inputs whole gets them put together (`gathers`).
            made(&s.op, &from).unwrap_or(Place::Whole)
        };
        places.push(if gather[i] { Place::Whole } else { made });
    }
    places
}

/// Where `op`'s batch is when it runs over its inputs placed at `from` on each process;
/// `None` when it needs them whole.
fn made(op: &Op, from: &[Place]) -> Option<Place> {
    use Place::{Keyed, Split, Whole};
    let all = |p: Place| from.iter().all(|&f| f == p);
    if all(Whole) {
        return Some(Whole);
    }
    match op {
        // They keep each element's key.
        Op::Filter(_) | Op::Repartition(_) | Op::MapValues(_) | Op::FlatMapValues(_) => Some(from[0]),
        Op::Map(_) | Op::FlatMap(_) => Some(Split),
        // The parts of a union are the unions of the parts; keyed alike, it is keyed.
        Op::Union if all(Keyed) => Some(Keyed),
        Op::Union => from.iter().all(|&f| f != Whole).then_some(Split),
        // Inputs partitioned by the same key join on each process: a key's pairs of both are
        // there.
        Op::Join(_) | Op::Cogroup => all(Keyed).then_some(Keyed),
        // It reads its input's state, not its batch.
        Op::StateSnapshots => Some(from[0]),
        // Keyed by their input's key: each process holds every element of the keys it owns, so
        // it reduces, groups and keeps state for those keys alone (the state partitioned too).
        Op::ReduceByKey(_) | Op::GroupByKey | Op::UpdateStateByKey(_) | Op::ReduceByKeyAndWindow { .. }
            if all(Keyed) =>
        {
            Some(Keyed)
        }
        Op::MapWithState { .. } if all(Keyed) => Some(Split),
        _ => None,
    }
}

/// The materialized stream whose loop computes `id` (itself, or the stream its fused chain
/// starts from).
fn materialized_source(plan: &Plan, phys: &Fused, mut id: StreamId) -> StreamId {
    while !phys.materialized[id.0] {
        id = plan.streams[id.0].inputs[0];
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(yaml: &str) -> (Plan, Placement) {
        let (mut spans, mut diags) = (crate::span::SpanTable::default(), crate::diag::Diagnostics::default());
        let crate::program::Program::DStream(mut plan) = crate::front::yaml::parse(yaml, &mut spans, &mut diags) else {
            panic!("a DStream spec")
        };
        crate::dstream::check(&mut plan, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let phys = crate::physical::plan(&plan);
        let stages: Vec<Option<Vec<StreamId>>> =
            (0..plan.streams.len()).map(|s| super::super::stage::parallel_stage(&plan, &phys, StreamId(s))).collect();
        let p = place(&plan, &phys, &stages, true);
        (plan, p)
    }

    fn id(plan: &Plan, name: &str) -> usize {
        plan.streams.iter().position(|s| s.name == name).expect("a stream of that name")
    }

    const HEAD: &str = "app: wc\nbatch_interval: 1s\nstreams:\n  - name: lines\n    socket_text_stream: { port: 9 }\n  - name: pairs\n    flat_map: { split: \" \" }\n  - name: ones\n    map: { pair_with: 1 }\n";

    #[test]
    fn a_printed_table_is_put_together_for_its_output_only() {
        let (plan, p) =
            placement(&format!("{HEAD}  - name: counts\n    reduce_by_key: sum\noutputs:\n  - print: counts\n"));
        let counts = id(&plan, "counts");
        assert!(p.keyed_stage[id(&plan, "lines")]);
        assert!(!p.gather[counts] && p.gather_out[counts]);
    }

    #[test]
    fn narrow_operators_keep_parts_and_whole_batch_readers_put_them_together() {
        let (plan, p) = placement(&format!(
            "{HEAD}  - name: counts\n    reduce_by_key: sum\n  - name: tagged\n    map: {{ pair_with: 1 }}\n  - name: total\n    count: {{}}\noutputs:\n  - print: tagged\n  - print: total\n"
        ));
        assert!(p.keyed_stage[id(&plan, "lines")]);
        let (tagged, counts, n) = (id(&plan, "tagged"), id(&plan, "counts"), id(&plan, "total"));
        // `count` reads the whole batch: the mapped table is put together (it is materialized
        // for its output), and its output reads it whole.
        assert!(p.gather[tagged] && !p.gather_out[tagged], "{p:?}");
        assert!(!p.gather[counts] && !p.gather[n] && !p.gather_out[n]);
    }

    #[test]
    fn tables_keyed_alike_join_on_each_process_and_mixed_inputs_are_put_together() {
        let (plan, p) = placement(&format!(
            "{HEAD}  - name: counts\n    reduce_by_key: sum\n  - name: w2\n    from: lines\n    flat_map: {{ split: \" \" }}\n  - name: twos\n    map: {{ pair_with: 2 }}\n  - name: doubled\n    reduce_by_key: sum\n  - name: joined\n    from: counts\n    join: doubled\noutputs:\n  - print: joined\n"
        ));
        assert!(p.keyed_stage[id(&plan, "lines")]);
        let (counts, doubled, joined) = (id(&plan, "counts"), id(&plan, "doubled"), id(&plan, "joined"));
        // `joined` runs on the parts; its output is put together on process 0.
        assert!(!p.gather[counts] && !p.gather[doubled] && !p.gather[joined] && p.gather_out[joined], "{p:?}");
        // Inputs in parts not by one key are put together first.
        use crate::dstream::plan::JoinKind;
        use Place::{Keyed, Split, Whole};
        assert_eq!(made(&Op::Join(JoinKind::Inner), &[Keyed, Split]), None);
        assert_eq!(made(&Op::Join(JoinKind::Inner), &[Keyed, Whole]), None);
        assert_eq!(made(&Op::Cogroup, &[Keyed, Keyed]), Some(Keyed));
        assert_eq!(made(&Op::Union, &[Keyed, Split]), Some(Split));
        assert_eq!(made(&Op::Union, &[Keyed, Whole]), None);
        assert_eq!(made(&Op::Count, &[Keyed]), None);
        assert_eq!(made(&Op::Count, &[Whole]), Some(Whole));
    }

    #[test]
    fn pairs_read_by_keyed_operators_are_made_over_shares_and_sent_by_key() {
        let shared = "  - name: counts\n    from: ones\n    reduce_by_key: sum\n  - name: totals\n    from: ones\n    update_state_by_key: sum\n";
        let (plan, p) = placement(
            &format!("{HEAD}{shared}outputs:\n  - print: totals\n").replace("app: wc", "app: wc\ncheckpoint: ck"),
        );
        let (lines, ones, counts, totals) =
            (id(&plan, "lines"), id(&plan, "ones"), id(&plan, "counts"), id(&plan, "totals"));
        assert!(p.split_source[lines] && p.exchange[ones] && !p.gather[ones], "{p:?}");
        assert!(p.keyed_state[totals] && !p.keyed_state[counts] && p.gather_out[totals]);
        // An operator that needs the whole batch puts the pairs together instead.
        let (plan, p) = placement(
            &format!("{HEAD}{shared}  - name: total\n    from: ones\n    count: {{}}\noutputs:\n  - print: totals\n  - print: total\n")
                .replace("app: wc", "app: wc\ncheckpoint: ck"),
        );
        let (lines, ones, totals) = (id(&plan, "lines"), id(&plan, "ones"), id(&plan, "totals"));
        assert!(!p.split_source[lines] && !p.exchange[ones] && !p.gather[ones] && !p.keyed_state[totals], "{p:?}");
    }

    #[test]
    fn a_table_read_whole_at_once_is_not_exchanged_by_key() {
        let (plan, p) = placement(&format!(
            "{HEAD}  - name: counts\n    reduce_by_key: sum\n  - name: total\n    count: {{}}\noutputs:\n  - print: total\n"
        ));
        assert!(!p.keyed_stage[id(&plan, "lines")]);
        assert!(p.gather.iter().all(|g| !g) && p.gather_out.iter().all(|g| !g));
    }
}
