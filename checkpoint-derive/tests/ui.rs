//! Compile-fail tests: each file in `tests/ui/` makes one mistake and its
//! `.stderr` holds the one error it must produce, spanned on the user's
//! code. Regenerate with `TRYBUILD=overwrite cargo test -p checkpoint-macros --test ui`,
//! then read every changed `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

/// Functions at the edges of what users write (raw identifiers, user
/// constants named like generated locals) compile and run.
#[test]
fn pass() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui-pass/*.rs");
}
