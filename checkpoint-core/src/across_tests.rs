//! Runs across several ranks, with threads standing in for the ranks of an
//! MPI job (`storage::group::threads`): the commit protocol, the collective
//! restore and its fallbacks, agreement on when to save, and a changed rank
//! count. The same code runs under `mpirun` in `tests/mpi.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::report::capture;
use crate::storage::group::threads;

/// One rank's part of the state: the iterations done, and its slab.
type Part = (u64, Vec<u64>);

/// One step of rank `rank`'s slab.
fn step(slab: &mut [u64], rank: usize) {
    for x in slab.iter_mut() {
        *x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(rank as u64 + 1);
    }
}

/// Rank `rank`'s part after `iterations` uninterrupted steps.
fn uninterrupted(rank: usize, iterations: u64) -> Part {
    let mut slab = vec![rank as u64; 8];
    for _ in 0..iterations {
        step(&mut slab, rank);
    }
    (iterations, slab)
}

/// How each rank's run is opened.
#[derive(Clone, Copy)]
enum Every {
    Iterations(u64),
    Time(Duration),
}

/// What one rank did: the iteration it resumed from (`None`: a fresh
/// start), its part at the end, and the lines it printed.
struct Ranked {
    resumed: Option<u64>,
    part: Part,
    lines: Vec<String>,
}

/// Runs the computation on `size` ranks in `dir` up to `stop_at`
/// iterations, each rank syncing every iteration (rank `slow` pausing a
/// little in each), then drops the runs as an interrupted job would;
/// `finish` ends them instead. Returns each rank's result, or its error.
fn run(
    size: usize,
    dir: &Path,
    every: Every,
    stop_at: u64,
    slow: Option<usize>,
    finish: bool,
) -> Vec<Result<Ranked>> {
    let handles: Vec<_> = threads::groups(size)
        .into_iter()
        .enumerate()
        .map(|(rank, group)| {
            let dir = dir.to_path_buf();
            std::thread::spawn(move || {
                let (result, lines) = capture::lines(|| -> Result<(Option<u64>, Part)> {
                    let builder = Checkpoint::builder("slabs")
                        .dir(&dir)
                        .keep(2)
                        .background(false);
                    let builder = match every {
                        Every::Iterations(n) => builder.every_iters(n),
                        Every::Time(interval) => builder.every(interval),
                    };
                    let mut run = builder.group(group).open()?;
                    let restored: Option<Part> = run.restore()?;
                    let resumed = restored.as_ref().map(|(done, _)| *done);
                    let (mut done, mut slab) = restored.unwrap_or((0, vec![rank as u64; 8]));
                    while done < stop_at {
                        step(&mut slab, rank);
                        done += 1;
                        if slow == Some(rank) {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        run.sync(&(done, slab.clone()))?;
                    }
                    if finish {
                        run.finish()?;
                    }
                    Ok((resumed, (done, slab)))
                });
                result.map(|(resumed, part)| Ranked {
                    resumed,
                    part,
                    lines,
                })
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().expect("a rank's thread"))
        .collect()
}

fn ok(results: Vec<Result<Ranked>>) -> Vec<Ranked> {
    results
        .into_iter()
        .enumerate()
        .map(|(rank, result)| result.unwrap_or_else(|err| panic!("rank {rank}: {err}")))
        .collect()
}

fn files(dir: &Path, ending: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.to_string_lossy().ends_with(ending))
        .collect();
    found.sort();
    found
}

#[test]
fn ranks_resume_together_from_the_newest_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = ok(run(3, dir.path(), Every::Iterations(4), 10, None, false));
    assert!(first.iter().all(|rank| rank.resumed.is_none()));
    // Saves at 4 and 8, each committed; keep = 2 keeps both.
    let records = files(dir.path(), ".commit");
    assert_eq!(records.len(), 2, "{records:?}");
    let record = std::fs::read_to_string(&records[1]).expect("a record is text");
    assert!(record.starts_with("checkpoint commit 1\n"), "{record}");
    assert!(record.contains("\nranks 3\n"), "{record}");
    assert_eq!(files(dir.path(), ".ckpt").len(), 6);

    let second = ok(run(3, dir.path(), Every::Iterations(4), 20, None, true));
    for (rank, ranked) in second.iter().enumerate() {
        assert_eq!(ranked.resumed, Some(8), "rank {rank}");
        assert_eq!(ranked.part, uninterrupted(rank, 20), "rank {rank}");
    }
    assert!(
        second[0]
            .lines
            .iter()
            .any(|line| line.contains("resumed") && line.contains(".commit"))
    );
    // Only rank 0 says it resumed.
    assert!(
        second[1..].iter().all(|ranked| ranked.lines.is_empty()),
        "{:?}",
        second[1].lines
    );
    // finish removed the run: records, rank files and locks.
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
}

#[test]
fn one_damaged_rank_file_makes_every_rank_fall_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(run(3, dir.path(), Every::Iterations(4), 10, None, false));
    let newest = files(dir.path(), ".r00001.g00000002.ckpt");
    assert_eq!(newest.len(), 1);
    let mut bytes = std::fs::read(&newest[0]).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&newest[0], bytes).expect("damage");

    let rerun = ok(run(3, dir.path(), Every::Iterations(4), 12, None, false));
    for (rank, ranked) in rerun.iter().enumerate() {
        assert_eq!(
            ranked.resumed,
            Some(4),
            "rank {rank} fell back with the others"
        );
        assert_eq!(ranked.part, uninterrupted(rank, 12), "rank {rank}");
    }
    let damaged = newest[0].display().to_string();
    assert!(
        rerun[1]
            .lines
            .iter()
            .any(|line| line.contains(&damaged) && line.contains("checksum")),
        "rank 1 names its damaged file: {:?}",
        rerun[1].lines
    );
    assert!(
        rerun[0]
            .lines
            .iter()
            .any(|line| line.contains("not usable on every rank")
                && line.contains("g00000002.commit")),
        "{:?}",
        rerun[0].lines
    );
}

#[test]
fn rank_files_no_commit_names_are_never_restored() {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(run(2, dir.path(), Every::Iterations(4), 10, None, false));
    // A crash after every rank wrote generation 2 but before its record.
    let records = files(dir.path(), ".commit");
    std::fs::remove_file(&records[1]).expect("remove the newest record");

    let rerun = ok(run(2, dir.path(), Every::Iterations(4), 14, None, false));
    for (rank, ranked) in rerun.iter().enumerate() {
        assert_eq!(ranked.resumed, Some(4), "rank {rank}");
        assert_eq!(ranked.part, uninterrupted(rank, 14), "rank {rank}");
    }
    // The rerun's saves are numbered above the orphans, never over them.
    let records = files(dir.path(), ".commit");
    assert!(
        records
            .iter()
            .all(|record| !record.to_string_lossy().ends_with(".g00000002.commit")),
        "{records:?}"
    );
    let third = ok(run(2, dir.path(), Every::Iterations(4), 16, None, false));
    assert_eq!(third[0].resumed, Some(12));
}

#[test]
fn another_rank_count_is_refused_on_every_rank() {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(run(3, dir.path(), Every::Iterations(4), 10, None, false));
    for (rank, result) in run(2, dir.path(), Every::Iterations(4), 10, None, false)
        .into_iter()
        .enumerate()
    {
        match result {
            Err(
                err @ Error::RankCount {
                    saved: 3, now: 2, ..
                },
            ) => {
                let message = err.to_string();
                assert!(message.contains("mpirun -np 3"), "{message}");
                assert!(message.contains(".g00000002.commit"), "{message}");
            }
            Err(other) => panic!("rank {rank}: {other}"),
            Ok(_) => panic!("rank {rank} resumed 3 ranks' checkpoint with 2"),
        }
    }
    // Nothing was changed: 3 ranks still resume.
    let again = ok(run(3, dir.path(), Every::Iterations(4), 10, None, false));
    assert!(again.iter().all(|ranked| ranked.resumed == Some(8)));
}

#[test]
fn time_based_saves_come_at_the_same_iteration_on_every_rank() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Rank 1 is slower: the others' deadlines come first on their own clocks.
    ok(run(
        3,
        dir.path(),
        Every::Time(Duration::from_millis(30)),
        150,
        Some(1),
        false,
    ));
    let records = files(dir.path(), ".commit");
    assert!(!records.is_empty(), "a 150 ms run saved by time");
    let rerun = ok(run(
        3,
        dir.path(),
        Every::Time(Duration::from_secs(3600)),
        150,
        None,
        false,
    ));
    let resumed: Vec<Option<u64>> = rerun.iter().map(|ranked| ranked.resumed).collect();
    assert!(resumed[0].is_some(), "{resumed:?}");
    assert!(
        resumed.iter().all(|at| *at == resumed[0]),
        "every rank saved at the same iteration: {resumed:?}"
    );
    for (rank, ranked) in rerun.iter().enumerate() {
        assert_eq!(ranked.part, uninterrupted(rank, 150), "rank {rank}");
    }
}

/// The lock of a run held by another job stops every rank, not one.
#[test]
fn a_rank_that_cannot_open_stops_every_rank() {
    let dir = tempfile::tempdir().expect("tempdir");
    let holder = crate::storage::lock::RunLock::acquire(dir.path(), &held_rank_stem(dir.path()))
        .expect("take rank 1's lock");
    let results = run(2, dir.path(), Every::Iterations(4), 10, None, false);
    assert!(
        matches!(results[1], Err(Error::Locked { .. })),
        "rank 1: {:?}",
        results[1].as_ref().err()
    );
    assert!(
        matches!(results[0], Err(Error::OtherRank(_))),
        "rank 0: {:?}",
        results[0].as_ref().err()
    );
    drop(holder);
}

/// The stem rank 1 of the "slabs" run of these tests locks.
fn held_rank_stem(dir: &Path) -> String {
    let run = Checkpoint::builder("slabs")
        .dir(dir)
        .open()
        .expect("open once to learn the stem");
    let stem = run.stem();
    drop(run);
    for entry in std::fs::read_dir(dir).expect("list") {
        std::fs::remove_file(entry.expect("entry").path()).ok();
    }
    crate::storage::commit::rank_stem(&stem, 1)
}

/// Ranks whose environment asks for another policy follow rank 0's: they
/// must count to the same saves, or their collectives would not meet.
#[test]
fn every_rank_follows_rank_0s_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let handles: Vec<_> = threads::groups(2)
        .into_iter()
        .enumerate()
        .map(|(rank, group)| {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                capture::lines(|| -> Result<u64> {
                    let every = if rank == 0 { 4 } else { 3 };
                    let mut run = Checkpoint::builder("policies")
                        .dir(&dir)
                        .background(false)
                        .every_iters(every)
                        .group(group)
                        .open()?;
                    for i in 0..10_u64 {
                        run.sync(&i)?;
                    }
                    Ok(run.saves())
                })
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|handle| handle.join().expect("a rank's thread"))
        .collect();
    for (rank, (saves, _)) in results.iter().enumerate() {
        assert_eq!(
            saves.as_ref().ok(),
            Some(&2),
            "rank {rank} saved at 4 and 8"
        );
    }
    assert!(
        results[1]
            .1
            .iter()
            .any(|line| line.contains("every rank follows rank 0")),
        "{:?}",
        results[1].1
    );
}

/// A loop of another length on one rank is an error on every rank, not a
/// job that waits forever: the rank that left the loop and the ranks still
/// in it meet in one agreement and learn they are at different points.
#[test]
fn ranks_at_different_points_are_an_error_on_every_rank() {
    let dir = tempfile::tempdir().expect("tempdir");
    let handles: Vec<_> = threads::groups(3)
        .into_iter()
        .enumerate()
        .map(|(rank, group)| {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let (result, _) = capture::lines(|| -> Result<()> {
                    let mut run = Checkpoint::builder("lengths")
                        .dir(&dir)
                        .every(Duration::from_millis(20))
                        .group(group)
                        .open()?;
                    // Rank 2's loop is longer.
                    let steps = if rank == 2 { 400 } else { 200 };
                    for i in 0..steps {
                        std::thread::sleep(Duration::from_micros(200));
                        run.sync(&i)?;
                    }
                    run.finish().map(drop)
                });
                result
            })
        })
        .collect();
    for (rank, handle) in handles.into_iter().enumerate() {
        match handle.join().expect("a rank's thread") {
            Err(Error::OtherRank(message)) => {
                assert!(
                    message.contains("not at the same point"),
                    "rank {rank}: {message}"
                );
                assert!(
                    message.contains("same save-point iterations"),
                    "rank {rank}: {message}"
                );
            }
            other => panic!("rank {rank}: {other:?}"),
        }
    }
}
