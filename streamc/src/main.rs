//! The `streamc` command line: `check`, `expand`, `build` and `run` a YAML spec.
//! All of streamc's file and process I/O lives here and in `cli.rs`.

mod cache;
mod cli;
mod supervise;

fn main() -> std::process::ExitCode {
    cli::main()
}
