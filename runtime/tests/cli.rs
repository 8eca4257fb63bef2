//! The command line of generated binaries, through `run_main_with_args`: replay and jsonl flags,
//! exit codes, and SIGINT finishing the run cleanly. One test per concern; the signal test is
//! alone in this binary because it signals the whole test process.

mod common;

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use common::TempDir;
use streamc_runtime::{AppBuilder, Milliseconds};

fn args(a: &[&str]) -> Vec<String> {
    std::iter::once("prog").chain(a.iter().copied()).map(str::to_owned).collect()
}

#[test]
fn flags_exit_codes_and_sigint() {
    let dir = TempDir::new("cli");
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("0"), "x\ny\n").unwrap();
    let jsonl = dir.join("o.jsonl");

    let app = |files: &std::path::Path| {
        let mut b = AppBuilder::new("cli", Milliseconds(50));
        let src = b.text_file_stream("files", files);
        let out = b.print("lines", 0);
        let (tx, rx) = mpsc::channel();
        let app = b
            .build(move |input, output| {
                let _ = tx.send(input.time_ms());
                let v: Vec<&str> = input.text(src).lines().collect();
                output.emit(out, &v)
            })
            .with_print_writer(std::io::sink());
        (app, rx)
    };

    // Replay of the only source, with jsonl: exit 0 and the lines written.
    let (a, _) = app(dir.path());
    let jsonl_s = jsonl.to_str().unwrap();
    let code = a.run_main_with_args(args(&["--replay", input.to_str().unwrap(), "--jsonl", jsonl_s]));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        std::fs::read_to_string(&jsonl).unwrap(),
        "{\"output\":\"lines\",\"batch_time_ms\":50,\"records\":[\"x\",\"y\"]}\n"
    );

    // A malformed command line is a usage error (2); a missing replay directory a run error (1).
    let (a, _) = app(dir.path());
    assert_eq!(a.run_main_with_args(args(&["--bogus"])), ExitCode::from(2));
    let (a, _) = app(dir.path());
    let missing = dir.join("missing");
    assert_eq!(a.run_main_with_args(args(&["--replay", missing.to_str().unwrap()])), ExitCode::from(1));

    // Live run on the system clock: SIGINT after the first batch ends the run with exit 0.
    let (a, batches) = app(dir.path());
    let runner = std::thread::spawn(move || a.run_main_with_args(args(&[])));
    batches.recv_timeout(Duration::from_secs(10)).expect("a first batch");
    signal_hook::low_level::raise(signal_hook::consts::SIGINT).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(runner.join().unwrap()));
    let code = rx.recv_timeout(Duration::from_secs(10)).expect("run_main returns after SIGINT");
    assert_eq!(code, ExitCode::SUCCESS);
}
