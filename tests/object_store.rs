//! Checkpoints in an object store, end to end. With the `object-store`
//! feature and `CHECKPOINT_TEST_S3_URL=s3://bucket` (plus `AWS_ENDPOINT_URL`
//! and credentials reaching an S3-compatible server, as `.ci/run` sets up),
//! the `sum` example saves into the bucket, is SIGKILLed again and again,
//! takes over the lock each killed run left, and finishes with the
//! uninterrupted result, leaving nothing behind. Without a server those
//! tests print `SKIPPED`; the others need none.

mod common;

use std::path::Path;
#[cfg(feature = "object-store")]
use std::time::Duration;

#[cfg(feature = "object-store")]
use common::{Rng, Running};
use common::{command, run_ok, temp_dir};

/// `sum 600`: 1 + 2 + ... + 600.
const EXPECTED: &str = "180300";

/// Without the feature, a URL is never mistaken for a directory (`s3:`):
/// the run warns and computes without checkpoints.
#[cfg(not(feature = "object-store"))]
#[test]
fn without_the_feature_a_url_is_a_warning_and_the_run_completes() {
    let cwd = temp_dir();
    let finished =
        run_ok(command("sum", Path::new("s3://bucket/prefix"), &["600"]).current_dir(cwd.path()));
    assert_eq!(finished.result(), EXPECTED, "{}", finished.describe());
    let warnings = finished.warnings().join("\n");
    assert!(
        warnings.contains("s3://bucket/prefix") && warnings.contains("`object-store` feature"),
        "{}",
        finished.describe()
    );
    let created: Vec<_> = std::fs::read_dir(cwd.path())
        .expect("read the working directory")
        .collect();
    assert!(
        created.is_empty(),
        "nothing is created locally: {created:?}"
    );
}

/// An unreachable store is a warning naming it, and the run computes its
/// result without checkpoints, in seconds (not after minutes of retries).
#[cfg(feature = "object-store")]
#[test]
fn an_unreachable_store_is_a_warning_and_the_run_completes() {
    let began = std::time::Instant::now();
    let finished = run_ok(
        command("sum", Path::new("s3://unreachable/prefix"), &["600"])
            // Port 9 (discard) on loopback: nothing listens there.
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1"),
    );
    assert_built_with_the_feature(&finished);
    assert_eq!(finished.result(), EXPECTED, "{}", finished.describe());
    let warnings = finished.warnings().join("\n");
    assert!(
        warnings.contains("s3://unreachable/prefix/") && warnings.contains("without checkpoints"),
        "{}",
        finished.describe()
    );
    assert!(
        began.elapsed() < Duration::from_secs(60),
        "took {:?}",
        began.elapsed()
    );
}

/// Panics with the fix if the example binaries lack the feature: cargo
/// builds them for `--test object_store` only if they are missing.
#[cfg(feature = "object-store")]
fn assert_built_with_the_feature(finished: &common::Finished) {
    assert!(
        !finished.stderr.contains("`object-store` feature"),
        "the example binaries were built without the object-store feature: run \
         `cargo build -p checkpoint-examples --examples --features object-store` first\n{}",
        finished.describe()
    );
}

/// A fresh prefix in the test bucket, or `None` (and a line saying why).
#[cfg(feature = "object-store")]
fn test_url(test: &str) -> Option<String> {
    let Some(base) = std::env::var("CHECKPOINT_TEST_S3_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!(
            "SKIPPED {test}: set CHECKPOINT_TEST_S3_URL=s3://bucket and AWS_ENDPOINT_URL etc. to test against an S3 server (.ci/run does)"
        );
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Some(format!(
        "{}/e2e-{}-{nanos}-{test}",
        base.trim_end_matches('/'),
        std::process::id()
    ))
}

#[cfg(feature = "object-store")]
#[test]
fn sigkilled_runs_resume_from_the_bucket_to_the_uninterrupted_result() {
    let Some(url) = test_url("sum") else { return };
    let bucket = Path::new(&url);
    let args = ["600", "--delay-ms", "10"];
    assert_built_with_the_feature(&run_ok(&mut command("sum", bucket, &["1"])));
    let reference_dir = temp_dir();
    let reference = run_ok(&mut command("sum", reference_dir.path(), &["600"]));
    assert_eq!(reference.result(), EXPECTED, "{}", reference.describe());

    let mut rng = Rng::seeded();
    let mut history = format!("seed {}; sum {} in {url}\n", rng.seed(), args.join(" "));
    let mut furthest = 0;
    let mut kills = 0;
    for attempt in 0..4 {
        let mut running = Running::spawn(&mut command("sum", bucket, &args));
        // Each run saves at least once before it is killed.
        running.wait_for_stderr("checkpoint: saved ", Duration::from_secs(60));
        // Four runs of at most ~250 ms each against 6 s of work: no run
        // can reach the end, which would leave nothing to resume.
        let after_ms = rng.between(50, 200);
        std::thread::sleep(Duration::from_millis(after_ms));
        let killed = running.kill();
        history.push_str(&format!(
            "run {attempt}: killed {after_ms} ms after its first save; resumed at {:?}; {}\n",
            killed.resumed_at(),
            killed.status
        ));
        if !killed.was_killed() {
            break;
        }
        kills += 1;
        if attempt > 0 {
            let resumed_at = killed.resumed_at().unwrap_or_else(|| {
                panic!("a run after a kill resumes\n{history}{}", killed.describe())
            });
            assert!(
                resumed_at >= furthest,
                "progress never goes back\n{history}"
            );
            furthest = resumed_at;
            assert!(
                killed.resumed_lines()[0].contains(&url),
                "it names the object it resumed from\n{}",
                killed.describe()
            );
            assert!(
                killed.stderr.contains("took over the lock")
                    && killed.stderr.contains("has exited"),
                "the killed run's lock is taken over at once\n{}",
                killed.describe()
            );
        }
    }
    assert!(kills >= 2, "at least two runs were killed\n{history}");

    let last = run_ok(&mut command("sum", bucket, &args));
    assert_eq!(last.result(), EXPECTED, "{history}{}", last.describe());
    assert!(
        last.resumed_at().is_some_and(|at| at >= furthest),
        "{history}{}",
        last.describe()
    );

    // The finished run removed its checkpoints and its lock: a new run
    // starts from the beginning, and is not locked out.
    let again = run_ok(&mut command("sum", bucket, &["600"]));
    assert_eq!(again.result(), EXPECTED, "{}", again.describe());
    assert!(
        again.resumed_lines().is_empty() && again.warnings().is_empty(),
        "{}",
        again.describe()
    );
}
