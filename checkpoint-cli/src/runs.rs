//! What the commands know about a checkpoint directory: each run's files,
//! each file read and verified (or the reason it is unusable), and the
//! run's summary as JSON.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use checkpoint_core::Error;
use checkpoint_core::inspect::{self, FileInfo, RunFiles};
use serde_json::{Value, json};

use crate::text;

/// One generation file of a run, read and verified.
pub struct GenerationFile {
    /// The generation number from the file name.
    pub number: u64,
    /// The file.
    pub path: PathBuf,
    /// Its length, if it could be inspected.
    pub len: Option<u64>,
    /// Its modification time in ms since the Unix epoch.
    pub modified_ms: Option<u64>,
    /// Its header, or why it cannot be used.
    pub verdict: Result<FileInfo, String>,
}

/// A commit record of a multi-rank run, read and checked whole.
pub struct CommitFile {
    /// The generation it commits.
    pub number: u64,
    /// The record.
    pub path: PathBuf,
    /// Every rank's file, checked as a resume checks it (rank order), or
    /// why this commit cannot be restored.
    pub verdict: Result<Vec<FileInfo>, String>,
}

/// A run as found in the directory, every generation read.
pub struct Run {
    /// Its files, by name.
    pub files: RunFiles,
    /// Its generations, newest first (a single-process run).
    pub generations: Vec<GenerationFile>,
    /// Its commits, newest first (a multi-rank run).
    pub commits: Vec<CommitFile>,
}

impl Run {
    /// Reads and verifies every generation of `files`. A generation gone
    /// by the time it is read was pruned by its live run after a newer save:
    /// it is left out rather than reported as unreadable.
    pub fn read(files: RunFiles) -> Run {
        let generations = files
            .generations
            .iter()
            .filter_map(|generation| {
                let metadata = fs::metadata(&generation.path).ok();
                let verdict = verify(&generation.path, Some(&files.stem));
                if verdict.is_err() && fs::symlink_metadata(&generation.path).is_err() {
                    return None;
                }
                Some(GenerationFile {
                    number: generation.number,
                    path: generation.path.clone(),
                    len: metadata.as_ref().map(fs::Metadata::len),
                    modified_ms: metadata.and_then(|m| m.modified().ok()).map(unix_ms),
                    verdict,
                })
            })
            .collect();
        let commits = files
            .commits
            .iter()
            .map(|record| CommitFile {
                number: record.number,
                path: record.path.clone(),
                verdict: check_commit(&record.path, &files.stem),
            })
            .collect();
        Run {
            files,
            generations,
            commits,
        }
    }

    /// The newest generation that passed verification; of a multi-rank
    /// run, rank 0's file of the newest commit that is whole.
    pub fn newest_good(&self) -> Option<&FileInfo> {
        self.commits
            .iter()
            .find_map(|commit| commit.verdict.as_ref().ok()?.first())
            .or_else(|| {
                self.generations
                    .iter()
                    .find_map(|g| g.verdict.as_ref().ok())
            })
    }

    /// How many saves it has on disk: generations, or commits of a
    /// multi-rank run.
    pub fn saves(&self) -> usize {
        if self.files.is_multi_rank() {
            self.commits.len()
        } else {
            self.generations.len()
        }
    }

    /// The ranks of a multi-rank run, as its files show them.
    pub fn rank_count(&self) -> usize {
        self.files.ranks.len()
    }

    /// The generations that failed verification.
    pub fn bad(&self) -> impl Iterator<Item = (&GenerationFile, &str)> {
        self.generations
            .iter()
            .filter_map(|g| g.verdict.as_ref().err().map(|why| (g, why.as_str())))
    }

    /// Bytes on disk in its generation files (every rank's).
    pub fn size(&self) -> u64 {
        let ranks: u64 = self
            .files
            .ranks
            .iter()
            .flat_map(|rank| &rank.generations)
            .filter_map(|g| fs::metadata(&g.path).ok().map(|m| m.len()))
            .sum();
        ranks + self.generations.iter().filter_map(|g| g.len).sum::<u64>()
    }

    /// When the run last wrote a file, in ms since the Unix epoch: the
    /// newest save time a good header records, else the newest modification
    /// time among its generations, else its lock file's (a run interrupted
    /// before its first save leaves only that).
    pub fn last_active_ms(&self) -> Option<u64> {
        let saved = self
            .generations
            .iter()
            .filter_map(|g| match &g.verdict {
                Ok(info) => Some(info.header.saved_unix_ms),
                Err(_) => g.modified_ms,
            })
            .max();
        saved.or_else(|| self.files.lock_file.as_deref().and_then(modified_ms))
    }

    /// A short note on what is wrong or unusual, empty when nothing is.
    pub fn note(&self) -> String {
        let mut notes = Vec::new();
        if self.files.is_multi_rank() {
            notes.push(format!("{} ranks", self.rank_count()));
            let broken = self.commits.iter().filter(|c| c.verdict.is_err()).count();
            match (broken, self.commits.len()) {
                (_, 0) => notes.push("no commit".to_owned()),
                (0, _) => {}
                (broken, total) => notes.push(format!("{broken} of {total} commits not whole")),
            }
        }
        let bad = self.bad().count();
        match (bad, self.generations.len()) {
            (0, 0) if self.files.is_multi_rank() => {}
            (0, 0) => notes.push("no checkpoint".to_owned()),
            (0, _) => {}
            (bad, total) if bad == total => notes.push(format!("all {total} damaged")),
            (bad, total) => notes.push(format!("{bad} of {total} damaged")),
        }
        if !self.files.moved_aside.is_empty() {
            notes.push(format!("{} moved aside", self.files.moved_aside.len()));
        }
        notes.join("; ")
    }

    /// The run as JSON, for `list --json`.
    pub fn to_json(&self, now_ms: u64) -> Value {
        let newest = self.newest_good();
        let header = newest.map(|info| &info.header);
        let last = self.last_active_ms();
        json!({
            "run": self.files.stem,
            "crate": header.map(|h| &h.identity.crate_name),
            "module": header.map(|h| &h.identity.module_path),
            "function": header.map(|h| &h.identity.function),
            "name": header.map(|h| &h.identity.name),
            "key_fingerprint": header.map(|h| text::hex(h.identity.key_fingerprint)),
            "schema_fingerprint": header.map(|h| text::hex(h.schema_fingerprint)),
            "code_fingerprint": header.map(|h| text::hex(h.code_fingerprint)),
            "position": header.map(|h| positions_json(&h.position)),
            "save_count": header.map(|h| h.save_count),
            "newest_file": newest.map(|info| &info.path),
            "saved_unix_ms": header.map(|h| h.saved_unix_ms),
            "last_active_unix_ms": last,
            "age_seconds": last.map(|ms| text::age(ms, now_ms).as_secs()),
            "generations": self.generations.iter().map(|g| json!({
                "number": g.number,
                "path": g.path,
                "size_bytes": g.len,
                "ok": g.verdict.is_ok(),
                "error": g.verdict.as_ref().err(),
            })).collect::<Vec<_>>(),
            "size_bytes": self.size(),
            "moved_aside": self.files.moved_aside,
            "lock_file": self.files.lock_file,
            "ranks": self.rank_count(),
            "commits": self.commits.iter().map(|c| json!({
                "number": c.number,
                "path": c.path,
                "ok": c.verdict.is_ok(),
                "error": c.verdict.as_ref().err(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Reads and verifies one checkpoint file; on failure, the reason in words.
/// With `stem`, also checks that the header's identity is that run's: a file
/// copied or renamed under another run's name would be refused on resume.
pub fn verify(path: &Path, stem: Option<&str>) -> Result<FileInfo, String> {
    match inspect::read_header(path) {
        Ok(info) => match stem {
            Some(stem) if info.run != stem => Err(format!(
                "its header belongs to run {} ({}), not to {stem}, whose name it has",
                info.run,
                text::run_name(&info.header.identity)
            )),
            _ => Ok(info),
        },
        Err(Error::Corrupt { reason, .. }) => Err(reason.to_string()),
        Err(other) => Err(other.to_string()),
    }
}

/// Checks a commit record of run `stem` whole: the record itself, then
/// every rank's file against it, each of them this run's. The first
/// problem, naming the rank, is the reason it cannot be restored.
pub fn check_commit(path: &Path, stem: &str) -> Result<Vec<FileInfo>, String> {
    let commit = inspect::read_commit(path).map_err(|err| err.to_string())?;
    inspect::check_commit(&commit)
        .into_iter()
        .enumerate()
        .map(|(rank, checked)| {
            let info = match checked {
                Ok(info) => info,
                Err(Error::Corrupt { path, reason }) => {
                    return Err(format!("rank {rank}: {}: {reason}", path.display()));
                }
                Err(err) => return Err(format!("rank {rank}: {err}")),
            };
            if info.run != stem {
                return Err(format!(
                    "rank {rank}: {} belongs to run {}, not {stem}",
                    info.path.display(),
                    info.run
                ));
            }
            Ok(info)
        })
        .collect()
}

/// Loop positions as JSON objects.
pub fn positions_json(position: &[inspect::LoopPosition]) -> Value {
    position
        .iter()
        .map(|p| json!({"loop_id": p.loop_id, "index": p.index, "len": p.len}))
        .collect()
}

/// A file's modification time in ms since the Unix epoch.
pub fn modified_ms(path: &Path) -> Option<u64> {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(unix_ms)
}

/// Now, in ms since the Unix epoch.
pub fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
