//! The operators with per-key state across batches: `update_state_by_key`, `map_with_state`,
//! and `state_snapshots` of a `map_with_state` stream.

use super::{Args, Feed, Inputs, Kind, OperatorDef, Params, never, one};
use crate::dstream::plan::Op;

pub static UPDATE_STATE_BY_KEY: OperatorDef = OperatorDef {
    name: "update_state_by_key",
    spark: "updateStateByKey",
    kind: Kind::Stateful,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: |_| true,
    params: Params::Func { builtins: &["sum"] },
    yaml: "closure `\\|values: &[V], state: Option<S>\\| -> Option<S>`, or `sum`",
    types: "`(K, V) → (K, S)`",
    doc: "updates each key's state with the key's values of the batch, every batch",
    example: "let totals = pairs.update_state_by_key(|vs: &[i64], s: Option<i64>| Some(s.unwrap_or(0) + vs.iter().sum::<i64>()));",
    lower: Some(|a: Args| one(a.func.map(Op::UpdateStateByKey))),
};

pub static MAP_WITH_STATE: OperatorDef = OperatorDef {
    name: "map_with_state",
    spark: "mapWithState",
    kind: Kind::Stateful,
    inputs: Inputs::One,
    feed: Feed::Element,
    pairs: true,
    stateful: |_| true,
    params: Params::StateSpec { fields: &["function", "timeout", "initial_state", "num_partitions"] },
    yaml: "`{ function, timeout?, initial_state?: [[k, s], …] }`; `function` is a closure `\\|key: &K, value: Option<V>, state: &mut State<S>\\| …`, or `running_sum`",
    types: "`(K, V) → R`",
    doc: "maps each record with access to its key's state, which may time out",
    example: "let running = pairs.map_with_state(StateSpec::function(f).timeout(Seconds(60)));",
    lower: Some(|a: Args| {
        let Args { func, timeout_ms, initial, .. } = a;
        one(Some(Op::MapWithState { func: func?, timeout_ms, initial }))
    }),
};

pub static STATE_SNAPSHOTS: OperatorDef = OperatorDef {
    name: "state_snapshots",
    spark: "stateSnapshots",
    kind: Kind::Stateful,
    inputs: Inputs::One,
    feed: Feed::Nothing,
    pairs: false,
    stateful: never,
    params: Params::Nothing,
    yaml: "`{}` on a `map_with_state` stream",
    types: "`→ (K, S)`",
    doc: "the per-key state of a `map_with_state` stream after each batch",
    example: "let states = running.state_snapshots();",
    lower: Some(|_: Args| one(Some(Op::StateSnapshots))),
};
