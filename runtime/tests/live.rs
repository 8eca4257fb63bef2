//! Live sources driven by a manual clock: a socket server that goes away and comes back, a
//! directory that receives files, and the ways an app stops.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TempDir, wait_for};
use streamc_runtime::{AppBuilder, ManualClock, Seconds};

type Seen = Arc<Mutex<Vec<(i64, Vec<String>)>>>;

/// An app with one source that records each batch's time and lines.
fn recorder(
    b: AppBuilder,
    src: streamc_runtime::SourceId,
    seen: &Seen,
) -> streamc_runtime::App<
    impl FnMut(&streamc_runtime::BatchInput, &mut streamc_runtime::BatchOutput) -> Result<(), streamc_runtime::Error>
    + Send
    + 'static,
> {
    let seen = Arc::clone(seen);
    b.build(move |input, _| {
        let lines = input.text(src).lines().map(str::to_owned).collect();
        seen.lock().unwrap().push((input.time_ms(), lines));
        Ok(())
    })
}

fn all_lines(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap().iter().flat_map(|(_, l)| l.clone()).collect()
}

#[test]
fn socket_source_reads_lines_skips_invalid_utf8_and_reconnects() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        // A line split across writes, an invalid line, and a last line without terminator.
        c.write_all(b"hello wor").unwrap();
        c.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        c.write_all(b"ld\n\xff\xfe bad\nbye").unwrap();
        drop(c);
        // The client reconnects after the close.
        let (mut c, _) = listener.accept().unwrap();
        c.write_all(b"again\r\n").unwrap();
        drop(c);
        listener
    });

    let mut b = AppBuilder::new("sock", Seconds(1));
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let clock = ManualClock::new(0);
    let seen = Seen::default();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
    // Keep sealing batches until everything arrived; batch times follow the manual clock.
    let mut ticks = 0;
    wait_for(20, "all socket lines", || {
        clock.advance(Duration::from_secs(1));
        ticks += 1;
        let want = ticks;
        wait_for(5, "a batch", || handle.completed_batches() >= want);
        all_lines(&seen) == ["hello world", "bye", "again"]
    });
    let times: Vec<i64> = seen.lock().unwrap().iter().map(|(t, _)| *t).collect();
    let expected: Vec<i64> = (1..=ticks as i64).map(|i| i * 1000).collect();
    assert_eq!(times, expected);
    handle.stop(false).unwrap();
    drop(server.join().unwrap());
}

#[test]
fn socket_source_keeps_ticking_while_the_server_is_down() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut b = AppBuilder::new("down", Seconds(1));
    let src = b.socket_text_stream("lines", "127.0.0.1", port);
    let clock = ManualClock::new(10_500);
    let seen = Seen::default();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
    for n in 1..=3 {
        clock.advance(Duration::from_secs(1));
        wait_for(5, "an empty batch", || handle.completed_batches() >= n);
    }
    assert_eq!(*seen.lock().unwrap(), [(11_000, vec![]), (12_000, vec![]), (13_000, vec![])]);
    handle.stop(false).unwrap();
}

#[test]
fn text_file_stream_reads_each_new_file_once_and_ignores_old_and_hidden_files() {
    let dir = TempDir::new("files");
    std::fs::write(dir.join("old.txt"), "old\n").unwrap();
    let mut b = AppBuilder::new("files", Seconds(1));
    let src = b.text_file_stream("files", dir.path());
    let clock = ManualClock::new(0);
    let seen = Seen::default();
    let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();

    // Written under a hidden name, then renamed into place: read in the next batch only.
    std::fs::write(dir.join(".new.txt.tmp"), "n1\nn2").unwrap();
    std::fs::write(dir.join("_ignored"), "nope\n").unwrap();
    clock.advance(Duration::from_secs(1));
    wait_for(5, "batch 1", || handle.completed_batches() >= 1);
    std::fs::rename(dir.join(".new.txt.tmp"), dir.join("new.txt")).unwrap();
    std::fs::write(dir.join("bad.txt"), b"ok\n\xc3\x28\n").unwrap();
    clock.advance(Duration::from_secs(1));
    wait_for(5, "batch 2", || handle.completed_batches() >= 2);
    // Rewriting a file already read does not make it new.
    std::fs::write(dir.join("new.txt"), "again\n").unwrap();
    clock.advance(Duration::from_secs(1));
    wait_for(5, "batch 3", || handle.completed_batches() >= 3);
    handle.stop(false).unwrap();

    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (1000, s(&[])),
            // Name order: bad.txt before new.txt; its invalid line is skipped.
            (2000, s(&["ok", "n1", "n2"])),
            (3000, s(&[])),
        ]
    );
}

#[test]
fn graceful_stop_runs_one_last_batch_and_immediate_stop_does_not() {
    let dir = TempDir::new("stop");
    for graceful in [true, false] {
        let mut b = AppBuilder::new("stop", Seconds(1));
        let src = b.text_file_stream("files", dir.path());
        let clock = ManualClock::new(0);
        let seen = Seen::default();
        let handle = recorder(b, src, &seen).with_manual_clock(clock.clone()).start().unwrap();
        let name = format!("f-{graceful}");
        std::fs::write(dir.join(&name), "x\n").unwrap();
        handle.stop(graceful).unwrap();
        let want: Vec<(i64, Vec<String>)> = if graceful { vec![(1000, vec!["x".to_owned()])] } else { vec![] };
        assert_eq!(*seen.lock().unwrap(), want);
    }
}

#[test]
fn await_termination_or_timeout_and_stop_handle() {
    let dir = TempDir::new("timeout");
    let mut b = AppBuilder::new("t", Seconds(1));
    let src = b.text_file_stream("files", dir.path());
    let seen = Seen::default();
    let mut handle = recorder(b, src, &seen).with_manual_clock(ManualClock::new(0)).start().unwrap();
    assert!(!handle.await_termination_or_timeout(Duration::from_millis(50)).unwrap());
    let stopper = handle.stop_handle();
    std::thread::spawn(move || stopper.stop());
    assert!(handle.await_termination_or_timeout(Duration::from_secs(10)).unwrap());
    handle.await_termination().unwrap();
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_missing_source_directory_fails_at_start_naming_it() {
    let dir = TempDir::new("nodir");
    let missing = dir.join("nope");
    let mut b = AppBuilder::new("m", Seconds(1));
    let src = b.text_file_stream("files", &missing);
    let err = recorder(b, src, &Seen::default()).start().unwrap_err();
    assert!(err.to_string().starts_with(&format!("cannot read `{}`", missing.display())), "{err}");
}
