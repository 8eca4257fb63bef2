//! trybuild cases: what `stream!` rejects, with rustc's real output pinned in `.stderr` files
//! (regenerate with `TRYBUILD=overwrite cargo test -p streamc-tests --test ui` and review), and
//! programs it must accept.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/front/*.rs");
    t.compile_fail("ui/types/*.rs");
    t.compile_fail("ui/structured/*.rs");
    t.pass("ui/pass/*.rs");
}
