//! Proves that no run name can make the library write outside its
//! directory: names with `..`, absolute paths, NUL bytes, backslashes or
//! thousands of characters, given to `Checkpoint::builder` or to
//! `#[checkpointed(name = ...)]`, all save and resume inside the directory,
//! under short file names, each run under its own.

use std::fs;
use std::path::{Path, PathBuf};

use checkpoint_core::{Checkpoint, checkpointed};

/// Every file below `dir`, recursively.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).expect("list") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files_below(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[checkpointed(
    name = "../../../../tmp/escape",
    every_iters = 1,
    keep_on_success = true
)]
fn escaping(n: u64) -> u64 {
    #[state]
    let mut total: u64 = 0;
    for i in 0..n {
        total += i;
    }
    total
}

#[test]
fn hostile_names_stay_inside_the_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("inner").join("checkpoints");
    // The only test in this binary: nothing else reads the environment.
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    let long = "../".repeat(2000);
    let names = [
        "..",
        "../escape",
        "../../../../../../../../etc/passwd",
        "/abs/path/run",
        "nul\0byte",
        "back\\..\\slash",
        ".hidden",
        "",
        "-rf",
        "ünïcödé/../..",
        long.as_str(),
    ];
    for (i, name) in names.iter().enumerate() {
        let mut checkpoint = Checkpoint::builder(name).open().expect("open");
        assert_eq!(checkpoint.restore::<u64>().expect("restore"), None);
        checkpoint.save(&(i as u64)).expect("save");
        checkpoint.flush().expect("flush");
        assert_eq!(checkpoint.saves(), 1, "{name:?} saved");
    }
    assert_eq!(escaping(10), 45);

    // Each run finds its own checkpoint again.
    for (i, name) in names.iter().enumerate() {
        let mut checkpoint = Checkpoint::builder(name).open().expect("reopen");
        assert_eq!(
            checkpoint.restore::<u64>().expect("restore"),
            Some(i as u64),
            "{name:?}"
        );
    }

    let files = files_below(tmp.path());
    // A generation and a lock per builder run; the macro's run kept its
    // last generation or two (keep_on_success; saves every iteration of a
    // fast loop supersede each other) and removed its lock.
    assert!(
        (names.len() * 2 + 1..=names.len() * 2 + 2).contains(&files.len()),
        "{files:#?}"
    );
    for file in &files {
        assert_eq!(
            file.parent(),
            Some(dir.as_path()),
            "{} escaped",
            file.display()
        );
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 name");
        assert!(name.len() <= 100, "{name} is short");
        assert!(!name.starts_with('.'), "{name} is not hidden");
    }
    assert!(!Path::new("/tmp/escape").exists());
}
