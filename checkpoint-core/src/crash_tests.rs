//! Power loss and I/O faults at every step of the save protocol, on the
//! simulated disk of `sim.rs`, driven through the public [`Checkpoint`]
//! handle: a run saves several times (pruning as it goes), the power goes
//! or one step fails, and the run's own load path must then find the state
//! of the newest save that returned, exactly.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointBuilder};
use crate::report::capture;
use crate::storage::store::fs::FileSystem;
use crate::storage::store::sim::{Logged, Sim, Step};

/// Saves per simulated run: enough for pruning to delete generations.
const SAVES: u64 = 5;

/// What save number `save` writes: distinct for every save, and big enough
/// to compress into a few hundred bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Progress {
    save: u64,
    values: Vec<u64>,
}

fn progress(save: u64) -> Progress {
    Progress {
        save,
        values: (0..40 + save * 7).map(|i| i * i * save + 1).collect(),
    }
}

/// Saves run on the caller's thread here, so each `save` returns its own
/// outcome and its warnings are captured; with background writes the same
/// protocol ([`crate::run::writer::write`]) runs on the writer thread.
fn builder(name: &str, dir: &Path, sim: &Sim) -> CheckpointBuilder {
    Checkpoint::builder(name)
        .dir(dir)
        .keep(2)
        .background(false)
        .file_system(Arc::new(sim.clone()))
}

/// How a simulated run went.
#[derive(Debug, Default)]
struct SaveRun {
    /// The newest save that returned with its generation written.
    last_ok: Option<u64>,
    /// Per save: whether `save` returned `Ok`, and whether it was written.
    saves: Vec<(bool, bool)>,
    /// The first error a save returned (strict runs).
    error: Option<String>,
    failed_saves: u64,
    lines: Vec<String>,
}

/// Opens the run `name` on `sim`, restores (nothing), and saves
/// `progress(1..=SAVES)`, stopping when the power goes. With `elsewhere`,
/// old generations of that many bytes or more are deleted on another
/// thread.
fn save_run(name: &str, dir: &Path, sim: &Sim, strict: bool, elsewhere: Option<u64>) -> SaveRun {
    let (mut run, lines) = capture::lines(|| {
        let mut run = SaveRun::default();
        let mut builder = builder(name, dir, sim).strict(strict);
        if let Some(bytes) = elsewhere {
            builder = builder.delete_elsewhere_from(bytes);
        }
        let mut checkpoint = match builder.open() {
            Ok(checkpoint) => checkpoint,
            Err(err) => {
                run.error = Some(err.to_string());
                return run;
            }
        };
        if let Err(err) = checkpoint.restore::<Progress>() {
            run.error = Some(err.to_string());
            return run;
        }
        for save in 1..=SAVES {
            if sim.crashed() {
                break;
            }
            let before = checkpoint.stats().saves;
            let returned = checkpoint.save(&progress(save));
            let written = checkpoint.stats().saves > before;
            if written {
                run.last_ok = Some(save);
            }
            run.saves.push((returned.is_ok(), written));
            if let Err(err) = returned {
                run.error.get_or_insert(err.to_string());
            }
        }
        run.failed_saves = checkpoint.stats().failed_saves;
        run
    });
    run.lines = lines;
    run
}

/// Restores the run `name` from every disk a power loss on `sim` may have
/// left, and returns what went wrong, if anything, and how many disks it
/// tried.
fn check_recovery(name: &str, dir: &Path, sim: &Sim, run: &SaveRun) -> (Vec<String>, usize) {
    let mut violations = Vec::new();
    let disks = sim.after_power_loss();
    for (i, disk) in disks.iter().enumerate() {
        let (restored, lines) = capture::lines(|| {
            builder(name, dir, disk)
                .open()
                .and_then(|mut checkpoint| checkpoint.restore::<Progress>())
        });
        let what = format!("disk {i} after the power loss");
        match restored {
            Err(err) => violations.push(format!("{what}: restore failed: {err}")),
            Ok(None) => {
                if let Some(ok) = run.last_ok {
                    violations.push(format!(
                        "{what}: started fresh, though save {ok} had returned"
                    ));
                }
            }
            Ok(Some(state)) => {
                if state != progress(state.save) {
                    violations.push(format!("{what}: restored a state no save wrote: {state:?}"));
                } else if run.last_ok.is_some_and(|ok| state.save < ok) {
                    violations.push(format!(
                        "{what}: restored save {}, though save {} had returned",
                        state.save,
                        run.last_ok.unwrap_or_default()
                    ));
                }
            }
        }
        violations.extend(
            lines
                .iter()
                .filter(|line| line.contains("warning"))
                .map(|line| format!("{what}: {line}")),
        );
    }
    (violations, disks.len())
}

/// Steps a whole run takes when nothing goes wrong.
fn steps_of_a_run(name: &str, dir: &Path, elsewhere: Option<u64>) -> usize {
    let sim = Sim::new();
    let run = save_run(name, dir, &sim, false, elsewhere);
    assert_eq!(run.last_ok, Some(SAVES), "{run:?}");
    // Informational lines (`saved ...`) may appear; no warning may.
    assert!(
        run.lines.iter().all(|line| !line.contains("warning")),
        "{:?}",
        run.lines
    );
    sim.steps()
}

/// Loses power before every step of a run in turn (and once after the
/// last), and checks every disk that may leave. Returns the violations,
/// the crash points and the disks tried.
fn power_loss_at_every_step(
    name: &str,
    elsewhere: Option<u64>,
    sabotage: impl Fn(&Sim),
) -> (Vec<String>, usize, usize) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ckpt");
    let steps = steps_of_a_run(name, &dir, elsewhere);
    let mut violations = Vec::new();
    let mut disks = 0;
    for crash in 0..=steps {
        let sim = Sim::new();
        sabotage(&sim);
        sim.crash_at(crash);
        let run = save_run(name, &dir, &sim, false, elsewhere);
        let (found, tried) = check_recovery(name, &dir, &sim, &run);
        disks += tried;
        violations.extend(
            found
                .into_iter()
                .map(|v| format!("power loss before step {crash} of {steps}: {v}")),
        );
    }
    (violations, steps + 1, disks)
}

#[test]
fn a_power_loss_at_any_step_keeps_the_newest_returned_save() {
    let (violations, points, disks) = power_loss_at_every_step("power", None, |_| {});
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    // Each save is create, write, fsync, rename, fsync dir, then a prune
    // that deletes (from the third save on) without a directory fsync.
    assert!(points > SAVES as usize * 5, "only {points} crash points");
    eprintln!("power loss: {points} crash points, {disks} disks after them, all restored");
}

/// The same when old generations are large: each is renamed to a temp-file
/// name, then deleted on a janitor thread (before the next save writes).
#[test]
fn a_power_loss_at_any_step_keeps_the_newest_returned_save_when_deleting_elsewhere() {
    let (violations, points, disks) = power_loss_at_every_step("elsewhere", Some(0), |_| {});
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    // One step more per pruned generation than in place: the rename.
    let (_, in_place, _) = power_loss_at_every_step("in-place", None, |_| {});
    assert_eq!(
        points,
        in_place + (SAVES as usize - 2),
        "{points} vs {in_place}"
    );
    eprintln!(
        "power loss, deleting elsewhere: {points} crash points, {disks} disks after them, all restored"
    );
}

/// The checker is not vacuous: without the file fsync, a power loss leaves
/// a generation whose name is durable but whose contents are not.
#[test]
fn without_the_file_fsync_a_power_loss_loses_a_returned_save() {
    let (violations, _, _) = power_loss_at_every_step("no-file-sync", None, |sim| {
        sim.ignore_file_sync();
    });
    assert!(
        violations.iter().any(|v| v.contains("had returned")),
        "{violations:#?}"
    );
    assert!(
        violations.iter().any(|v| v.contains("is unusable")),
        "{violations:#?}"
    );
}

/// Without the directory fsync, a save returns before its rename is durable.
#[test]
fn without_the_directory_fsync_a_power_loss_loses_a_returned_save() {
    let (violations, _, _) = power_loss_at_every_step("no-dir-sync", None, |sim| {
        sim.ignore_dir_sync();
    });
    assert!(
        violations.iter().any(|v| v.contains("had returned")),
        "{violations:#?}"
    );
}

/// A run in which one step failed.
struct Fault<'a> {
    dir: &'a Path,
    /// The step that failed, and how many a run takes without a fault.
    fail: usize,
    steps: usize,
    sim: Sim,
    run: SaveRun,
    failed: Logged,
    /// Describes the fault and the run, for assertion messages.
    context: String,
}

/// Runs the run `name` once per step, failing that step, and hands each
/// run to `check`. Returns the number of fault points.
fn at_every_fault(name: &str, strict: bool, mut check: impl FnMut(&Fault<'_>)) -> usize {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ckpt");
    let steps = steps_of_a_run(name, &dir, None);
    for fail in 0..steps {
        let sim = Sim::new();
        sim.fail_at(fail);
        let run = save_run(name, &dir, &sim, strict, None);
        let failed = sim
            .log()
            .into_iter()
            .find(|l| l.failed)
            .expect("the step failed");
        let context = format!(
            "step {fail} ({:?} {}) failed\n{run:#?}",
            failed.step,
            failed.path.display()
        );
        check(&Fault {
            dir: &dir,
            fail,
            steps,
            sim,
            run,
            failed,
            context,
        });
    }
    steps
}

#[test]
fn a_failed_step_warns_keeps_the_last_save_and_the_next_save_retries() {
    const NAME: &str = "fault";
    let mut disks = 0;
    let points = at_every_fault(NAME, false, |fault| {
        let Fault {
            run,
            failed,
            context,
            ..
        } = fault;
        // One warning, naming the file or directory the step was applied
        // to (informational `saved ...` lines aside).
        let warnings: Vec<&String> = run
            .lines
            .iter()
            .filter(|line| line.starts_with("checkpoint: warning: "))
            .collect();
        assert_eq!(warnings.len(), 1, "{context}");
        let warning = warnings[0];
        assert!(
            warning.contains(&failed.path.display().to_string()),
            "{context}"
        );
        assert!(
            run.error.is_none(),
            "a non-strict save never errs\n{context}"
        );
        let making_the_directory = failed.step == Step::CreateDir
            || (failed.step == Step::SyncDir && warning.contains("could not create directory"));
        if making_the_directory {
            // The directory cannot be made, or made durable: the run goes
            // on without saving.
            assert!(warning.contains("runs without checkpoints"), "{context}");
            assert_eq!(run.last_ok, None, "{context}");
            return;
        }

        // Every save returned; at most one was not written (a failed prune
        // loses nothing), and the save after it was.
        assert!(run.saves.iter().all(|&(returned, _)| returned), "{context}");
        let unwritten: Vec<usize> = (0..run.saves.len()).filter(|&i| !run.saves[i].1).collect();
        assert_eq!(run.failed_saves, unwritten.len() as u64, "{context}");
        match unwritten[..] {
            [] => assert!(
                matches!(failed.step, Step::Remove | Step::SyncDir),
                "only a prune may fail without failing its save\n{context}"
            ),
            [i] => {
                assert!(
                    warning.contains("failed") && warning.contains("next due save tries again"),
                    "{context}"
                );
                if i + 1 < run.saves.len() {
                    assert_eq!(
                        run.last_ok,
                        Some(SAVES),
                        "the next save was written\n{context}"
                    );
                }
            }
            _ => panic!("one fault failed several saves\n{context}"),
        }

        // A failed fsync is never retried on that file: the next save (if
        // any) starts over with a new temp file.
        if failed.step == Step::SyncFile && run.saves.last().is_some_and(|&(_, written)| written) {
            let log = fault.sim.log();
            let after = &log[fault.fail + 1..];
            assert!(
                !after
                    .iter()
                    .any(|l| l.step == Step::SyncFile && l.inode == failed.inode),
                "{context}"
            );
            assert!(
                after
                    .iter()
                    .any(|l| l.step == Step::Create && l.path != failed.path),
                "{context}"
            );
        }

        // The previous generation stayed: a power loss at any later step
        // still finds the newest save that returned.
        for crash in fault.fail + 1..=fault.steps {
            let sim = Sim::new();
            sim.fail_at(fault.fail);
            sim.crash_at(crash);
            let run = save_run(NAME, fault.dir, &sim, false, None);
            let (violations, tried) = check_recovery(NAME, fault.dir, &sim, &run);
            disks += tried;
            assert!(
                violations.is_empty(),
                "power loss before step {crash}: {}\n{context}",
                violations.join("\n")
            );
        }
    });
    eprintln!(
        "I/O faults: {points} fault points, then {disks} disks after power losses, all restored"
    );
}

#[test]
fn a_failed_step_is_an_error_in_strict_mode_and_the_last_save_stays() {
    const NAME: &str = "strict";
    at_every_fault(NAME, true, |fault| {
        let Fault {
            run,
            failed,
            context,
            ..
        } = fault;
        match &run.error {
            // A failed prune still only warns: the save itself is durable.
            None => assert!(
                matches!(failed.step, Step::Remove | Step::SyncDir) && run.last_ok == Some(SAVES),
                "{context}"
            ),
            Some(error) => {
                assert!(
                    error.contains(&failed.path.display().to_string()),
                    "{context}"
                );
                let (violations, _) = check_recovery(NAME, fault.dir, &fault.sim, run);
                assert!(
                    violations.is_empty(),
                    "{}\n{context}",
                    violations.join("\n")
                );
            }
        }
    });
}

/// A directory that cannot be listed when the run restores is handled as
/// one that cannot be listed when it opens: a warning naming it, and the
/// run computes without checkpoints; strict, an error.
#[test]
fn a_failed_listing_at_restore_warns_and_the_run_computes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ckpt");
    let sim = Sim::new();
    let (outcome, lines) = capture::lines(|| {
        let mut checkpoint = builder("listing", &dir, &sim).open().expect("open");
        // The open listed the directory; the restore's listing fails.
        sim.fail_lists();
        let restored = checkpoint
            .restore::<Progress>()
            .map_err(|e| e.to_string())?;
        checkpoint.save(&progress(1)).map_err(|e| e.to_string())?;
        Ok::<_, String>((restored.is_none(), checkpoint.stats().saves))
    });
    assert_eq!(outcome, Ok((true, 0)), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(&dir.display().to_string())
            && lines[0].contains("runs without checkpoints"),
        "{lines:?}"
    );

    let strict = Sim::new();
    let (err, _) = capture::lines(|| {
        let mut checkpoint = builder("listing", &dir, &strict)
            .strict(true)
            .open()
            .expect("open");
        strict.fail_lists();
        checkpoint.restore::<Progress>().expect_err("strict")
    });
    assert!(
        err.to_string().contains(&dir.display().to_string()),
        "{err}"
    );
}

/// A disk that fills up and stays full fails every save: the first failure
/// is said in full, the rest are held back (said again once a minute,
/// `report::Repeating`), so saving at every iteration does not flood the
/// log; the last good checkpoint stays; when space comes back, the next
/// save succeeds and that is said once.
#[test]
fn a_disk_that_stays_full_is_said_once_not_at_every_save() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ckpt");
    let sim = Sim::new();
    let (saves, lines) = capture::lines(|| {
        let mut checkpoint = builder("full", &dir, &sim).open().expect("open");
        checkpoint.restore::<Progress>().expect("restore");
        checkpoint.save(&progress(1)).expect("save");
        sim.fill();
        for save in 2..=200 {
            checkpoint.save(&progress(save)).expect("not strict");
        }
        let failed = checkpoint.stats().failed_saves;
        sim.free_space();
        checkpoint.save(&progress(201)).expect("save");
        let stats = checkpoint.stats();
        (failed, stats.saves, stats.failed_saves)
    });
    assert_eq!(saves, (199, 2, 199), "{lines:?}");
    let path = dir.display().to_string();
    let said: Vec<&String> = lines
        .iter()
        .filter(|line| !line.contains("saved save"))
        .collect();
    assert_eq!(
        said.len(),
        2,
        "one line for 199 failures, one when they end: {lines:?}"
    );
    assert!(
        said[0].contains("failed")
            && said[0].contains(&path)
            && said[0].contains("No space left on device")
            && said[0].contains("once a minute"),
        "{lines:?}"
    );
    assert!(
        said[1].contains("succeed again") && said[1].contains("199 failed"),
        "{lines:?}"
    );
    let mut reopened = capture::lines(|| builder("full", &dir, &sim).open().expect("reopen")).0;
    let restored = capture::lines(|| reopened.restore::<Progress>().expect("restore")).0;
    assert_eq!(restored.map(|r| r.save), Some(201));
}

/// A generation file whose start is wrong (a foreign file, or lengths that
/// do not add up) is refused from its first bytes: it is never read whole
/// or mapped, so a huge file at a generation's name costs nothing. It is
/// moved aside with the reason, and the run starts fresh.
#[test]
fn a_file_with_a_bad_start_is_refused_before_it_is_read() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ckpt");
    for junk in [vec![0_u8; 1 << 20], {
        // The right magic and version, and a length that lies.
        let mut file = crate::bytes::format::tests::sample_file(&progress(1), None);
        file.extend(std::iter::repeat_n(7_u8, 1 << 20));
        file
    }] {
        let sim = Sim::new();
        let (_, _) = capture::lines(|| {
            let mut checkpoint = builder("huge", &dir, &sim).open().expect("open");
            checkpoint.save(&progress(1)).expect("save");
            checkpoint.flush().expect("flush");
        });
        let generation = sim
            .log()
            .iter()
            .rev()
            .find(|logged| logged.step == Step::Rename)
            .map(|logged| logged.path.clone())
            .expect("the save renamed its file into place");
        let temp = dir.join(".junk.tmp");
        let mut file = sim.create_new(&temp).expect("create");
        file.write_all(&junk).expect("write");
        file.sync().expect("sync");
        sim.rename(&temp, &generation).expect("rename");

        let reads_before = sim.full_reads();
        let (restored, lines) = capture::lines(|| {
            let mut checkpoint = builder("huge", &dir, &sim).open().expect("reopen");
            checkpoint.restore::<Progress>().expect("restore")
        });
        assert!(restored.is_none(), "{lines:?}");
        assert_eq!(
            sim.full_reads(),
            reads_before,
            "the file was read whole: {lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|line| line.contains(&generation.display().to_string())
                    && line.contains("damaged")),
            "{lines:?}"
        );
    }
}
