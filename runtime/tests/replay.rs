//! Replay runs of a handler written exactly as the code generator writes it: per-batch records
//! and times, print's exact bytes, the jsonl lines and the save_as_text_files layout.

mod common;

use std::sync::{Arc, Mutex};

use common::{Captured, TempDir};
use streamc_runtime::{AppBuilder, Error};

/// The network word count as generated code spells it (see the runtime's contract), with `print`
/// captured and the text files written under `out`.
fn word_count(
    out: &std::path::Path,
    captured: &Captured,
) -> streamc_runtime::App<
    impl FnMut(&streamc_runtime::BatchInput, &mut streamc_runtime::BatchOutput) -> Result<(), streamc_runtime::Error>
    + Send
    + 'static,
> {
    let prefix = out.join("counts");
    let mut __b = ::streamc_runtime::AppBuilder::new("network_word_count", ::core::time::Duration::from_millis(1000));
    let __src0: ::streamc_runtime::SourceId = __b.socket_text_stream("lines", "localhost", 9999);
    let __out0: ::streamc_runtime::OutputId = __b.print("word_counts", 10);
    let __out1: ::streamc_runtime::OutputId = __b.save_as_text_files("word_counts", prefix.to_str().unwrap(), "txt");
    __b.build(
        move |__in: &::streamc_runtime::BatchInput,
              __out: &mut ::streamc_runtime::BatchOutput|
              -> ::core::result::Result<(), ::streamc_runtime::Error> {
            let __t0: &::streamc_runtime::TextBatch = __in.text(__src0);
            let __ty = __t0.ty();
            let (mut __f1, __ty) =
                ::streamc_runtime::ops::flat_map(__ty, |line| ::streamc_runtime::split::java_split(line, " "));
            let (mut __f2, __ty) = ::streamc_runtime::ops::map(__ty, |word| (word, 1i64));
            let (mut __f3, __ty3) = ::streamc_runtime::ops::reduce_by_key(__ty, |a, b| a + b);
            let mut __s3 = ::streamc_runtime::ops::keyed_reduce(__ty);
            for line in __t0.lines() {
                for word in __f1(line) {
                    let __p = ::streamc_runtime::ops::into_pair_reduce_by_key(__f2(word));
                    __s3.merge(__p.0, __p.1, &mut __f3);
                }
            }
            let __ty3 = ::streamc_runtime::ops::record(__ty3);
            let _ = __ty3;
            let __v3: Vec<_> = __s3.into_vec();
            __out.emit(__out0, &__v3)?;
            __out.emit(__out1, &__v3)?;
            Ok(())
        },
    )
    .with_print_writer(captured.clone())
}

/// Three batches: Spark's split edge case, a plain line, and an empty file.
fn three_batches(dir: &TempDir) -> std::path::PathBuf {
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("b0.txt"), "a  b\n a\nb \n\n").unwrap();
    std::fs::write(input.join("b1.txt"), "a b").unwrap();
    std::fs::write(input.join("b2.txt"), "").unwrap();
    input
}

const DASHES: &str = "-------------------------------------------";

#[test]
fn replayed_word_count_prints_saves_and_writes_jsonl() {
    let dir = TempDir::new("replay");
    let input = three_batches(&dir);
    let out = dir.join("out");
    let jsonl = dir.join("out.jsonl");
    let captured = Captured::default();
    let app = word_count(&out, &captured).with_replay_all(&input).with_jsonl(&jsonl);
    let handle = app.start().unwrap();
    handle.await_termination().unwrap();

    // Spark's verified counts for the split edge case: "" 3 times, a 2, b 2; first-seen order.
    let want_print = format!(
        "{DASHES}\nTime: 1000 ms\n{DASHES}\n(a,2)\n(,3)\n(b,2)\n\n\
         {DASHES}\nTime: 2000 ms\n{DASHES}\n(a,1)\n(b,1)\n\n\
         {DASHES}\nTime: 3000 ms\n{DASHES}\n\n"
    );
    assert_eq!(captured.text(), want_print);

    // One line per stream and batch, although the stream has two outputs (print and save).
    let want_jsonl = concat!(
        r#"{"output":"word_counts","batch_time_ms":1000,"records":[["a",2],["",3],["b",2]]}"#,
        "\n",
        r#"{"output":"word_counts","batch_time_ms":2000,"records":[["a",1],["b",1]]}"#,
        "\n",
        r#"{"output":"word_counts","batch_time_ms":3000,"records":[]}"#,
        "\n",
    );
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap(), want_jsonl);

    // save_as_text_files: one complete directory per batch and nothing else (no temp dirs).
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["counts-1000.txt", "counts-2000.txt", "counts-3000.txt"]);
    for (name, want) in
        [("counts-1000.txt", "(a,2)\n(,3)\n(b,2)\n"), ("counts-2000.txt", "(a,1)\n(b,1)\n"), ("counts-3000.txt", "")]
    {
        let d = out.join(name);
        let mut files: Vec<String> =
            std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        assert_eq!(files, ["_SUCCESS", "part-00000"], "{name}");
        assert_eq!(std::fs::read_to_string(d.join("part-00000")).unwrap(), want);
        assert_eq!(std::fs::read(d.join("_SUCCESS")).unwrap(), b"");
    }
}

#[test]
fn rerun_replaces_previous_text_file_output() {
    let dir = TempDir::new("rerun");
    let input = three_batches(&dir);
    let out = dir.join("out");
    for _ in 0..2 {
        let app = word_count(&out, &Captured::default()).with_replay_all(&input);
        app.start().unwrap().await_termination().unwrap();
    }
    assert_eq!(std::fs::read_to_string(out.join("counts-2000.txt/part-00000")).unwrap(), "(a,1)\n(b,1)\n");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);
}

/// An app with two sources whose handler records what it saw per batch.
type Seen = Arc<Mutex<Vec<(i64, Vec<String>, Vec<String>)>>>;

fn two_sources(
    seen: &Seen,
) -> streamc_runtime::App<
    impl FnMut(&streamc_runtime::BatchInput, &mut streamc_runtime::BatchOutput) -> Result<(), Error> + Send + 'static,
> {
    let mut b = AppBuilder::new("two", streamc_runtime::Milliseconds(500));
    let lines = b.socket_text_stream("lines", "localhost", 9);
    let files = b.text_file_stream("files", "/nonexistent/streamc/dir");
    let seen = Arc::clone(seen);
    b.build(move |input, _out| {
        let a = input.text(lines).lines().map(str::to_owned).collect();
        let f = input.text(files).lines().map(str::to_owned).collect();
        seen.lock().unwrap().push((input.time_ms(), a, f));
        Ok(())
    })
}

#[test]
fn per_source_replay_runs_until_the_longest_dir_ends() {
    let dir = TempDir::new("two");
    let (a, f) = (dir.join("a"), dir.join("f"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&f).unwrap();
    std::fs::write(a.join("1"), "x\ny\n").unwrap();
    std::fs::write(f.join("1"), "p\n").unwrap();
    std::fs::write(f.join("2"), "q\r\nr").unwrap();
    std::fs::write(f.join("3"), "s\n").unwrap();
    let seen = Seen::default();
    let app = two_sources(&seen).with_replay("lines", &a).with_replay("files", &f);
    app.start().unwrap().await_termination().unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(500, s(&["x", "y"]), s(&["p"])), (1000, s(&[]), s(&["q", "r"])), (1500, s(&[]), s(&["s"])),]
    );
}

fn start_err<F>(app: streamc_runtime::App<F>) -> String
where
    F: FnMut(&streamc_runtime::BatchInput, &mut streamc_runtime::BatchOutput) -> Result<(), Error> + Send + 'static,
{
    match app.start() {
        Ok(_) => panic!("start succeeded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn replay_configuration_errors_name_the_culprit() {
    let dir = TempDir::new("cfg");
    let seen = Seen::default();
    let msg = start_err(two_sources(&seen).with_replay("lines", dir.path()));
    assert!(msg.starts_with("source `files` has no replay input"), "{msg}");
    let msg = start_err(two_sources(&seen).with_replay_all(dir.path()));
    assert!(msg.contains("exactly one source") && msg.contains("`lines`, `files`"), "{msg}");
    let msg = start_err(two_sources(&seen).with_replay("nope", dir.path()));
    assert!(msg.contains("no source of that name"), "{msg}");
    let missing = dir.join("missing");
    let msg = start_err(word_count(&dir.join("o"), &Captured::default()).with_replay_all(&missing));
    assert!(msg.starts_with(&format!("cannot read `{}`: ", missing.display())), "{msg}");
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn an_unwritable_output_stops_the_app_with_an_error_naming_the_path() {
    let dir = TempDir::new("outerr");
    let input = three_batches(&dir);
    // A regular file where the output's parent directory should be.
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let mut b = AppBuilder::new("bad", streamc_runtime::Seconds(1));
    let src = b.socket_text_stream("lines", "localhost", 9);
    let save = b.save_as_text_files("out", blocker.join("x").to_str().unwrap(), "");
    let batches = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&batches);
    let app = b
        .build(move |input, out| {
            seen.lock().unwrap().push(input.time_ms());
            let v: Vec<&str> = input.text(src).lines().collect();
            // Only the second batch writes, so the first one completes normally.
            if input.time_ms() == 2000 {
                out.emit(save, &v)?;
            }
            Ok(())
        })
        .with_replay_all(&input);
    let handle = app.start().unwrap();
    match handle.await_termination() {
        Err(Error::Output { path, .. }) => assert!(path.starts_with(&blocker), "{path:?}"),
        other => panic!("expected an output error, got {other:?}"),
    }
    assert_eq!(*batches.lock().unwrap(), [1000, 2000]);
}

#[test]
fn a_panicking_handler_is_reported_as_an_error() {
    let dir = TempDir::new("panic");
    let input = three_batches(&dir);
    let mut b = AppBuilder::new("p", streamc_runtime::Seconds(1));
    b.socket_text_stream("lines", "localhost", 9);
    let app = b
        .build(|input, _| {
            if input.time_ms() == 2000 {
                panic!("boom at two");
            }
            Ok(())
        })
        .with_replay_all(&input);
    match app.start().unwrap().await_termination() {
        Err(e @ Error::Panic { .. }) => {
            assert_eq!(e.to_string(), "the batch handler panicked at batch time 2000 ms: boom at two")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_placeholder_app_type_checks_like_a_generated_one() {
    // What `stream!` expands to after its errors: user code around it must still compile.
    let app = { ::streamc_runtime::App::placeholder() };
    let dir = TempDir::new("placeholder");
    // With no source and no replay it simply runs empty batches until stopped.
    let handle =
        app.with_manual_clock(streamc_runtime::ManualClock::new(0)).with_jsonl(dir.join("o.jsonl")).start().unwrap();
    handle.stop(false).unwrap();
}
