//! The checkpoint file format: one file's bytes in, one file's bytes out.
//! No I/O here; the storage layer decides where the bytes go.
//!
//! # Layout
//!
//! All integers are little endian.
//!
//! ```text
//! offset  size  field
//! 0       8     magic b"\x89CKPT\r\n\x1a"
//! 8       2     format version (u16) = 1
//! 10      2     flags (u16) = 0; any other value is refused on read
//! 12      4     header length H (u32), at most MAX_HEADER_LEN (64 KiB)
//! 16      H     header: postcard encoding of `Header`
//! 16+H    8     payload length P (u64)
//! 24+H    P     payload: postcard state bytes, zstd-compressed if header.codec says so
//! 24+H+P  4     CRC-32 (IEEE, as crc32fast computes it) of every byte before it
//! ```
//!
//! The total length is exactly `28 + H + P`.
//!
//! The magic is PNG-style: the high-bit first byte catches 7-bit transfers,
//! `\r\n` catches line-ending conversion, `\x1a` stops `type` on old
//! terminals, and a foreign file fails at the very first check.
//!
//! Reading verifies, in order: minimum length, magic, version, flags, header
//! length cap, exact total length, checksum; only then is the header decoded
//! (rejecting leftover bytes). Lengths read from the file are checked
//! against the bytes actually present or against [`Limits`] before anything
//! is allocated from them, and no input makes the decoder panic.

use std::io::Read;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::bytes::{compress, decode};
use crate::error::{CorruptReason, Error, Result};

/// The first 8 bytes of every checkpoint file.
pub const MAGIC: [u8; 8] = *b"\x89CKPT\r\n\x1a";

/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;

/// The largest header this build writes or reads, in bytes.
pub const MAX_HEADER_LEN: u32 = 64 * 1024;

/// Bytes in a file besides the header and the payload: magic, version,
/// flags, header length, payload length and checksum.
pub const FIXED_LEN: u64 = 8 + 2 + 2 + 4 + 8 + 4;

/// Offset of the header: magic, version, flags and header length come first.
const HEADER_OFFSET: usize = 16;

/// The most bytes reserved up front when decompressing; beyond it the
/// buffer grows only as data actually arrives, so a lying length in a
/// damaged (or hostile) file cannot reserve memory by itself.
const INITIAL_RESERVE: usize = 1 << 20;

/// Everything about a checkpoint except the state itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Which run the file belongs to.
    pub identity: Identity,
    /// Hash of the state's field names and type names (and the loop shape);
    /// a file with another schema is never decoded.
    pub schema_fingerprint: u64,
    /// Hash of the function's code.
    pub code_fingerprint: u64,
    /// Loop positions, outermost first (empty for the macro-free API).
    pub position: Vec<LoopPosition>,
    /// Saves so far in this run, 1 for the first.
    pub save_count: u64,
    /// Wall-clock time the run first started, in ms since the Unix epoch.
    pub started_unix_ms: u64,
    /// Wall-clock time of this save, in ms since the Unix epoch.
    pub saved_unix_ms: u64,
    /// Time spent computing in this run, summed over resumes, in ms.
    pub compute_ms: u64,
    /// How the payload is encoded.
    pub codec: Codec,
    /// Length of the postcard state bytes before compression.
    pub state_len: u64,
}

/// Who a checkpoint belongs to: one function, called with one set of
/// identifying arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The crate that defines the function.
    pub crate_name: String,
    /// The function's module path.
    pub module_path: String,
    /// The function's name.
    pub function: String,
    /// The user-chosen checkpoint name, or the function name.
    pub name: String,
    /// Hash of the identifying arguments' serde bytes.
    pub key_fingerprint: u64,
}

/// Where one loop was when the state was saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopPosition {
    /// Which loop of the function (numbered by the macro).
    pub loop_id: u32,
    /// Iterations completed.
    pub index: u64,
    /// Total iterations, if known.
    pub len: Option<u64>,
}

/// How the payload is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Codec {
    /// The postcard state bytes as they are.
    Raw,
    /// The postcard state bytes compressed with zstd. The level is recorded
    /// for information; decoding does not need it.
    Zstd {
        /// The zstd compression level used.
        level: i32,
    },
}

/// Caps on what a file may make the decoder allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest uncompressed state accepted, in bytes. Default: 64 GiB,
    /// far above any state that fits in memory, but low enough that a wild
    /// length is refused with a clear reason rather than an allocation failure.
    pub max_state_len: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_state_len: 64 << 30,
        }
    }
}

/// Serializes `state` with postcard, then compresses it with zstd at
/// `level` if one is given and it makes the payload smaller.
///
/// Returns the codec actually used, the uncompressed length (for
/// [`Header::state_len`]) and the payload.
#[cfg(test)]
pub fn encode_state<S: Serialize + ?Sized>(
    state: &S,
    level: Option<i32>,
) -> Result<(Codec, u64, Vec<u8>)> {
    let raw = serialize_state(state, 0, Vec::new())?;
    Ok(match compress_state(&raw, 0, level, false)? {
        Some((codec, compressed)) => (codec, raw.len() as u64, compressed),
        None => (Codec::Raw, raw.len() as u64, raw),
    })
}

/// The room [`serialize_state`] leaves before the state for a file with
/// this header: the fixed fields, the header at its widest codec and state
/// length, and the payload length. [`finish_file`] then assembles the file
/// around the state where it lies, instead of copying it into a new buffer
/// (a quarter of a second for a 256 MiB state, most of it page faults).
pub fn room_for(header: &Header) -> Result<usize> {
    let widest = Header {
        codec: Codec::Zstd { level: i32::MIN },
        state_len: u64::MAX,
        ..header.clone()
    };
    let header_len = postcard::experimental::serialized_size(&widest)
        .map_err(|e| Error::Encode(format!("header: {e}")))?;
    Ok(HEADER_OFFSET + header_len + 8)
}

/// The snapshot half of a save: the state's postcard bytes, serialized from
/// a borrowed view (nothing is cloned) into `buffer` after `room` bytes.
/// `buffer` is the previous save's, so a run that saves again writes into
/// memory it already has rather than a fresh allocation.
pub fn serialize_state<S: Serialize + ?Sized>(
    state: &S,
    room: usize,
    mut buffer: Vec<u8>,
) -> Result<Vec<u8>> {
    buffer.clear();
    buffer.resize(room, 0);
    postcard::to_extend(state, buffer).map_err(|e| Error::Encode(e.to_string()))
}

/// States at least this large are sampled before being compressed whole.
const SAMPLE_FROM: usize = 1 << 20;

/// The sample: this many pieces of [`SAMPLE_PIECE`] bytes, spread evenly.
const SAMPLE_PIECES: usize = 8;
const SAMPLE_PIECE: usize = 64 << 10;

/// States smaller than this are stored as they are.
const COMPRESS_FROM: usize = 256;

/// Compression is tried on the whole state only if it shrinks the sample to
/// at most this fraction. Measured: zstd level 3 compresses random-valued
/// doubles (94% of their size) at about 350 MB/s, slower than a disk
/// writes and fsyncs (0.3 to 1.2 GB/s here), so a 6% saving costs seconds.
const WORTH_COMPRESSING: f64 = 0.9;

/// The second half of a save, which a background writer runs off the
/// compute thread: compresses the state (`buffer[room..]`) at `level` when
/// that makes it smaller, into a new buffer with the same room before it.
/// `None`: store the state as it is.
///
/// A large state is sampled first, so an incompressible one costs a few
/// milliseconds to recognize instead of a full compression pass. A large
/// state is compressed as independent frames (see `compress.rs`), so that
/// a restore decompresses it on every core; with `parallel` (a save the
/// computation waits for, which may use the cores it leaves idle) they are
/// compressed on every core too, up to 4.
pub fn compress_state(
    buffer: &[u8],
    room: usize,
    level: Option<i32>,
    parallel: bool,
) -> Result<Option<(Codec, Vec<u8>)>> {
    let (Some(level), Some(raw)) = (level, buffer.get(room..)) else {
        return Ok(None);
    };
    // A frame header and a block header cost about what zstd could save
    // on a few hundred bytes.
    if raw.len() < COMPRESS_FROM {
        return Ok(None);
    }
    let failed = |e: std::io::Error| Error::Encode(format!("zstd compression failed: {e}"));
    if raw.len() >= SAMPLE_FROM {
        let mut compressor = zstd::bulk::Compressor::new(level).map_err(failed)?;
        let step = raw.len() / SAMPLE_PIECES;
        let mut sampled = 0;
        for piece in 0..SAMPLE_PIECES {
            let start = piece * step;
            let chunk = &raw[start..raw.len().min(start + SAMPLE_PIECE)];
            sampled += compressor.compress(chunk).map_err(failed)?.len();
        }
        if sampled as f64 > WORTH_COMPRESSING * (SAMPLE_PIECES * SAMPLE_PIECE) as f64 {
            return Ok(None);
        }
    }
    let mut out = Vec::with_capacity(room + zstd::zstd_safe::compress_bound(raw.len()) + 4);
    out.resize(room, 0);
    // A large state becomes independent frames, so that a restore can
    // decompress them on every core; a save the computation waits for
    // compresses them on every core too.
    let workers = if parallel { zstd_workers() } else { 1 };
    compress::compress_into(raw, level, workers, &mut out).map_err(failed)?;
    Ok((out.len() - room < raw.len()).then_some((Codec::Zstd { level }, out)))
}

/// Threads for a parallel compression or checksum: one per core, up to 4
/// (more gain little at the fast levels checkpoints use). Asked of the
/// system once: on Linux the answer reads cgroup files, tens of
/// microseconds.
fn zstd_workers() -> usize {
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)))
}

/// Completes a checkpoint file around the payload `buffer[room..]`: writes
/// the fixed fields and the header just before it, appends the checksum,
/// and returns where the file starts in `buffer`.
///
/// Fails only if the encoded header is over [`MAX_HEADER_LEN`] (a file this
/// build could not read back), or does not fit the room left for it.
/// The CRC-32 a complete checkpoint file ends with (over every byte before
/// it); 0 for a file too short to have one. Cheap: it is read, not computed.
pub(crate) fn file_crc(file: &[u8]) -> u32 {
    file.len()
        .checked_sub(4)
        .and_then(|at| file[at..].try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

pub fn finish_file(
    header: &Header,
    buffer: &mut Vec<u8>,
    room: usize,
    parallel: bool,
) -> Result<usize> {
    let header_bytes =
        postcard::to_allocvec(header).map_err(|e| Error::Encode(format!("header: {e}")))?;
    let header_len = u32::try_from(header_bytes.len())
        .ok()
        .filter(|&len| len <= MAX_HEADER_LEN)
        .ok_or_else(|| {
            Error::Encode(format!(
                "the checkpoint header is {} bytes, over the {MAX_HEADER_LEN}-byte limit (is a name or the loop nesting very large?)",
                header_bytes.len()
            ))
        })?;
    let payload_len = buffer.len().saturating_sub(room) as u64;
    let start = room
        .checked_sub(HEADER_OFFSET + header_bytes.len() + 8)
        .filter(|_| room <= buffer.len())
        .ok_or_else(|| {
            Error::Encode("the checkpoint header outgrew the room left for it".into())
        })?;
    let prefix = [
        &MAGIC[..],
        &FORMAT_VERSION.to_le_bytes(),
        &0u16.to_le_bytes(),
        &header_len.to_le_bytes(),
        &header_bytes,
        &payload_len.to_le_bytes(),
    ];
    let mut at = start;
    for part in prefix {
        buffer[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    let workers = if parallel { zstd_workers() } else { 1 };
    let crc = crc32(&buffer[start..], workers);
    buffer.extend_from_slice(&crc.to_le_bytes());
    Ok(start)
}

/// Buffers at least this large are checksummed on several threads.
const PARALLEL_CRC_FROM: usize = 16 << 20;

/// The CRC-32 of `bytes`, on up to `workers` threads when it is large:
/// each checksums a slice and the results are combined in order (CRC-32
/// of a concatenation follows from its parts'). 256 MiB take ~20 ms on
/// one core here, a tenth of a restore.
fn crc32(bytes: &[u8], workers: usize) -> u32 {
    if workers <= 1 || bytes.len() < PARALLEL_CRC_FROM {
        return crc32fast::hash(bytes);
    }
    let part_len = bytes.len().div_ceil(workers);
    let checksum = |part: &[u8]| {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(part);
        hasher
    };
    std::thread::scope(|scope| {
        let mut parts = bytes.chunks(part_len);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts
            .map(|part| {
                std::thread::Builder::new()
                    .name("checkpoint-crc".into())
                    .spawn_scoped(scope, move || checksum(part))
                    // No thread to be had: this one does it.
                    .map_err(|_| part)
            })
            .collect();
        let mut whole = checksum(first);
        for other in others {
            let part = match other {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(part) => checksum(part),
            };
            whole.combine(&part);
        }
        whole.finalize()
    })
}

/// Assembles a complete checkpoint file: fixed fields, header, payload and
/// checksum (what a save writes, copied into a buffer of its own).
#[cfg(test)]
pub fn encode_file(header: &Header, payload: &[u8]) -> Result<Vec<u8>> {
    let room = room_for(header)?;
    let mut buffer = vec![0; room];
    buffer.extend_from_slice(payload);
    let start = finish_file(header, &mut buffer, room, false)?;
    Ok(buffer.split_off(start))
}

/// The bytes at the start of a file that [`check_prefix`] needs: the
/// fixed fields, the largest header, and the payload length.
pub const PREFIX_LEN: usize = HEADER_OFFSET + MAX_HEADER_LEN as usize + 8;

/// The checks that need only the start of a file (its first
/// [`PREFIX_LEN`] bytes, or all of it if shorter) and its length `actual`:
/// the magic, the version, the flags, the header length, and that the
/// lengths the file declares add up to `actual`. A file that passes costs
/// what it declares; one that fails is refused before the rest of it is
/// read or mapped (a 100 GiB sparse file at a generation's name).
pub fn check_prefix(prefix: &[u8], actual: u64) -> Result<(), CorruptReason> {
    // A short foreign file (a one-line text file) is reported as foreign
    // rather than as truncated: compare whatever prefix of the magic exists.
    let magic_prefix = prefix.len().min(MAGIC.len());
    if prefix.get(..magic_prefix) != MAGIC.get(..magic_prefix) {
        return Err(CorruptReason::BadMagic);
    }
    if actual < FIXED_LEN {
        return Err(CorruptReason::TooShort { len: actual });
    }
    let Some((fixed, after_fixed)) = prefix.split_first_chunk::<HEADER_OFFSET>() else {
        return Err(CorruptReason::TooShort { len: actual });
    };
    let [_magic @ .., v0, v1, f0, f1, h0, h1, h2, h3] = *fixed;
    let version = u16::from_le_bytes([v0, v1]);
    if version > FORMAT_VERSION {
        return Err(CorruptReason::NewerVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version != FORMAT_VERSION {
        return Err(CorruptReason::UnsupportedVersion { found: version });
    }
    let flags = u16::from_le_bytes([f0, f1]);
    if flags != 0 {
        return Err(CorruptReason::UnknownFlags { flags });
    }
    let header_len = u32::from_le_bytes([h0, h1, h2, h3]);
    if header_len > MAX_HEADER_LEN {
        return Err(CorruptReason::HeaderTooLarge {
            len: header_len.into(),
            cap: MAX_HEADER_LEN.into(),
        });
    }
    // The file may be too short to hold the payload length; then the best
    // "expected" is the least length this header length allows.
    let min_len = FIXED_LEN + u64::from(header_len);
    let size_mismatch = |expected| CorruptReason::SizeMismatch { expected, actual };
    let payload_len = after_fixed
        .get(header_len as usize..)
        .and_then(<[u8]>::first_chunk::<8>)
        .ok_or(size_mismatch(min_len))?;
    let expected = min_len.saturating_add(u64::from_le_bytes(*payload_len));
    if expected != actual {
        return Err(size_mismatch(expected));
    }
    Ok(())
}

/// Verifies a checkpoint file and returns its header and (still encoded)
/// payload. See the module documentation for the order of checks.
///
/// Also refuses a header whose `state_len` is over `limits`, so a caller
/// learns early that decoding the state would be refused.
pub fn decode_file<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<(Header, &'a [u8]), CorruptReason> {
    let actual = bytes.len() as u64;
    check_prefix(bytes, actual)?;
    // The lengths add up, so what follows the payload is exactly the CRC.
    let (covered, stored) = bytes
        .split_last_chunk::<4>()
        .ok_or(CorruptReason::TooShort { len: actual })?;
    // A restore (or `verify`) has every core to itself.
    let computed = crc32(covered, zstd_workers());
    check_crc(u32::from_le_bytes(*stored), computed)?;
    let header = header_from_prefix(bytes, limits)?;
    let payload = covered
        .get(HEADER_OFFSET + declared_header_len(bytes)? + 8..)
        .ok_or(CorruptReason::TooShort { len: actual })?;
    Ok((header, payload))
}

/// The stored CRC-32 against the one computed over every byte before it.
pub fn check_crc(stored: u32, computed: u32) -> Result<(), CorruptReason> {
    if stored == computed {
        Ok(())
    } else {
        Err(CorruptReason::ChecksumMismatch { stored, computed })
    }
}

/// The header length a file declares in its fixed fields.
pub fn declared_header_len(prefix: &[u8]) -> Result<usize, CorruptReason> {
    prefix
        .get(12..HEADER_OFFSET)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .map(|bytes| u32::from_le_bytes(bytes) as usize)
        .ok_or(CorruptReason::TooShort {
            len: prefix.len() as u64,
        })
}

/// The header, decoded from the start of a file whose layout
/// [`check_prefix`] and checksum [`check_crc`] accepted; refuses trailing
/// bytes in it and a declared state over `limits`.
pub fn header_from_prefix(prefix: &[u8], limits: &Limits) -> Result<Header, CorruptReason> {
    let header_bytes = prefix
        .get(HEADER_OFFSET..HEADER_OFFSET + declared_header_len(prefix)?)
        .ok_or(CorruptReason::TooShort {
            len: prefix.len() as u64,
        })?;
    let (header, rest) = postcard::take_from_bytes::<Header>(header_bytes)
        .map_err(|e| CorruptReason::BadHeader(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CorruptReason::TrailingBytes {
            section: "header",
            count: rest.len() as u64,
        });
    }
    if header.state_len > limits.max_state_len {
        return Err(CorruptReason::PayloadTooLarge {
            len: header.state_len,
            cap: limits.max_state_len,
        });
    }
    Ok(header)
}

/// Decodes the state from a payload returned by [`decode_file`].
///
/// Refuses a declared `state_len` over `limits` before allocating, bounds
/// decompression by `state_len`, and requires the decoder to consume every
/// byte (postcard silently ignores trailing bytes otherwise).
pub fn decode_state<S: DeserializeOwned>(
    header: &Header,
    payload: &[u8],
    limits: &Limits,
) -> Result<S, CorruptReason> {
    let state_len = header.state_len;
    let too_large = CorruptReason::PayloadTooLarge {
        len: state_len,
        cap: limits.max_state_len,
    };
    if state_len > limits.max_state_len {
        return Err(too_large);
    }
    let expected = usize::try_from(state_len).map_err(|_| too_large)?;

    let decompressed;
    let source = match header.codec {
        Codec::Raw => {
            if payload.len() != expected {
                return Err(CorruptReason::BadPayload(format!(
                    "the payload is {} bytes but the header says {state_len}",
                    payload.len()
                )));
            }
            decode::Source::Slice(payload)
        }
        // A large state saved as independent frames: decompressed as it is
        // read, on every core, into what it is restored to.
        Codec::Zstd { .. } => match (expected >= compress::FRAMES_FROM)
            .then(|| compress::Frames::new(payload, expected, zstd_workers()))
            .flatten()
        {
            Some(frames) => decode::Source::Frames(frames),
            None => {
                decompressed = decompress(payload, state_len, expected)?;
                decode::Source::Slice(&decompressed)
            }
        },
    };

    let (state, left) = decode::decode::<S>(&source).map_err(|e| {
        let failure = match &source {
            decode::Source::Frames(frames) => frames.failure(),
            decode::Source::Slice(_) => None,
        };
        CorruptReason::BadPayload(match failure {
            Some(reason) => format!("zstd: {reason}"),
            None => e.to_string(),
        })
    })?;
    if left != 0 {
        return Err(CorruptReason::TrailingBytes {
            section: "state",
            count: left as u64,
        });
    }
    Ok(state)
}

/// Decompresses a zstd payload that must expand to exactly `state_len`
/// bytes. Reads at most one byte more than that, so a payload that would
/// expand further (a zstd bomb) costs only `state_len + 1` bytes of memory.
fn decompress(payload: &[u8], state_len: u64, expected: usize) -> Result<Vec<u8>, CorruptReason> {
    let decoder = zstd::stream::read::Decoder::with_buffer(payload)
        .map_err(|e| CorruptReason::BadPayload(format!("zstd: {e}")))?;
    let mut out = Vec::with_capacity(expected.min(INITIAL_RESERVE));
    decoder
        .take(state_len.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| CorruptReason::BadPayload(format!("zstd: {e}")))?;
    if out.len() != expected {
        return Err(CorruptReason::BadPayload(format!(
            "the payload decompresses to {}{} bytes but the header says {state_len}",
            out.len(),
            if out.len() > expected { " or more" } else { "" }
        )));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_header() -> Header {
        Header {
            identity: Identity {
                crate_name: "demo".into(),
                module_path: "demo::sim".into(),
                function: "simulate".into(),
                name: "simulate".into(),
                key_fingerprint: 0x1234_5678_9abc_def0,
            },
            schema_fingerprint: 0xdead_beef,
            code_fingerprint: 0xfeed_face,
            position: vec![
                LoopPosition {
                    loop_id: 0,
                    index: 3,
                    len: Some(10),
                },
                LoopPosition {
                    loop_id: 1,
                    index: 99,
                    len: None,
                },
            ],
            save_count: 4,
            started_unix_ms: 1_700_000_000_000,
            saved_unix_ms: 1_700_000_360_000,
            compute_ms: 360_000,
            codec: Codec::Raw,
            state_len: 0,
        }
    }

    type State = (Vec<u64>, String, Option<i32>);

    fn sample_state() -> State {
        (
            (0..40).map(|i| i * 1_000_003).collect(),
            "the quick brown fox jumps over the lazy dog".repeat(3),
            Some(-7),
        )
    }

    /// A complete file; `level` picks the codec.
    pub(crate) fn sample_file<S: Serialize>(state: &S, level: Option<i32>) -> Vec<u8> {
        let (codec, state_len, payload) = encode_state(state, level).expect("encode state");
        let header = Header {
            codec,
            state_len,
            ..sample_header()
        };
        encode_file(&header, &payload).expect("encode file")
    }

    fn decode_all<S: DeserializeOwned>(bytes: &[u8]) -> Result<(Header, S), CorruptReason> {
        let limits = Limits::default();
        let (header, payload) = decode_file(bytes, &limits)?;
        let state = decode_state(&header, payload, &limits)?;
        Ok((header, state))
    }

    /// A large buffer's checksum, taken in parts on several threads and
    /// combined, is the one crc32fast takes in one pass, for any split.
    #[test]
    fn a_checksum_on_several_threads_is_the_same_checksum() {
        let bytes: Vec<u8> = (0..PARALLEL_CRC_FROM as u64 + 12_345)
            .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
            .collect();
        let whole = crc32fast::hash(&bytes);
        for workers in [1, 2, 3, 4] {
            assert_eq!(crc32(&bytes, workers), whole, "{workers} threads");
        }
        let mut flipped = bytes;
        flipped[PARALLEL_CRC_FROM / 2 + 1] ^= 0x10;
        assert_ne!(crc32(&flipped, 3), whole, "a flipped bit in a middle part");
    }

    #[test]
    fn round_trip_raw_and_zstd() {
        let state = sample_state();
        for level in [None, Some(1), Some(19)] {
            let file = sample_file(&state, level);
            let (header, decoded) = decode_all::<State>(&file).expect("decode");
            assert_eq!(decoded, state);
            assert_eq!(header.identity, sample_header().identity);
            assert_eq!(header.position, sample_header().position);
            match level {
                None => assert_eq!(header.codec, Codec::Raw),
                Some(level) => assert_eq!(header.codec, Codec::Zstd { level }),
            }
        }
    }

    #[test]
    fn incompressible_state_is_stored_raw() {
        let (codec, state_len, payload) = encode_state(&[1u8, 2, 3], Some(3)).expect("encode");
        assert_eq!(codec, Codec::Raw);
        assert_eq!(state_len, payload.len() as u64);
    }

    #[test]
    fn layout_matches_the_documented_offsets() {
        let file = sample_file(&7u8, None);
        assert_eq!(file[..8], MAGIC);
        assert_eq!(file[8..10], 1u16.to_le_bytes());
        assert_eq!(file[10..12], [0, 0]);
        let h = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
        let p = u64::from_le_bytes(file[16 + h..24 + h].try_into().unwrap()) as usize;
        assert_eq!(p, 1);
        assert_eq!(file[24 + h], 7);
        assert_eq!(file.len(), 28 + h + p);
        let crc = u32::from_le_bytes(file[file.len() - 4..].try_into().unwrap());
        assert_eq!(crc, crc32fast::hash(&file[..file.len() - 4]));
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let state = sample_state();
        for level in [None, Some(3)] {
            let file = sample_file(&state, level);
            assert!(
                file.len() > 200,
                "want a few hundred bytes, got {}",
                file.len()
            );
            let mut damaged = file.clone();
            for i in 0..file.len() {
                for bit in 0..8 {
                    damaged[i] ^= 1 << bit;
                    let result = decode_all::<State>(&damaged);
                    assert!(
                        result.is_err(),
                        "flip of bit {bit} in byte {i} went unnoticed"
                    );
                    damaged[i] ^= 1 << bit;
                }
            }
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let file = sample_file(&sample_state(), Some(3));
        for len in 0..file.len() {
            let err = decode_all::<State>(&file[..len]).expect_err("truncated file accepted");
            assert!(
                matches!(
                    err,
                    CorruptReason::TooShort { .. } | CorruptReason::SizeMismatch { .. }
                ),
                "prefix of {len} bytes: {err:?}"
            );
        }
    }

    #[test]
    fn appended_bytes_are_detected() {
        let mut file = sample_file(&sample_state(), None);
        file.push(0);
        let err = decode_all::<State>(&file).expect_err("trailing byte accepted");
        assert!(matches!(err, CorruptReason::SizeMismatch { .. }), "{err:?}");
    }

    #[test]
    fn foreign_files_are_bad_magic_or_too_short() {
        let png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        assert_eq!(
            decode_all::<State>(png).unwrap_err(),
            CorruptReason::BadMagic
        );
        let text = b"step=41\nloss=0.25\n# hand-written checkpoint, do not edit\n";
        assert_eq!(
            decode_all::<State>(text).unwrap_err(),
            CorruptReason::BadMagic
        );
        assert_eq!(
            decode_all::<State>(b"hi").unwrap_err(),
            CorruptReason::BadMagic
        );
        assert_eq!(
            decode_all::<State>(b"").unwrap_err(),
            CorruptReason::TooShort { len: 0 }
        );
        // Line-ending conversion of a real file breaks the magic.
        let file = sample_file(&1u8, None);
        let mangled: Vec<u8> = file
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect();
        let mangled = String::from_utf8_lossy(&mangled).into_owned();
        assert_eq!(
            decode_all::<State>(mangled.as_bytes()).unwrap_err(),
            CorruptReason::BadMagic
        );
    }

    /// Rewrites a field of a valid file and fixes up the checksum, to test
    /// the checks that come before or after the checksum.
    fn patch(file: &mut [u8], offset: usize, bytes: &[u8]) {
        file[offset..offset + bytes.len()].copy_from_slice(bytes);
        let end = file.len() - 4;
        let crc = crc32fast::hash(&file[..end]);
        file[end..].copy_from_slice(&crc.to_le_bytes());
    }

    #[test]
    fn newer_and_unknown_versions_and_flags_are_refused() {
        let mut file = sample_file(&sample_state(), None);
        patch(&mut file, 8, &2u16.to_le_bytes());
        assert_eq!(
            decode_all::<State>(&file).unwrap_err(),
            CorruptReason::NewerVersion {
                found: 2,
                supported: 1
            }
        );
        patch(&mut file, 8, &0u16.to_le_bytes());
        assert_eq!(
            decode_all::<State>(&file).unwrap_err(),
            CorruptReason::UnsupportedVersion { found: 0 }
        );
        patch(&mut file, 8, &1u16.to_le_bytes());
        patch(&mut file, 10, &4u16.to_le_bytes());
        assert_eq!(
            decode_all::<State>(&file).unwrap_err(),
            CorruptReason::UnknownFlags { flags: 4 }
        );
    }

    #[test]
    fn header_length_over_the_cap_is_refused() {
        let mut file = sample_file(&sample_state(), None);
        patch(&mut file, 12, &(MAX_HEADER_LEN + 1).to_le_bytes());
        assert!(matches!(
            decode_all::<State>(&file).unwrap_err(),
            CorruptReason::HeaderTooLarge { .. }
        ));
        patch(&mut file, 12, &u32::MAX.to_le_bytes());
        assert!(matches!(
            decode_all::<State>(&file).unwrap_err(),
            CorruptReason::HeaderTooLarge { .. }
        ));
    }

    #[test]
    fn huge_payload_length_is_a_size_mismatch() {
        let mut file = sample_file(&sample_state(), None);
        let h = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
        patch(&mut file, 16 + h, &u64::MAX.to_le_bytes());
        assert!(matches!(
            decode_all::<State>(&file).unwrap_err(),
            CorruptReason::SizeMismatch {
                expected: u64::MAX,
                ..
            }
        ));
    }

    #[test]
    fn oversized_header_is_not_written() {
        let mut header = sample_header();
        header.identity.name = "x".repeat(MAX_HEADER_LEN as usize);
        assert!(matches!(encode_file(&header, &[]), Err(Error::Encode(_))));
    }

    #[test]
    fn state_len_over_the_cap_is_refused_before_decompressing() {
        let state = vec![0u64; 10_000];
        let (codec, state_len, payload) = encode_state(&state, Some(3)).expect("encode");
        let header = Header {
            codec,
            state_len,
            ..sample_header()
        };
        let small = Limits {
            max_state_len: state_len - 1,
        };
        let err = decode_state::<Vec<u64>>(&header, &payload, &small).unwrap_err();
        assert_eq!(
            err,
            CorruptReason::PayloadTooLarge {
                len: state_len,
                cap: state_len - 1
            }
        );
        // A wildly large declared length with garbage payload: refused by the
        // cap, never by an allocation failure.
        let lying = Header {
            state_len: u64::MAX,
            ..header.clone()
        };
        let err = decode_state::<Vec<u64>>(&lying, b"garbage", &Limits::default()).unwrap_err();
        assert!(
            matches!(err, CorruptReason::PayloadTooLarge { .. }),
            "{err:?}"
        );
        // decode_file applies the same cap to the header it reads.
        let file = encode_file(&header, &payload).expect("encode");
        assert!(matches!(
            decode_file(&file, &small).unwrap_err(),
            CorruptReason::PayloadTooLarge { .. }
        ));
    }

    #[test]
    fn zstd_bomb_is_refused() {
        // 64 MiB of zeros compresses to a few KiB; declare it as 100 bytes.
        let bomb = zstd::bulk::compress(&vec![0u8; 64 << 20], 3).expect("compress");
        assert!(bomb.len() < 64 << 10);
        let header = Header {
            codec: Codec::Zstd { level: 3 },
            state_len: 100,
            ..sample_header()
        };
        let file = encode_file(&header, &bomb).expect("encode");
        let err = decode_all::<Vec<u8>>(&file).unwrap_err();
        assert!(
            matches!(&err, CorruptReason::BadPayload(msg) if msg.contains("or more")),
            "{err:?}"
        );
    }

    #[test]
    fn short_or_garbage_zstd_payload_is_refused() {
        let (codec, state_len, payload) = encode_state(&sample_state(), Some(3)).expect("encode");
        let header = Header {
            codec,
            state_len: state_len + 1,
            ..sample_header()
        };
        let limits = Limits::default();
        assert!(decode_state::<State>(&header, &payload, &limits).is_err());
        let header = Header {
            state_len,
            ..header
        };
        assert!(decode_state::<State>(&header, b"not zstd at all", &limits).is_err());
        let mut with_tail = payload.clone();
        with_tail.extend_from_slice(b"tail");
        assert!(decode_state::<State>(&header, &with_tail, &limits).is_err());
    }

    #[test]
    fn state_of_another_shape_is_refused() {
        // Postcard is not self-describing: decoding (u8, u8) from the bytes of
        // a (u8, u8, u8) would succeed without the leftover-bytes check.
        let file = sample_file(&(1u8, 2u8, 3u8), None);
        let err = decode_all::<(u8, u8)>(&file).unwrap_err();
        assert_eq!(
            err,
            CorruptReason::TrailingBytes {
                section: "state",
                count: 1
            }
        );
    }

    #[test]
    fn header_with_leftover_bytes_is_refused() {
        let header_bytes = postcard::to_allocvec(&sample_header()).unwrap();
        let mut file = Vec::new();
        file.extend_from_slice(&MAGIC);
        file.extend_from_slice(&1u16.to_le_bytes());
        file.extend_from_slice(&0u16.to_le_bytes());
        file.extend_from_slice(&(header_bytes.len() as u32 + 2).to_le_bytes());
        file.extend_from_slice(&header_bytes);
        file.extend_from_slice(&[0, 0]);
        file.extend_from_slice(&0u64.to_le_bytes());
        let crc = crc32fast::hash(&file);
        file.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            decode_file(&file, &Limits::default()).unwrap_err(),
            CorruptReason::TrailingBytes {
                section: "header",
                count: 2
            }
        );
    }

    #[test]
    fn a_huge_sequence_length_in_the_state_allocates_nothing() {
        // A state that claims 2^60 elements and holds none: decoding must
        // fail on the missing bytes, not reserve 2^63 bytes up front.
        let payload = postcard::to_allocvec(&(1u64 << 60)).expect("encode a length");
        let header = Header {
            codec: Codec::Raw,
            state_len: payload.len() as u64,
            ..sample_header()
        };
        let err = decode_state::<Vec<u64>>(&header, &payload, &Limits::default()).unwrap_err();
        assert!(matches!(err, CorruptReason::BadPayload(_)), "{err:?}");
        let err = decode_state::<String>(&header, &payload, &Limits::default()).unwrap_err();
        assert!(matches!(err, CorruptReason::BadPayload(_)), "{err:?}");
    }

    #[test]
    fn raw_payload_of_the_wrong_length_is_refused() {
        let (codec, state_len, payload) = encode_state(&sample_state(), None).expect("encode");
        let header = Header {
            codec,
            state_len: state_len - 1,
            ..sample_header()
        };
        let err = decode_state::<State>(&header, &payload, &Limits::default()).unwrap_err();
        assert!(matches!(err, CorruptReason::BadPayload(_)), "{err:?}");
    }
}

#[cfg(test)]
mod proptests {
    use super::tests::sample_file;
    use super::*;
    use proptest::prelude::*;

    type State = (Vec<u64>, String, Option<i32>, Vec<(u8, f64)>);

    fn decode_all(bytes: &[u8]) -> Result<State, CorruptReason> {
        let limits = Limits::default();
        let (header, payload) = decode_file(bytes, &limits)?;
        decode_state(&header, payload, &limits)
    }

    /// Compares floats by their bits, so NaN payloads and -0.0 count.
    fn same(a: &State, b: &State) -> bool {
        a.0 == b.0
            && a.1 == b.1
            && a.2 == b.2
            && a.3.len() == b.3.len()
            && a.3
                .iter()
                .zip(&b.3)
                .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
    }

    fn state() -> impl Strategy<Value = State> {
        (
            prop::collection::vec(any::<u64>(), 0..64),
            ".{0,64}",
            any::<Option<i32>>(),
            prop::collection::vec((any::<u8>(), any::<u64>().prop_map(f64::from_bits)), 0..32),
        )
    }

    proptest! {
        #[test]
        fn encode_then_decode_returns_the_state(
            state in state(),
            level in prop::option::of(-5i32..=19),
        ) {
            let file = sample_file(&state, level);
            let decoded = decode_all(&file);
            prop_assert!(matches!(&decoded, Ok(d) if same(d, &state)), "{:?}", decoded);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_all(&bytes);
            // Also behind a valid magic and version, where later checks run.
            let mut framed = MAGIC.to_vec();
            framed.extend_from_slice(&1u16.to_le_bytes());
            framed.extend_from_slice(&bytes);
            let _ = decode_all(&framed);
        }

        #[test]
        fn arbitrary_payload_never_panics(
            payload in prop::collection::vec(any::<u8>(), 0..512),
            state_len in 0u64..4096,
            zstd in any::<bool>(),
        ) {
            let header = Header {
                codec: if zstd { Codec::Zstd { level: 3 } } else { Codec::Raw },
                state_len,
                ..super::tests::sample_header()
            };
            let _ = decode_state::<State>(&header, &payload, &Limits::default());
        }

        #[test]
        fn overwritten_bytes_never_decode_to_another_value(
            state in state(),
            level in prop::option::of(1i32..=5),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let file = sample_file(&state, level);
            let mut damaged = file.clone();
            for (index, byte) in edits {
                let i = index.index(damaged.len());
                damaged[i] = byte;
            }
            if let Ok(decoded) = decode_all(&damaged) {
                // Only possible when every edit wrote the byte already there.
                prop_assert_eq!(&damaged, &file);
                prop_assert!(same(&decoded, &state));
            }
        }
    }
}
/// What a save holds, for messages: where its loops stood, or for the
/// explicit API, which has no loops, its count (`save 12`).
pub(crate) fn describe_save(header: &Header) -> String {
    // The explicit API has no loop positions: it names its saves by count.
    if header.position.is_empty() {
        format!("save {}", header.save_count)
    } else {
        describe_position(&header.position)
    }
}

/// Where a loop stands, for messages: `iteration 3 of 10 / 7`.
pub(crate) fn describe_position(position: &[LoopPosition]) -> String {
    if position.is_empty() {
        return "the start".to_owned();
    }
    let parts: Vec<String> = position
        .iter()
        .map(|at| match at.len {
            Some(len) => format!("{} of {len}", at.index),
            None => at.index.to_string(),
        })
        .collect();
    format!("iteration {}", parts.join(" / "))
}
