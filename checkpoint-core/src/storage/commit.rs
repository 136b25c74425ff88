//! Coordinated checkpoints of a multi-rank job: a generation counts only
//! once it is whole.
//!
//! Each rank writes its own generation file with the save protocol of a
//! single run (`{stem}.r{RANK:05}.g{N:08}.ckpt`: temp file, fsync, rename,
//! directory fsync). Then rank 0 gathers what every rank wrote (its size
//! and CRC-32), and only if every rank's file is durable does it write the
//! commit record `{stem}.g{N:08}.commit`, atomically by the same protocol
//! (in a bucket: a conditional PUT). The record names the rank count and
//! each rank's file, size and checksum; it is plain text, so `cat` shows
//! it. Rank files and records older than the oldest commit kept are pruned
//! only after the new record is durable.
//!
//! So a crash at any point leaves the last commit restorable on every
//! rank: before the record exists, the new rank files are ignored (and
//! pruned later); after it, the previous generations are still there until
//! the pruning that follows. A restore ([`next_record`]) takes the newest
//! record, every rank checks its own file against it, and all of them fall
//! back together when one cannot use its file.

use crate::bytes::format;
use crate::error::Result;
use crate::report;
use crate::storage::backend::Store;
use crate::storage::group::Group;
use crate::storage::store::{generation_name, numbered_name};

/// The extension of a commit record.
pub(crate) const EXTENSION: &str = ".commit";

/// The first line of a commit record, with its version.
const MAGIC: &str = "checkpoint commit 1";

/// A commit record is a few lines per rank: anything larger is not one.
pub(crate) const MAX_RECORD_LEN: usize = 64 << 20;

/// The stem of rank `rank`'s generation files in run `stem`.
pub(crate) fn rank_stem(stem: &str, rank: usize) -> String {
    format!("{stem}.r{rank:05}")
}

/// The run stem and rank of a rank's stem (`{stem}.r{RANK:05}`).
pub(crate) fn split_rank_stem(stem: &str) -> Option<(&str, usize)> {
    let (run, digits) = stem.rsplit_once(".r")?;
    let rank: usize = digits.parse().ok()?;
    (!run.is_empty() && format!("{rank:05}") == digits).then_some((run, rank))
}

/// The name of the commit record of generation `number` of run `stem`.
pub(crate) fn record_name(stem: &str, number: u64) -> String {
    numbered_name(stem, number, EXTENSION)
}

/// The commit of one generation of a multi-rank run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// The run's stem.
    pub run: String,
    /// The generation number.
    pub number: u64,
    /// Each rank's file, by rank.
    pub ranks: Vec<RankFile>,
}

/// One rank's file in a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RankFile {
    /// The file (or object) name, in the run's directory.
    pub name: String,
    pub len: u64,
    /// CRC-32 of the whole file.
    pub crc: u32,
}

impl Record {
    /// The record as text, ending with a CRC-32 of the lines above it:
    ///
    /// ```text
    /// checkpoint commit 1
    /// run heat-0123456789abcdef
    /// generation 12
    /// ranks 2
    /// rank 0 heat-0123456789abcdef.r00000.g00000012.ckpt 65536 1a2b3c4d
    /// rank 1 heat-0123456789abcdef.r00001.g00000012.ckpt 65536 5e6f7a8b
    /// crc 0badc0de
    /// ```
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut text = format!(
            "{MAGIC}\nrun {}\ngeneration {}\nranks {}\n",
            self.run,
            self.number,
            self.ranks.len()
        );
        for (rank, file) in self.ranks.iter().enumerate() {
            text.push_str(&format!(
                "rank {rank} {} {} {:08x}\n",
                file.name, file.len, file.crc
            ));
        }
        let crc = crc32fast::hash(text.as_bytes());
        text.push_str(&format!("crc {crc:08x}\n"));
        text.into_bytes()
    }

    /// Reads a record written by [`Record::encode`]; the error says what
    /// is wrong with it.
    pub(crate) fn decode(bytes: &[u8]) -> std::result::Result<Record, String> {
        if bytes.len() > MAX_RECORD_LEN {
            return Err(format!(
                "it is {} bytes long, too long for a commit record",
                bytes.len()
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "it is not text".to_owned())?;
        let body_end = text
            .trim_end_matches('\n')
            .rfind('\n')
            .map(|at| at + 1)
            .ok_or("it is truncated")?;
        let (body, last) = text.split_at(body_end);
        // Exactly as written: one spelling per record.
        let crc = last
            .strip_prefix("crc ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .filter(|crc| last == format!("crc {crc:08x}\n"))
            .ok_or("it is truncated: its last line is not its checksum")?;
        if crc32fast::hash(body.as_bytes()) != crc {
            return Err("its checksum does not match: it is damaged".to_owned());
        }
        let mut lines = body.lines();
        if lines.next() != Some(MAGIC) {
            return Err(format!("it does not start with \"{MAGIC}\""));
        }
        let mut field = |name: &str| {
            lines
                .next()
                .and_then(|line| line.strip_prefix(name))
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or_else(|| format!("its `{name}` line is missing"))
        };
        let run = field("run")?.to_owned();
        let number = field("generation")?
            .parse()
            .map_err(|_| "its generation is not a number".to_owned())?;
        let count: usize = field("ranks")?
            .parse()
            .map_err(|_| "its rank count is not a number".to_owned())?;
        let mut ranks = Vec::new();
        for (rank, line) in lines.enumerate() {
            let parts: Vec<&str> = line.split(' ').collect();
            let parsed = match parts.as_slice() {
                ["rank", index, name, len, crc] if index.parse() == Ok(rank) => len
                    .parse()
                    .ok()
                    .zip(u32::from_str_radix(crc, 16).ok())
                    .map(|(len, crc)| RankFile {
                        name: (*name).to_owned(),
                        len,
                        crc,
                    }),
                _ => None,
            };
            ranks.push(parsed.ok_or_else(|| format!("its line for rank {rank} is malformed"))?);
        }
        if ranks.len() != count {
            return Err(format!("it says {count} ranks but lists {}", ranks.len()));
        }
        Ok(Record { run, number, ranks })
    }
}

/// What one rank wrote of a generation: its size and CRC-32, or `None` if
/// its write failed.
pub(crate) type RankWrite = Option<(u64, u32)>;

/// How the commit of a generation went, the same on every rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The record is durable; rank files and records below `oldest_kept`
    /// are no longer needed.
    Committed { oldest_kept: u64 },
    /// These ranks could not write their file (each said why).
    RanksFailed(Vec<usize>),
    /// Rank 0 could not write the record (it said why).
    RecordFailed,
}

/// A test's crash point in the commit protocol, from `CHECKPOINT_TEST_CRASH`
/// (`rank-written@N`, `before-commit@N`, `after-commit-record@N`: the
/// process aborts there at its `N`th save). Undocumented for users: the
/// multi-rank tests use it to crash between the rank writes and the
/// record, and between the record and what follows it.
fn crash_at(point: &str, attempt: u64) {
    let Ok(spec) = std::env::var("CHECKPOINT_TEST_CRASH") else {
        return;
    };
    let matches = spec
        .split_once('@')
        .is_some_and(|(at, n)| at == point && n.parse() == Ok(attempt));
    if matches {
        report::warn(format_args!(
            "CHECKPOINT_TEST_CRASH: aborting at {point} of save {attempt}"
        ));
        std::process::abort();
    }
}

/// Commits generation `number` once every rank has written its file (or
/// failed to): collective. Rank 0 writes the record into `records` and
/// prunes the records older than the newest `keep`; every rank learns the
/// outcome. `attempt` counts this process's saves (for the test crash
/// points).
pub(crate) fn commit(
    group: &Group,
    records: Option<&Store>,
    stem: &str,
    number: u64,
    written: RankWrite,
    keep: usize,
    attempt: u64,
) -> Outcome {
    if group.rank() + 1 == group.size() && written.is_some() {
        crash_at("rank-written", attempt);
    }
    let (len, crc) = written.unwrap_or((0, 0));
    let mine = [u64::from(written.is_some()), len, u64::from(crc)];
    let all = group.gather(&mine);
    let mut decided = Vec::new();
    if group.rank() == 0 {
        decided = encode_outcome(&decide(records, stem, number, &all, keep, attempt));
    }
    decode_outcome(&group.broadcast_words(&decided))
}

/// Rank 0's part of [`commit`]: the record, if every rank wrote its file.
fn decide(
    records: Option<&Store>,
    stem: &str,
    number: u64,
    all: &[u64],
    keep: usize,
    attempt: u64,
) -> Outcome {
    let failed: Vec<usize> = all
        .chunks(3)
        .enumerate()
        .filter(|(_, rank)| rank[0] == 0)
        .map(|(index, _)| index)
        .collect();
    if !failed.is_empty() {
        return Outcome::RanksFailed(failed);
    }
    crash_at("before-commit", attempt);
    let record = Record {
        run: stem.to_owned(),
        number,
        ranks: all
            .chunks(3)
            .enumerate()
            .map(|(rank, written)| RankFile {
                name: generation_name(&rank_stem(stem, rank), number),
                len: written[1],
                crc: u32::try_from(written[2]).unwrap_or(0),
            })
            .collect(),
    };
    let Some(records) = records else {
        return Outcome::RecordFailed;
    };
    if let Err(err) = records.write_generation(number, &record.encode()) {
        report::warn(format_args!(
            "{err}; generation {number} is not committed, and a rerun resumes from the previous commit"
        ));
        return Outcome::RecordFailed;
    }
    crash_at("after-commit-record", attempt);
    let oldest_kept = match records.list_generations() {
        Ok(listed) => listed
            .iter()
            .take(keep.max(1))
            .map(|g| g.number)
            .min()
            .unwrap_or(number),
        Err(err) => {
            report::warn(format_args!("{err}"));
            number
        }
    };
    if let Err(err) = records.prune_below(oldest_kept) {
        report::warn(format_args!("{err}"));
    }
    Outcome::Committed { oldest_kept }
}

fn encode_outcome(outcome: &Outcome) -> Vec<u64> {
    match outcome {
        Outcome::Committed { oldest_kept } => vec![0, *oldest_kept],
        Outcome::RanksFailed(ranks) => std::iter::once(1)
            .chain(ranks.iter().map(|&rank| rank as u64))
            .collect(),
        Outcome::RecordFailed => vec![2],
    }
}

fn decode_outcome(words: &[u64]) -> Outcome {
    match words.split_first() {
        Some((0, [oldest_kept])) => Outcome::Committed {
            oldest_kept: *oldest_kept,
        },
        Some((1, ranks)) => Outcome::RanksFailed(
            ranks
                .iter()
                .map(|&rank| usize::try_from(rank).unwrap_or(usize::MAX))
                .collect(),
        ),
        _ => Outcome::RecordFailed,
    }
}

/// The newest commit record numbered below `below`, from rank 0 to every
/// rank (collective). Rank 0 moves a damaged record aside, with a warning
/// naming it, and takes the next. `None`: no commit left.
pub(crate) fn next_record(
    group: &Group,
    records: Option<&Store>,
    below: u64,
) -> Result<Option<Record>> {
    let mut found = Vec::new();
    let mut failure = None;
    if group.rank() == 0
        && let Some(records) = records
    {
        match newest_record(records, below) {
            Ok(Some(record)) => found = record.encode(),
            Ok(None) => {}
            Err(err) => failure = Some(err),
        }
    }
    // An empty message: none left, or rank 0 could not list them (it
    // returns the error; the others start fresh and are stopped by the
    // collective open check of the next step).
    group.broadcast(&mut found);
    if let Some(err) = failure {
        return Err(err);
    }
    if found.is_empty() {
        return Ok(None);
    }
    Ok(Record::decode(&found).ok())
}

fn newest_record(records: &Store, below: u64) -> Result<Option<Record>> {
    for listed in records.list_generations()? {
        if listed.number >= below {
            continue;
        }
        let bytes = match records.read(&listed.path) {
            Ok(bytes) => bytes,
            Err(err) => {
                report::warn(format_args!("{err}; trying the previous commit"));
                continue;
            }
        };
        match Record::decode(&bytes) {
            Ok(record) if record.number == listed.number => return Ok(Some(record)),
            Ok(record) => report::warn(format_args!(
                "commit record {} names generation {}, not its own; trying the previous commit",
                listed.path.display(),
                record.number
            )),
            Err(reason) => {
                let aside = records.move_aside(&listed.path, "unusable")?;
                report::warn(format_args!(
                    "commit record {} is unusable: {reason}; moved aside to {}; trying the previous commit",
                    listed.path.display(),
                    aside.display()
                ));
            }
        }
    }
    Ok(None)
}

/// Whether `bytes` are the file `expected` names: the size and CRC-32 the
/// commit record has for it. The CRC-32 is the file's own (its last four
/// bytes), which decoding the file then checks against every byte before
/// it: so the file is the one committed, without a second pass over it.
pub(crate) fn check_rank_file(
    bytes: &[u8],
    expected: &RankFile,
) -> std::result::Result<(), String> {
    if bytes.len() as u64 != expected.len {
        return Err(format!(
            "it is {} bytes long, but its commit says {}",
            bytes.len(),
            expected.len
        ));
    }
    if format::file_crc(bytes) != expected.crc {
        return Err("its checksum is not the one its commit recorded".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record {
            run: "heat-0123456789abcdef".to_owned(),
            number: 12,
            ranks: (0..3)
                .map(|rank| RankFile {
                    name: generation_name(&rank_stem("heat-0123456789abcdef", rank), 12),
                    len: 1000 + rank as u64,
                    crc: 0xdead_0000 + rank as u32,
                })
                .collect(),
        }
    }

    #[test]
    fn a_record_reads_back_what_it_wrote() {
        let record = sample();
        let bytes = record.encode();
        let text = String::from_utf8(bytes.clone()).expect("text");
        assert!(
            text.contains("rank 2 heat-0123456789abcdef.r00002.g00000012.ckpt 1002 dead0002\n"),
            "{text}"
        );
        assert_eq!(Record::decode(&bytes), Ok(record));
    }

    #[test]
    fn every_truncation_and_bit_flip_of_a_record_is_refused() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(Record::decode(&bytes[..len]).is_err(), "truncated to {len}");
        }
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[at] ^= 1 << bit;
                assert!(
                    Record::decode(&flipped).is_err(),
                    "bit {bit} of byte {at} flipped"
                );
            }
        }
    }

    #[test]
    fn outcomes_cross_the_wire_unchanged() {
        for outcome in [
            Outcome::Committed { oldest_kept: 7 },
            Outcome::RanksFailed(vec![1, 3]),
            Outcome::RecordFailed,
        ] {
            assert_eq!(decode_outcome(&encode_outcome(&outcome)), outcome);
        }
    }

    #[test]
    fn a_rank_file_must_match_its_commit() {
        // The file's own CRC is its last four bytes (decoding checks the
        // rest against it).
        let bytes = b"a rank's checkpoint, then its CRC".to_vec();
        let expected = RankFile {
            name: "x".to_owned(),
            len: bytes.len() as u64,
            crc: format::file_crc(&bytes),
        };
        assert_eq!(check_rank_file(&bytes, &expected), Ok(()));
        let mut damaged = bytes.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 4;
        assert!(
            check_rank_file(&damaged, &expected)
                .unwrap_err()
                .contains("checksum")
        );
        assert!(
            check_rank_file(&bytes[1..], &expected)
                .unwrap_err()
                .contains("bytes long")
        );
    }
}
