//! Multi-rank jobs under `mpirun -np 4` (feature `mpi`): `examples/heat.rs`
//! killed whole with SIGKILL at random moments, crashed between the rank
//! writes and the commit and right after the commit, resumed with one
//! rank's newest file damaged, stopped by SIGTERM to the launcher and by a
//! signal to one rank, and rerun with another rank count. Each ends with
//! the uninterrupted result, bit for bit, or with the clear error.
//!
//! `.ci/run` installs Open MPI and runs these with `--features mpi`.

mod common;

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{Finished, Rng, Running, example, temp_dir};

/// Ranks of every job here (oversubscribed on a small machine).
const RANKS: &str = "4";

/// Steps of the plate; with the pause below a run takes about 3 s.
const STEPS: &str = "600";
const DELAY_MS: &str = "4";

/// `mpirun -np ranks heat STEPS --delay-ms MS`, saving into `dir` every
/// 300 ms, in its own process group (so the whole job can be killed).
fn job(dir: &Path, ranks: &str, delay_ms: &str) -> Command {
    let mut command = Command::new("mpirun");
    command
        .args(["--oversubscribe", "-np", ranks])
        // Open MPI's mpirun passes a SIGTERM on to the ranks, and SIGKILLs
        // them, each after this many seconds (1 by default, too short to
        // be sure of a save): the README tells users to raise it.
        .args(["--mca", "odls_base_sigkill_timeout", "3"])
        .arg(example("heat"))
        .args([STEPS, "--delay-ms", delay_ms])
        .env("CHECKPOINT_DIR", dir)
        .env("CHECKPOINT_EVERY", "300ms")
        .env_remove("CHECKPOINT_FRESH")
        .env_remove("CHECKPOINT_DISABLE")
        .env_remove("CHECKPOINT_QUIET")
        .env_remove("CHECKPOINT_TEST_CRASH")
        // Open MPI refuses root unless told twice (CI runs as root).
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

/// Runs the `checkpoint` CLI (built beside the examples by the workspace
/// build).
fn checkpoint_cli(args: &[&str]) -> std::process::Output {
    let path = example("heat")
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples/")
        .join("checkpoint");
    assert!(
        path.is_file(),
        "{} is missing: build the workspace first",
        path.display()
    );
    Command::new(path)
        .args(args)
        .env_remove("CHECKPOINT_DIR")
        .output()
        .expect("run checkpoint")
}

/// How long a job may take before the test gives up on it.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The uninterrupted result (no pause: the pause is not part of the key).
fn reference() -> String {
    let dir = temp_dir();
    let finished = Running::spawn(&mut job(dir.path(), RANKS, "0")).wait(TIMEOUT);
    assert!(finished.status.success(), "{}", finished.describe());
    let result = finished.result().to_owned();
    assert!(!result.is_empty(), "{}", finished.describe());
    result
}

/// The ranks of a job: the launcher's children (Open MPI puts each in a
/// process group of its own).
fn ranks_of(running: &Running) -> Vec<i32> {
    let children = Command::new("pgrep")
        .args(["-P", &running.pid().to_string()])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&children.stdout)
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

/// Whether process `pid` has exited: a zombie has (its files and locks
/// are released, and the library counts it as gone).
fn is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => true,
    }
}

/// SIGKILL to the launcher and every rank at once, as a node failure or
/// `scancel --signal=KILL` would; returns once none is left.
fn kill_whole_job(running: Running) -> Finished {
    let mut pids = ranks_of(&running);
    pids.push(running.pid() as i32);
    for &pid in &pids {
        // SAFETY: kill(2) on a process of this test's own job.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    let finished = running.wait(TIMEOUT);
    wait_until_gone(&pids, "ranks outlived SIGKILL");
    finished
}

/// Waits until every process of `pids` has exited; panics with `why`
/// after [`TIMEOUT`].
fn wait_until_gone(pids: &[i32], why: &str) {
    let began = Instant::now();
    while !pids.iter().all(|&pid| is_gone(pid)) {
        assert!(began.elapsed() < TIMEOUT, "{why}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `signal` to rank `rank` of the job, alone; returns the ranks.
fn signal_rank(running: &Running, rank: usize, signal: i32) -> Vec<i32> {
    let pids = ranks_of(running);
    assert_eq!(pids.len(), 4, "four ranks under mpirun: {pids:?}");
    // SAFETY: kill(2) on a rank of this test's own job.
    unsafe {
        libc::kill(pids[rank], signal);
    }
    pids
}

/// Reruns the job to completion and checks its result.
fn finish_and_compare(dir: &Path, expected: &str, context: &str) -> Finished {
    let finished = Running::spawn(&mut job(dir, RANKS, "0")).wait(TIMEOUT);
    assert!(
        finished.status.success(),
        "{context}: {}",
        finished.describe()
    );
    assert_eq!(
        finished.result(),
        expected,
        "{context}: {}",
        finished.describe()
    );
    finished
}

/// The commit records in `dir`, by name.
fn commits(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".commit"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits until `running` has committed at least `count` saves.
fn wait_for_commits(running: &mut Running, count: usize) {
    running.wait_for_stderr_times("committed in", count, TIMEOUT);
}

/// SIGKILLs of the whole job that must land before it may finish.
const KILLS: usize = 12;

#[test]
fn the_job_survives_sigkill_storms_at_random_moments() {
    let expected = reference();
    let dir = temp_dir();
    let mut rng = Rng::seeded();
    let mut kills = 0;
    loop {
        let mut running = Running::spawn(&mut job(dir.path(), RANKS, DELAY_MS));
        // Starting, restoring, computing, writing, committing or pruning.
        let after = if kills < KILLS {
            Duration::from_millis(rng.between(100, 1200))
        } else {
            TIMEOUT
        };
        let began = Instant::now();
        while began.elapsed() < after && running.is_running() {
            thread::sleep(Duration::from_millis(5));
        }
        if !running.is_running() {
            let finished = running.wait(TIMEOUT);
            assert!(finished.status.success(), "{}", finished.describe());
            assert_eq!(
                finished.result(),
                expected,
                "after {kills} kills: {}",
                finished.describe()
            );
            break;
        }
        let killed = kill_whole_job(running);
        assert!(
            !killed.stderr.contains("warning"),
            "a kill never leaves a damaged checkpoint: {}",
            killed.describe()
        );
        kills += 1;
    }
    assert!(
        kills >= 4,
        "the storm landed only {kills} kills (seed {})",
        rng.seed()
    );
    eprintln!("MPI SIGKILL storm: {kills} kills of the whole job landed");
}

/// A crash at `point` of the second save's commit, then a rerun.
fn crash_in_the_commit(point: &str) -> (Finished, Finished) {
    let expected = reference();
    let dir = temp_dir();
    let crashed = Running::spawn(
        job(dir.path(), RANKS, DELAY_MS).env("CHECKPOINT_TEST_CRASH", format!("{point}@2")),
    )
    .wait(TIMEOUT);
    assert!(!crashed.status.success(), "{}", crashed.describe());
    assert!(
        crashed
            .stderr
            .contains(&format!("aborting at {point} of save 2")),
        "{}",
        crashed.describe()
    );
    let rerun = finish_and_compare(dir.path(), &expected, point);
    (crashed, rerun)
}

#[test]
fn a_crash_after_the_rank_writes_resumes_from_the_previous_commit() {
    for point in ["rank-written", "before-commit"] {
        let (_, rerun) = crash_in_the_commit(point);
        let resumed = rerun.resumed_lines();
        assert!(
            resumed.len() == 1 && resumed[0].contains(".g00000001.commit"),
            "{point}: every rank's second file is durable, but no commit names it: {}",
            rerun.describe()
        );
    }
}

#[test]
fn a_crash_right_after_the_commit_record_resumes_from_it() {
    let (_, rerun) = crash_in_the_commit("after-commit-record");
    let resumed = rerun.resumed_lines();
    assert!(
        resumed.len() == 1 && resumed[0].contains(".g00000002.commit"),
        "{}",
        rerun.describe()
    );
}

#[test]
fn a_damaged_rank_file_makes_every_rank_fall_back_together() {
    let expected = reference();
    let dir = temp_dir();
    let mut running = Running::spawn(&mut job(dir.path(), RANKS, DELAY_MS));
    wait_for_commits(&mut running, 2);
    kill_whole_job(running);
    let newest = commits(dir.path()).pop().expect("a commit");
    let number = newest
        .trim_end_matches(".commit")
        .rsplit_once(".g")
        .expect("a commit's name")
        .1
        .to_owned();
    let stem = newest.split(".g").next().expect("a stem");
    let damaged = dir.path().join(format!("{stem}.r00002.g{number}.ckpt"));
    let mut bytes = std::fs::read(&damaged).expect("rank 2's newest file");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&damaged, bytes).expect("damage it");

    // The CLI sees one run of 4 ranks, and the damaged commit whole.
    let listed = checkpoint_cli(&["list", &dir.path().display().to_string()]);
    assert!(listed.status.success(), "{listed:?}");
    let table = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert_eq!(table.lines().count(), 2, "one run: {table}");
    assert!(
        table.contains("4 ranks") && table.contains("heat::heat"),
        "{table}"
    );
    let verified = checkpoint_cli(&["verify", &dir.path().display().to_string()]);
    let report = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(!verified.status.success(), "{report}");
    let bad_line = report
        .lines()
        .find(|line| line.starts_with("BAD") && line.contains(&newest))
        .unwrap_or_else(|| panic!("verify names the damaged commit: {report}"));
    assert!(
        bad_line.contains("rank 2") && bad_line.contains("checksum"),
        "{bad_line}"
    );
    assert!(
        report
            .lines()
            .any(|line| line.starts_with("OK") && line.contains("commit of 4 ranks")),
        "{report}"
    );

    let rerun = finish_and_compare(dir.path(), &expected, "one damaged rank file");
    let warning = rerun
        .warnings()
        .into_iter()
        .find(|line| line.contains(&damaged.display().to_string()))
        .unwrap_or_else(|| {
            panic!(
                "a warning names {}: {}",
                damaged.display(),
                rerun.describe()
            )
        });
    assert!(warning.contains("checksum"), "{warning}");
    assert!(
        rerun
            .stderr
            .contains("all 4 ranks fall back to the previous commit"),
        "{}",
        rerun.describe()
    );
    assert!(
        !rerun
            .resumed_lines()
            .iter()
            .any(|line| line.contains(&newest)),
        "{}",
        rerun.describe()
    );
}

#[test]
fn sigterm_to_the_launcher_stops_every_rank_at_one_save() {
    let expected = reference();
    let dir = temp_dir();
    // Slower steps: mpirun passes the SIGTERM on only after its
    // odls_base_sigkill_timeout (3 s here), and the job must still run.
    let mut running = Running::spawn(&mut job(dir.path(), RANKS, "12"));
    wait_for_commits(&mut running, 1);
    running.signal(libc::SIGTERM, "SIGTERM");
    let stopped = running.wait(TIMEOUT);
    assert!(!stopped.status.success(), "{}", stopped.describe());
    let stop = stopped
        .stderr
        .lines()
        .find(|line| line.contains("stopped heat::heat on SIGTERM"))
        .unwrap_or_else(|| panic!("a stop line: {}", stopped.describe()));
    assert!(stop.contains(".commit"), "{stop}");
    // Said once, by rank 0.
    assert_eq!(
        stopped.stderr.matches("stopped heat::heat").count(),
        1,
        "{}",
        stopped.describe()
    );
    let rerun = finish_and_compare(dir.path(), &expected, "after SIGTERM");
    let resumed_at = rerun.resumed_lines();
    let saved_at = stop
        .split(" at ")
        .nth(1)
        .and_then(|rest| rest.split(';').next());
    assert!(
        saved_at.is_some_and(|at| resumed_at.iter().any(|line| line.contains(at))),
        "resumes where it stopped ({stop}): {}",
        rerun.describe()
    );
}

#[test]
fn a_signal_to_one_rank_stops_every_rank_with_128_plus_signal() {
    let expected = reference();
    let dir = temp_dir();
    let mut running = Running::spawn(&mut job(dir.path(), RANKS, DELAY_MS));
    wait_for_commits(&mut running, 1);
    signal_rank(&running, 2, libc::SIGUSR1);
    let stopped = running.wait(TIMEOUT);
    assert_eq!(
        stopped.status.code(),
        Some(128 + libc::SIGUSR1),
        "{}",
        stopped.describe()
    );
    assert!(
        stopped.stderr.contains("stopped heat::heat on SIGUSR1"),
        "{}",
        stopped.describe()
    );
    finish_and_compare(dir.path(), &expected, "after SIGUSR1 to one rank");
}

#[test]
fn another_rank_count_is_refused_with_the_count_to_use() {
    let expected = reference();
    let dir = temp_dir();
    let mut running = Running::spawn(&mut job(dir.path(), RANKS, DELAY_MS));
    wait_for_commits(&mut running, 1);
    kill_whole_job(running);
    let refused = Running::spawn(&mut job(dir.path(), "2", "0")).wait(TIMEOUT);
    assert!(!refused.status.success(), "{}", refused.describe());
    assert!(
        refused
            .stderr
            .contains("committed by a job of 4 ranks, and this job has 2")
            && refused.stderr.contains("mpirun -np 4"),
        "{}",
        refused.describe()
    );
    // Nothing was lost: 4 ranks resume it.
    let rerun = finish_and_compare(dir.path(), &expected, "back to 4 ranks");
    assert_eq!(rerun.resumed_lines().len(), 1, "{}", rerun.describe());
}

/// With the `object-store` feature and `CHECKPOINT_TEST_S3_URL` (as
/// `.ci/run` sets up against a local S3 server): every rank PUTs its
/// object, rank 0's commit record is a conditional PUT, and the job
/// survives a SIGKILL of the whole job (taking over the locks the killed
/// ranks left) and a SIGUSR1 to `mpirun` (forwarded to every rank at
/// once), and finishes with the uninterrupted result.
#[cfg(feature = "object-store")]
#[test]
fn a_job_checkpoints_in_a_bucket() {
    let Ok(url) = std::env::var("CHECKPOINT_TEST_S3_URL") else {
        eprintln!(
            "SKIPPED: set CHECKPOINT_TEST_S3_URL (and AWS_ENDPOINT_URL) to test MPI jobs in a bucket"
        );
        return;
    };
    let expected = reference();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let prefix = format!("{url}/mpi-{}-{nanos}", std::process::id());
    let place = Path::new(&prefix);

    let mut running = Running::spawn(&mut job(place, RANKS, DELAY_MS));
    wait_for_commits(&mut running, 1);
    kill_whole_job(running);

    let mut running = Running::spawn(&mut job(place, RANKS, DELAY_MS));
    wait_for_commits(&mut running, 1);
    running.signal(libc::SIGUSR1, "SIGUSR1");
    let stopped = running.wait(TIMEOUT);
    assert_eq!(
        stopped.status.code(),
        Some(128 + libc::SIGUSR1),
        "{}",
        stopped.describe()
    );
    assert!(
        stopped.stderr.contains(&format!("saved to {prefix}/"))
            && stopped.stderr.contains(".commit"),
        "{}",
        stopped.describe()
    );
    let rerun = finish_and_compare(place, &expected, "in a bucket");
    assert!(
        rerun
            .resumed_lines()
            .iter()
            .any(|line| line.contains(&prefix)),
        "{}",
        rerun.describe()
    );
}

#[test]
fn one_rank_killed_takes_the_job_down_and_the_rerun_resumes_from_the_last_commit() {
    let expected = reference();
    let dir = temp_dir();
    let mut running = Running::spawn(&mut job(dir.path(), RANKS, DELAY_MS));
    wait_for_commits(&mut running, 2);
    let ranks = signal_rank(&running, 1, libc::SIGKILL);
    // mpirun ends the job; the other ranks, waiting for the dead one at
    // their next agreement, are killed after its timeout.
    let downed = running.wait(TIMEOUT);
    assert!(!downed.status.success(), "{}", downed.describe());
    wait_until_gone(&ranks, "ranks outlived the job");
    let rerun = finish_and_compare(dir.path(), &expected, "after one rank was killed");
    assert_eq!(rerun.resumed_lines().len(), 1, "{}", rerun.describe());
}
