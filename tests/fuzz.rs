//! The hook for the decoder's cargo-fuzz target (`fuzz/`): fuzzes for 20
//! seconds when a nightly toolchain and cargo-fuzz are installed, and
//! otherwise says it skipped. CI on stable needs neither; the stable
//! proptests in `checkpoint-core/src/format.rs` fuzz the decoder there.

use std::io::Write;
use std::path::Path;
use std::process::Command;

#[test]
fn fuzz_the_decoder_when_nightly_and_cargo_fuzz_are_installed() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/run.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg("20")
        .output()
        .expect("run fuzz/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the fuzzer found a crash or failed to build\n{stdout}\n{stderr}"
    );
    // Past the harness's capture: whether it fuzzed or skipped, and why.
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("fuzz: skipped"))
        .map_or_else(
            || "fuzz: ran the decoder target for 20 s".to_owned(),
            str::to_owned,
        );
    let _ = writeln!(std::io::stderr(), "{summary}");
}
