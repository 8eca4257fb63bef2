//! Compile-fail tests: rustc's errors for streams that break an operator's bound name the
//! operator. Regenerate the expected `.stderr` files with `TRYBUILD=overwrite` and review them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/ops/*.rs");
}
