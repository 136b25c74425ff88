//! The `checkpoint` CLI on what a killed program really left: `list` shows
//! the run and its progress, `verify` passes; after a bit flip `verify`
//! fails naming the file, and the program still resumes from the previous
//! generation to the right result.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{Running, command, generations, run_ok, temp_dir};

/// The `checkpoint` binary, built next to the examples by
/// `cargo test --workspace` (the CLI crate's tests need it).
fn cli() -> PathBuf {
    let examples = common::example("sum");
    let path = examples
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples/")
        .join("checkpoint");
    assert!(
        path.is_file(),
        "{} is missing; run `cargo test --workspace`, which builds it",
        path.display()
    );
    path
}

fn checkpoint(args: &[&str]) -> Output {
    Command::new(cli())
        .args(args)
        .env_remove("CHECKPOINT_DIR")
        .output()
        .expect("run checkpoint")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_and_verify_see_what_a_killed_run_left() {
    let dir = temp_dir();
    let dir_arg = dir.path().to_str().expect("a UTF-8 path");
    let args = ["1000", "--delay-ms", "3"];
    let mut running = Running::spawn(&mut command("sum", dir.path(), &args));
    running.wait_until("two generations", Duration::from_secs(30), || {
        generations(dir.path()).len() >= 2
    });
    let killed = running.kill();
    assert!(killed.was_killed(), "{}", killed.describe());

    let list = checkpoint(&["list", dir_arg]);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let listed = text(&list.stdout);
    assert!(
        listed.contains("sum::sum") && listed.contains("/1000"),
        "{listed}"
    );

    let verify = checkpoint(&["verify", dir_arg]);
    assert!(
        verify.status.success(),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );

    // Damage the newest generation: verify names it, the program falls back.
    let newest = generations(dir.path()).pop().expect("a generation").path;
    let mut bytes = fs::read(&newest).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    fs::write(&newest, bytes).expect("write");
    let verify = checkpoint(&["verify", dir_arg]);
    assert_eq!(verify.status.code(), Some(1));
    let name = newest.display().to_string();
    assert!(
        text(&verify.stderr).contains(&name),
        "{}",
        text(&verify.stderr)
    );

    let resumed = run_ok(&mut command("sum", dir.path(), &args));
    let warnings = resumed.warnings();
    assert_eq!(warnings.len(), 1, "{}", resumed.describe());
    assert!(warnings[0].contains(&name), "{}", warnings[0]);
    assert!(
        resumed.resumed_at().is_some_and(|at| at > 0),
        "{}",
        resumed.describe()
    );
    assert_eq!(resumed.result(), "500500");
}
