//! The harness of the end-to-end tests: finds the example binaries, runs them
//! against a private checkpoint directory, kills them with SIGKILL, and reads
//! what they printed and what they left on disk.

#![allow(
    dead_code,
    reason = "every test file is its own crate and uses only part of the harness"
)]

use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long any run may take before the test gives up on it: far above what
/// the tests need, so that only a hang reaches it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The prefix of every warning the library prints.
pub const WARNING: &str = "checkpoint: warning: ";

/// The prefix of the line printed when a run resumes.
pub const RESUMED: &str = "checkpoint: resumed ";

/// The built example `name`, next to this test binary:
/// `target/debug/deps/<test>-<hash>` → `target/debug/examples/<name>`.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps/");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "example binary {} is missing; run the tests with `cargo test --workspace` \
         (cargo builds the examples before the tests)",
        path.display()
    );
    path
}

/// A command running example `name` with `args`, saving into `dir`, with
/// none of the operator overrides inherited from the environment, and with
/// its output piped.
pub fn command(name: &str, dir: &Path, args: &[&str]) -> Command {
    command_at(&example(name), dir, args)
}

/// Like [`command`], for any program (a crate's binary, say).
pub fn command_at(program: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .env("CHECKPOINT_DIR", dir)
        .env_remove("CHECKPOINT_EVERY")
        .env_remove("CHECKPOINT_FRESH")
        .env_remove("CHECKPOINT_DISABLE")
        .env_remove("CHECKPOINT_QUIET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A fresh, private temporary directory.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("checkpoint-e2e-")
        .tempdir()
        .expect("create a temporary directory")
}

/// Runs `command` to completion (at most [`RUN_TIMEOUT`]).
pub fn run(command: &mut Command) -> Finished {
    Running::spawn(command).wait(RUN_TIMEOUT)
}

/// Runs `command` to completion and checks that it succeeded.
pub fn run_ok(command: &mut Command) -> Finished {
    let finished = run(command);
    assert!(
        finished.status.success(),
        "{:?} failed\n{}",
        command,
        finished.describe()
    );
    finished
}

/// A spawned example whose output is being collected.
pub struct Running {
    child: Child,
    description: String,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    /// What the child has printed on stderr so far.
    stderr_so_far: Arc<Mutex<String>>,
}

impl Running {
    /// Spawns `command`; its stdout and stderr must be piped.
    pub fn spawn(command: &mut Command) -> Running {
        let description = format!("{command:?}");
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {description}: {e}"));
        // Read both pipes on threads so that a chatty child never blocks on
        // a full pipe while the test waits or polls.
        let stderr_so_far = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().map(|pipe| read_on_thread(pipe, None));
        let stderr = child
            .stderr
            .take()
            .map(|pipe| read_on_thread(pipe, Some(Arc::clone(&stderr_so_far))));
        Running {
            child,
            description,
            stdout,
            stderr,
            stderr_so_far,
        }
    }

    /// What the child has printed on stderr so far (whole lines and a
    /// possibly partial last one).
    pub fn stderr_so_far(&self) -> String {
        self.stderr_so_far
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (named `name` in the failure message) to the process.
    pub fn signal(&self, signal: i32, name: &str) {
        let pid = i32::try_from(self.pid()).expect("a pid fits in i32");
        // SAFETY: kill(2) on our own child's pid.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({name})");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Polls `condition` until it holds. Panics, with the child's output, if
    /// the child exits first or `timeout` passes.
    pub fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut() -> bool,
    ) {
        let start = Instant::now();
        loop {
            if condition() {
                return;
            }
            if !self.is_running() {
                let finished = self.collect();
                panic!(
                    "{} exited before {what}\n{}",
                    self.description,
                    finished.describe()
                );
            }
            if start.elapsed() > timeout {
                let finished = self.kill_and_collect();
                panic!(
                    "{what} did not happen within {timeout:?} of {}\n{}",
                    self.description,
                    finished.describe()
                );
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits until the child has printed `needle` on stderr; panics as
    /// [`Running::wait_until`] does.
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        self.wait_for_stderr_times(needle, 1, timeout);
    }

    /// Waits until the child has printed `needle` on stderr `times` times.
    pub fn wait_for_stderr_times(&mut self, needle: &str, times: usize, timeout: Duration) {
        let so_far = Arc::clone(&self.stderr_so_far);
        self.wait_until(&format!("{needle:?} {times}x on stderr"), timeout, || {
            so_far
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .matches(needle)
                .count()
                >= times
        });
    }

    /// Waits until the child catches `signal`: a checkpointed run has
    /// opened and installed its handler, so the signal is the run's to
    /// honour from now on (Linux: the `SigCgt` mask in `/proc/<pid>/status`).
    pub fn wait_for_handler(&mut self, signal: i32, timeout: Duration) {
        let status = format!("/proc/{}/status", self.pid());
        self.wait_until(&format!("a handler for signal {signal}"), timeout, || {
            std::fs::read_to_string(&status)
                .ok()
                .and_then(|text| {
                    let mask = text.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
                    u64::from_str_radix(mask.trim(), 16).ok()
                })
                .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
        });
    }

    /// Kills the process with SIGKILL and waits for it. If it had finished
    /// by itself, the result says so (its status is not a SIGKILL).
    pub fn kill(mut self) -> Finished {
        self.kill_and_collect()
    }

    /// Waits for the process to exit by itself; kills it and panics if it
    /// takes longer than `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Finished {
        let start = Instant::now();
        while self.is_running() {
            if start.elapsed() > timeout {
                let finished = self.kill_and_collect();
                panic!(
                    "{} did not finish within {timeout:?}\n{}",
                    self.description,
                    finished.describe()
                );
            }
            thread::sleep(Duration::from_millis(2));
        }
        self.collect()
    }

    fn kill_and_collect(&mut self) -> Finished {
        // `Child::kill` sends SIGKILL on Unix; it is a no-op for a process
        // that has already exited (but not been reaped).
        self.child
            .kill()
            .unwrap_or_else(|e| panic!("SIGKILL {}: {e}", self.description));
        self.collect()
    }

    fn collect(&mut self) -> Finished {
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.description));
        let join = |reader: Option<JoinHandle<String>>| {
            reader
                .map(|r| r.join().expect("the pipe reader does not panic"))
                .unwrap_or_default()
        };
        Finished {
            description: self.description.clone(),
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that panics must not leave its child running.
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads `pipe` to its end on a thread, keeping what arrived so far in
/// `so_far` if given; the thread returns all of it.
fn read_on_thread(
    mut pipe: impl Read + Send + 'static,
    so_far: Option<Arc<Mutex<String>>>,
) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = pipe.read(&mut chunk) {
            bytes.extend_from_slice(&chunk[..n]);
            if let Some(so_far) = &so_far {
                *so_far
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                    String::from_utf8_lossy(&bytes).into_owned();
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// An example that has exited, and what it printed.
#[derive(Debug)]
pub struct Finished {
    pub description: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Whether SIGKILL ended it.
    pub fn was_killed(&self) -> bool {
        self.status.signal() == Some(libc::SIGKILL)
    }

    /// The last line of stdout: the examples' result.
    pub fn result(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }

    /// The `checkpoint: resumed ...` lines of stderr.
    pub fn resumed_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with(RESUMED))
            .collect()
    }

    /// The iteration the run resumed at, from its one `resumed` line.
    /// Panics if there are several `resumed` lines or one cannot be parsed.
    pub fn resumed_at(&self) -> Option<u64> {
        let lines = self.resumed_lines();
        assert!(
            lines.len() <= 1,
            "a run prints at most one `resumed` line\n{}",
            self.describe()
        );
        let line = lines.first()?;
        let iteration = line
            .split_once(" at iteration ")
            .and_then(|(_, rest)| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .unwrap_or_else(|| {
                panic!(
                    "no `at iteration K` in the resumed line {line:?}\n{}",
                    self.describe()
                )
            });
        Some(iteration)
    }

    /// The `checkpoint: warning: ...` lines of stderr.
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with(WARNING))
            .collect()
    }

    /// Everything about the run, for assertion messages.
    pub fn describe(&self) -> String {
        const KEEP: usize = 2000;
        // The factorial's result is thousands of digits: show only its end.
        let stdout = match self.stdout.char_indices().rev().nth(KEEP) {
            Some((cut, _)) => format!("...{}", &self.stdout[cut..]),
            None => self.stdout.clone(),
        };
        format!(
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}--------------",
            self.description, self.status, stdout, self.stderr
        )
    }
}

/// One checkpoint generation on disk: `{stem}.g{N:08}.ckpt`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Generation {
    pub number: u64,
    pub path: PathBuf,
}

/// The checkpoint generations in `dir`, oldest first.
pub fn generations(dir: &Path) -> Vec<Generation> {
    let mut found: Vec<Generation> = file_names(dir)
        .into_iter()
        .filter_map(|name| {
            let (_, rest) = name.rsplit_once(".g")?;
            let digits = rest.strip_suffix(".ckpt")?;
            if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(Generation {
                number: digits.parse().ok()?,
                path: dir.join(&name),
            })
        })
        .collect();
    found.sort();
    found
}

/// The `.lock` files in `dir`, sorted; none if `dir` does not exist.
pub fn lock_files(dir: &Path) -> Vec<PathBuf> {
    file_names(dir)
        .into_iter()
        .filter(|name| name.ends_with(".lock"))
        .map(|name| dir.join(name))
        .collect()
}

/// The names of the entries in `dir`, sorted; none if `dir` does not exist.
pub fn file_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| {
            e.expect("list the checkpoint directory")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Checks what a finished run leaves behind: its lock file, and no
/// checkpoint or temporary file.
pub fn assert_only_locks_left(dir: &Path, context: &str) {
    let names = file_names(dir);
    let left: Vec<&String> = names.iter().filter(|n| n.ends_with(".ckpt")).collect();
    assert!(
        left.is_empty(),
        "a finished run removes its checkpoint files, yet {left:?} remain in {}\n{context}",
        dir.display()
    );
    let others: Vec<&String> = names
        .iter()
        .filter(|n| !n.ends_with(".lock") && !n.contains(".ckpt.stale"))
        .collect();
    assert!(
        others.is_empty(),
        "a finished run leaves only its lock (and files moved aside) behind, yet {others:?} remain in {}\n{context}",
        dir.display()
    );
}

/// A tiny xorshift64* generator: random kill times, reproducible from the
/// seed it prints (set `CHECKPOINT_TEST_SEED` to replay one).
pub struct Rng {
    seed: u64,
    state: u64,
}

impl Rng {
    /// Seeded from `CHECKPOINT_TEST_SEED` if set, else from the clock.
    pub fn seeded() -> Rng {
        let seed = std::env::var("CHECKPOINT_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                nanos ^ u64::from(std::process::id()).rotate_left(32)
            });
        // Printed now so that even a panic far from any message shows it.
        eprintln!("random seed: {seed} (replay with CHECKPOINT_TEST_SEED={seed})");
        Rng {
            seed,
            state: seed | 1,
        }
    }

    /// A generator replaying `seed` (for one of several threads, say).
    pub fn from_seed(seed: u64) -> Rng {
        Rng {
            seed,
            state: seed | 1,
        }
    }

    /// The seed, for assertion messages.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }
}
