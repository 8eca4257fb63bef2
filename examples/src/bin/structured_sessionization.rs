//! Spark's StructuredSessionization with `stream!` (the twin of
//! `examples/structured_sessionization.yaml`): each word of a line is a session id; a session
//! collects its events until none comes for 10 seconds of processing time. A Rust function per
//! session id and batch over the batch's events and the session's state (Spark's
//! `mapGroupsWithState` with `ProcessingTimeTimeout`); update mode.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("structured_sessionization");
        batch_interval(Seconds(5));
        checkpoint("target/structured_sessionization-macro-checkpoint");
        let lines = read_stream.json("examples/data/sessions").schema("line STRING, timestamp TIMESTAMP");
        let session_updates = lines
            .select(["explode(split(line, ' ')) AS sessionId", "timestamp"])
            .map_groups_with_state(
                ["sessionId"],
                "(i64, i64, i64)",
                "processing_time",
                "id STRING, durationMs BIGINT, numEvents BIGINT, expired BOOLEAN",
                |session_id: &Option<String>, events, state| {
                    if state.has_timed_out() {
                        let (n, start, end) = *state.get();
                        state.remove();
                        return (session_id.clone(), end - start, n, true);
                    }
                    let times: Vec<i64> = events.filter_map(|e| e.timestamp).map(|t| t.0 / 1000).collect();
                    let (n, start, end) = match state.get_option() {
                        Some(&(n, start, end)) => {
                            (n + times.len() as i64, start, end.max(times.iter().copied().max().unwrap_or(end)))
                        }
                        None => (
                            times.len() as i64,
                            times.iter().copied().min().unwrap_or(0),
                            times.iter().copied().max().unwrap_or(0),
                        ),
                    };
                    state.update((n, start, end));
                    state.set_timeout_duration_ms(10_000);
                    (session_id.clone(), end - start, n, false)
                },
            );
        session_updates.write_stream().output_mode("update").console();
    };
    app.with_cli_args()?.start()?.await_termination()
}
