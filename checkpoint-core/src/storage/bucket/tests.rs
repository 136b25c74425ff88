//! Tests against a real S3-compatible server. They run when
//! `CHECKPOINT_TEST_S3_URL` names a bucket (`s3://bucket`) and the `AWS_*`
//! variables reach its server (`.ci/run` starts one on loopback and sets
//! them); otherwise each prints `SKIPPED` and passes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::report::capture;
use crate::{Checkpoint, Error};

/// A fresh prefix in the test bucket, or `None` (and a line saying why)
/// when no server is configured.
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
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Some(format!(
        "{}/unit-{}-{nanos}-{test}",
        base.trim_end_matches('/'),
        std::process::id()
    ))
}

fn connect(url: &str) -> Arc<Bucket> {
    Arc::new(Bucket::connect(url).expect("connect"))
}

fn rules(ttl_secs: u64) -> LockRules {
    LockRules {
        wait: false,
        ttl: Duration::from_secs(ttl_secs),
        break_lock: false,
    }
}

fn numbers(store: &BucketStore) -> Vec<u64> {
    store
        .list_generations()
        .expect("list")
        .iter()
        .map(|g| g.number)
        .collect()
}

fn put_raw(bucket: &Bucket, name: &str, bytes: &'static [u8]) {
    bucket
        .block_on(
            bucket
                .store
                .put(&bucket.object(name), PutPayload::from_static(bytes)),
        )
        .expect("put");
}

#[test]
fn write_list_read_prune_move_aside_remove() {
    let Some(url) = test_url("store") else { return };
    let bucket = connect(&url);
    let store = BucketStore::new(Arc::clone(&bucket), "run").expect("store");
    assert!(numbers(&store).is_empty());
    // Another run whose stem extends ours, and stray objects, are not ours.
    put_raw(&bucket, "run.g1.g00000007.ckpt", b"other run");
    put_raw(&bucket, "run.g7.ckpt", b"not canonical");
    put_raw(&bucket, "run.lock", b"pid=1");

    for n in [1, 2, 3, 10] {
        let path = store
            .write_generation(n, format!("gen {n}").as_bytes())
            .expect("write");
        assert_eq!(
            path,
            PathBuf::from(format!("{url}/run.g{n:08}.ckpt")),
            "the URL of the object"
        );
        assert_eq!(
            store.read(&path).expect("read"),
            format!("gen {n}").as_bytes()
        );
    }
    assert_eq!(numbers(&store), [10, 3, 2, 1], "newest first");

    // Overwriting a generation replaces it whole.
    let path = store.write_generation(3, b"gen 3 again").expect("rewrite");
    assert_eq!(store.read(&path).expect("read"), b"gen 3 again");

    store.prune(2).expect("prune");
    assert_eq!(numbers(&store), [10, 3]);

    let newest = store.list_generations().expect("list")[0].path.clone();
    let aside = store.move_aside(&newest, "test").expect("move aside");
    assert_eq!(
        aside,
        PathBuf::from(format!("{url}/run.g00000010.ckpt.stale"))
    );
    assert_eq!(store.read(&aside).expect("read aside"), b"gen 10");
    assert_eq!(numbers(&store), [3]);
    // A second file moved aside under the same name gets the next suffix.
    store.write_generation(10, b"gen 10 again").expect("write");
    let again = store.move_aside(&newest, "test").expect("move aside");
    assert_eq!(
        again,
        PathBuf::from(format!("{url}/run.g00000010.ckpt.stale.1"))
    );

    store.remove_all().expect("remove all");
    assert!(numbers(&store).is_empty());
    let left = bucket.list_names().expect("list");
    assert!(
        left.contains(&"run.g1.g00000007.ckpt".to_owned()),
        "{left:?}"
    );
    assert!(
        left.contains(&"run.g00000010.ckpt.stale".to_owned()),
        "{left:?}"
    );

    let missing = store.read(&newest).expect_err("read a deleted object");
    let message = missing.to_string();
    assert!(
        message.contains(&format!("{url}/run.g00000010.ckpt")),
        "{message}"
    );
}

#[test]
fn a_second_lock_is_refused_naming_the_holder_until_the_first_is_dropped() {
    let Some(url) = test_url("lock") else { return };
    let bucket = connect(&url);
    let first = BucketLock::acquire(Arc::clone(&bucket), "run", rules(60)).expect("first");
    let err = BucketLock::acquire(connect(&url), "run", rules(60)).expect_err("second");
    match &err {
        Error::BucketLocked {
            lock_url, holder, ..
        } => {
            assert_eq!(lock_url, &format!("{url}/run.lock"));
            let holder = holder.as_deref().expect("holder recorded");
            assert!(
                holder.starts_with(&format!("pid={} ", std::process::id())),
                "{holder}"
            );
        }
        other => panic!("expected BucketLocked, got {other}"),
    }
    let message = err.to_string();
    assert!(message.contains(&format!("{url}/run.lock")), "{message}");
    assert!(message.contains("CHECKPOINT_BREAK_LOCK"), "{message}");

    // Another run under the same prefix is independent.
    let other = BucketLock::acquire(connect(&url), "other", rules(60)).expect("other run");
    drop(first);
    assert!(
        !bucket
            .list_names()
            .expect("list")
            .contains(&"run.lock".to_owned()),
        "dropping the lock deletes its object"
    );
    let again = BucketLock::acquire(connect(&url), "run", rules(60)).expect("after drop");
    drop((again, other));
}

#[test]
fn a_lock_left_on_another_machine_is_taken_over_after_the_ttl_only() {
    let Some(url) = test_url("ttl") else { return };
    let bucket = connect(&url);
    put_raw(
        &bucket,
        "run.lock",
        b"pid=1 host=elsewhere boot=x started_unix_ms=0",
    );
    let err = BucketLock::acquire(Arc::clone(&bucket), "run", rules(2)).expect_err("fresh lock");
    assert!(matches!(err, Error::BucketLocked { .. }), "{err}");
    assert!(err.to_string().contains("pid 1 on host elsewhere"), "{err}");

    // Object stores keep modification times to the second.
    std::thread::sleep(Duration::from_millis(3200));
    let (lock, printed) =
        capture::lines(|| BucketLock::acquire(Arc::clone(&bucket), "run", rules(2)));
    let lock = lock.expect("a stale lock is taken over");
    let warning = printed.join("\n");
    assert!(warning.contains("took over the lock"), "{warning}");
    assert!(warning.contains("pid 1 on host elsewhere"), "{warning}");
    assert!(warning.contains("TTL"), "{warning}");
    drop(lock);
}

#[test]
fn a_lock_whose_process_exited_on_this_machine_is_taken_over_at_once() {
    let Some(url) = test_url("dead") else { return };
    let Some(boot) = boot_id_for_tests() else {
        eprintln!("SKIPPED: no boot id on this system");
        return;
    };
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    let bucket = connect(&url);
    let text = format!(
        "pid={pid} host={} boot={boot} started_unix_ms=0",
        crate::machine::hostname()
    );
    bucket
        .block_on(
            bucket
                .store
                .put(&bucket.object("run.lock"), PutPayload::from(text)),
        )
        .expect("put");
    let (lock, printed) =
        capture::lines(|| BucketLock::acquire(Arc::clone(&bucket), "run", rules(600)));
    lock.expect("a dead holder's lock is taken over");
    let warning = printed.join("\n");
    assert!(
        warning.contains(&format!("its process {pid} ran on this machine")),
        "{warning}"
    );
}

#[test]
fn the_heartbeat_keeps_a_live_lock_and_a_lost_lock_stops_writes() {
    let Some(url) = test_url("heartbeat") else {
        return;
    };
    let bucket = connect(&url);
    let store = BucketStore::new(Arc::clone(&bucket), "run").expect("store");
    let held = BucketLock::acquire(Arc::clone(&bucket), "run", rules(2)).expect("lock");
    // Longer than the TTL: only the heartbeat keeps the lock fresh.
    std::thread::sleep(Duration::from_millis(4500));
    let err = BucketLock::acquire(connect(&url), "run", rules(2)).expect_err("still held");
    assert!(matches!(err, Error::BucketLocked { .. }), "{err}");

    // An operator breaks the lock; the holder notices at its next beat.
    let breaker = LockRules {
        break_lock: true,
        ..rules(2)
    };
    let other = BucketLock::acquire(connect(&url), "run", breaker).expect("broken");
    std::thread::sleep(Duration::from_millis(1500));
    let refused = store.write_generation(1, b"late").expect_err("lost lock");
    assert!(refused.to_string().contains("lost its lock"), "{refused}");
    assert!(store.remove_all().is_ok(), "nothing to delete");
    drop(held);
    assert!(
        bucket
            .list_names()
            .expect("list")
            .contains(&"run.lock".to_owned()),
        "a lost lock is not deleted: it is the other process's"
    );
    drop(other);
}

#[test]
fn a_run_saves_resumes_and_finishes_through_the_public_api() {
    let Some(url) = test_url("api") else { return };
    let open = || {
        Checkpoint::builder("api")
            .dir(&url)
            .every_iters(1)
            .background(false)
            .open()
            .expect("open")
    };
    let mut checkpoint = open();
    assert!(checkpoint.is_active());
    assert_eq!(checkpoint.restore::<u64>().expect("restore"), None);
    for state in 1..=3u64 {
        checkpoint.save(&state).expect("save");
    }
    let saved = checkpoint.flush().expect("flush").expect("saved");
    assert!(
        saved.to_string_lossy().starts_with(&url),
        "{}",
        saved.display()
    );
    drop(checkpoint);

    let mut checkpoint = open();
    assert_eq!(checkpoint.restore::<u64>().expect("restore"), Some(3));
    checkpoint.save(&4u64).expect("save");
    checkpoint.finish().expect("finish");
    let left = connect(&url).list_names().expect("list");
    assert!(left.is_empty(), "a finished run leaves nothing: {left:?}");
}

#[test]
fn a_damaged_newest_object_is_moved_aside_and_the_previous_one_resumes() {
    let Some(url) = test_url("fallback") else {
        return;
    };
    let open = || {
        Checkpoint::builder("fallback")
            .dir(&url)
            .background(false)
            .keep_on_success(true)
            .open()
            .expect("open")
    };
    let mut checkpoint = open();
    checkpoint.save(&1u64).expect("save");
    let newest = {
        checkpoint.save(&2u64).expect("save");
        checkpoint.flush().expect("flush").expect("saved")
    };
    drop(checkpoint);
    let bucket = connect(&url);
    let name = newest.file_name().and_then(|n| n.to_str()).expect("name");
    put_raw(&bucket, name, b"garbage");

    let mut checkpoint = open();
    let (restored, printed) = capture::lines(|| checkpoint.restore::<u64>());
    assert_eq!(restored.expect("restore"), Some(1));
    let warning = printed.join("\n");
    assert!(
        warning.contains(&format!("{}.stale", newest.display())),
        "{warning}"
    );
}

fn boot_id_for_tests() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_owned())
}
