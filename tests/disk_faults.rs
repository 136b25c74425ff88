//! Proves that a directory that fails under the run costs saves, never the
//! computation: a disk that fills up (a tiny tmpfs) gives warnings naming
//! the path while the run goes on, the last good checkpoint stays and a
//! rerun resumes from it; a read-only or uncreatable directory gives a
//! warning naming it, and the run computes its result without checkpoints.
//!
//! The tmpfs tests need `mount` (root, or a container that allows it); where
//! it is refused they say so on stderr and pass without checking anything.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    RUN_TIMEOUT, Running, WARNING, assert_only_locks_left, command, generations, run, run_ok,
    temp_dir,
};

/// A tmpfs mounted for the life of the value.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs with `options` at `path`, or says on stderr why it
    /// could not and returns `None`.
    fn mount(path: &Path, options: &str, test: &str) -> Option<Tmpfs> {
        fs::create_dir_all(path).expect("create the mount point");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(path)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(Tmpfs {
                path: path.to_path_buf(),
            }),
            Ok(output) => {
                skipped(test, &String::from_utf8_lossy(&output.stderr));
                None
            }
            Err(err) => {
                skipped(test, &err.to_string());
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// Says, past the test harness's capture, that a test checked nothing.
fn skipped(test: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: cannot mount a tmpfs here ({})",
        why.trim()
    );
}

/// `factorial 60000` takes seconds in a debug build, and its checkpoint
/// grows to about 100 KiB: three of them (two generations and the save in
/// progress) outgrow 128 KiB long before the end.
const N: &str = "60000";

#[test]
fn a_full_disk_warns_keeps_the_last_good_checkpoint_and_a_rerun_completes() {
    let tmp = temp_dir();
    let dir = tmp.path().join("tiny");
    let Some(_tmpfs) = Tmpfs::mount(&dir, "size=128k,mode=0700", "full disk") else {
        return;
    };
    let reference_dir = temp_dir();
    let expected = run_ok(&mut command("factorial", reference_dir.path(), &[N]))
        .result()
        .to_owned();

    let mut first = Running::spawn(&mut command("factorial", &dir, &[N]));
    first.wait_for_stderr(WARNING, RUN_TIMEOUT);
    // The warning is out: the disk is full, and what was saved before it
    // must still be there.
    let kept = generations(&dir);
    let first = first.kill();
    assert!(
        first.was_killed(),
        "factorial {N} finished before the test could kill it\n{}",
        first.describe()
    );
    let path = dir.display().to_string();
    let warnings = first.warnings();
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("failed") && w.contains(&path)),
        "every warning is a failed save naming the directory {path}\n{}",
        first.describe()
    );
    assert!(
        first.stderr.contains("No space left on device"),
        "{}",
        first.describe()
    );
    assert!(
        !kept.is_empty(),
        "the saves before the disk filled up are kept\n{}",
        first.describe()
    );

    let second = run(&mut command("factorial", &dir, &[N]));
    assert!(second.status.success(), "{}", second.describe());
    assert!(
        second.resumed_at().is_some_and(|at| at > 0),
        "the rerun resumes from the last good checkpoint\n{}",
        second.describe()
    );
    assert!(
        second.warnings().iter().all(|w| !w.contains("unusable")),
        "no checkpoint was damaged by the full disk\n{}",
        second.describe()
    );
    assert!(
        second.result() == expected,
        "the result differs from an uninterrupted run's\n{}",
        second.describe()
    );
    assert_only_locks_left(&dir, &second.describe());
}

/// `sum 400` in `dir` completes with the right result and a warning that
/// names `named` and says the run goes on without checkpoints.
fn runs_without_checkpoints(dir: &Path, named: &Path) {
    let finished = run_ok(&mut command("sum", dir, &["400"]));
    assert_eq!(finished.result(), "80200", "{}", finished.describe());
    let path = named.display().to_string();
    let warnings = finished.warnings();
    assert!(
        warnings.len() == 1
            && warnings[0].contains(&path)
            && warnings[0].contains("runs without checkpoints"),
        "one warning naming {path}\n{}",
        finished.describe()
    );
}

#[test]
fn a_read_only_directory_warns_naming_it() {
    let tmp = temp_dir();
    let dir = tmp.path().join("read-only");
    if let Some(_tmpfs) = Tmpfs::mount(&dir, "ro,size=64k", "read-only directory (tmpfs)") {
        runs_without_checkpoints(&dir, &dir);
        return;
    }
    // Without mount (not root), permission bits do the same.
    fs::create_dir(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o500)).expect("chmod");
    if fs::write(dir.join("probe"), b"").is_ok() {
        skipped(
            "read-only directory (permissions)",
            "and permission bits do not bind this user",
        );
    } else {
        runs_without_checkpoints(&dir, &dir);
    }
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod back");
}

#[test]
fn an_uncreatable_directory_warns_naming_it() {
    let tmp = temp_dir();
    let file = tmp.path().join("a-file");
    fs::write(&file, b"not a directory").expect("write");
    let dir = file.join("checkpoints");
    runs_without_checkpoints(&dir, &dir);
    assert_eq!(
        fs::read(&file).expect("read"),
        b"not a directory",
        "the file in the way is untouched"
    );
}

/// A lock whose holder line cannot be written (the disk is full when the
/// run starts) costs a warning, not the run's checkpoints: once space is
/// freed the run saves, and a rerun after a kill resumes.
#[test]
fn a_lock_whose_holder_line_cannot_be_written_still_checkpoints() {
    let tmp = temp_dir();
    let dir = tmp.path().join("full");
    let Some(_tmpfs) = Tmpfs::mount(&dir, "size=64k,mode=0700", "holder line on a full disk")
    else {
        return;
    };
    let filler = dir.join("filler");
    let mut file = fs::File::create(&filler).expect("create the filler");
    while file.write_all(&[0_u8; 4096]).is_ok() {}
    drop(file);

    let args = ["3000", "--delay-ms", "2"];
    let mut first = Running::spawn(&mut command("sum", &dir, &args));
    first.wait_for_stderr("could not write this process's line", RUN_TIMEOUT);
    fs::remove_file(&filler).expect("free the space");
    first.wait_until("a checkpoint once space is free", RUN_TIMEOUT, || {
        !generations(&dir).is_empty()
    });
    let first = first.kill();
    assert!(
        !first.stderr.contains("runs without checkpoints"),
        "{}",
        first.describe()
    );
    let second = run_ok(&mut command("sum", &dir, &["3000"]));
    assert!(
        second.resumed_at().is_some_and(|at| at > 0),
        "{}",
        second.describe()
    );
    assert_eq!(second.result(), "4501500", "{}", second.describe());
}
