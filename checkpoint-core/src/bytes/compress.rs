//! zstd for checkpoint payloads: one frame for a small state, independent
//! frames of [`FRAME`] bytes for a large one, so that a restore decompresses
//! them on every core at once ([`decompress_frames`]), as a save the
//! computation waits for compresses them. Concatenated frames are a valid
//! zstd stream: any zstd decoder reads the payload whole.
//!
//! A compression context is kept per thread and reused: creating one costs
//! more than compressing a small state (it was 37% of a tiny save).

use std::cell::RefCell;
use std::io;

use zstd::zstd_safe::{self, CCtx, CParameter, DCtx, WriteBuf};

/// States at least this large are split into frames.
pub(crate) const FRAMES_FROM: usize = 8 << 20;

/// The uncompressed size of one frame of a large state.
const FRAME: usize = 4 << 20;

thread_local! {
    /// This thread's compression context and the level it is set to.
    static CONTEXT: RefCell<Option<(i32, CCtx<'static>)>> = const { RefCell::new(None) };
}

fn zstd_error(code: usize) -> io::Error {
    io::Error::other(zstd_safe::get_error_name(code))
}

/// Compresses `raw` at `level` and appends it to `out`: one frame, or a
/// frame per [`FRAME`] bytes from [`FRAMES_FROM`] on, compressed by up to
/// `workers` threads.
pub(crate) fn compress_into(
    raw: &[u8],
    level: i32,
    workers: usize,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    if raw.len() < FRAMES_FROM {
        return compress_frame(raw, level, out);
    }
    let frames: Vec<&[u8]> = raw.chunks(FRAME).collect();
    if workers <= 1 {
        out.reserve(zstd_safe::compress_bound(raw.len()));
        return frames
            .iter()
            .try_for_each(|frame| compress_frame(frame, level, out));
    }
    // Each worker compresses a run of consecutive frames into its own
    // buffer; the runs are appended in order.
    let per_worker = frames.len().div_ceil(workers);
    let parts: Vec<io::Result<Vec<u8>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = frames
            .chunks(per_worker)
            .map(|run| {
                scope.spawn(move || {
                    let mut part = Vec::new();
                    for frame in run {
                        compress_frame(frame, level, &mut part)?;
                    }
                    Ok(part)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("a compression thread panicked")))
            })
            .collect()
    });
    for part in parts {
        out.extend_from_slice(&part?);
    }
    Ok(())
}

/// Appends one zstd frame of `raw` (its size in the frame header) to `out`,
/// with this thread's context.
fn compress_frame(raw: &[u8], level: i32, out: &mut Vec<u8>) -> io::Result<()> {
    CONTEXT.with(|context| {
        let mut context = context.borrow_mut();
        if context.as_ref().is_none_or(|(set, _)| *set != level) {
            let mut cctx = CCtx::try_create()
                .ok_or_else(|| io::Error::other("zstd could not allocate a context"))?;
            cctx.set_parameter(CParameter::CompressionLevel(level))
                .map_err(zstd_error)?;
            *context = Some((level, cctx));
        }
        let (_, cctx) = context.as_mut().expect("set above");
        out.reserve(zstd_safe::compress_bound(raw.len()));
        let mut spare = Spare::after(out);
        cctx.compress2(&mut spare, raw).map_err(zstd_error)?;
        Ok(())
    })
}

/// Decompresses a payload of several independent frames, each declaring
/// its size, that add up to `expected` bytes, on up to `workers` threads.
/// `None` when the payload is not such a series (one frame, or a frame
/// without its size): the caller decodes it as a stream.
pub(crate) fn decompress_frames(
    payload: &[u8],
    expected: usize,
    workers: usize,
) -> Option<Result<Vec<u8>, String>> {
    let frames = split_frames(payload)?;
    if frames.len() < 2 || frames.iter().map(|&(_, len)| len).sum::<usize>() != expected {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(expected);
    // Disjoint regions of the output, one per frame, in order.
    let mut regions = Vec::with_capacity(frames.len());
    let mut at = 0;
    for &(frame, len) in &frames {
        regions.push((frame, Region::new(out.spare_capacity_mut(), at, len)));
        at += len;
    }
    let per_worker = regions.len().div_ceil(workers.max(1));
    let outcome: Result<(), String> = std::thread::scope(|scope| {
        let handles: Vec<_> = regions
            .chunks_mut(per_worker)
            .map(|run| {
                scope.spawn(move || {
                    let mut dctx = DCtx::try_create()
                        .ok_or_else(|| "zstd could not allocate a context".to_owned())?;
                    for (frame, region) in run.iter_mut() {
                        let written = dctx
                            .decompress(region, frame)
                            .map_err(|code| zstd_safe::get_error_name(code).to_owned())?;
                        if written != region.capacity() {
                            return Err(format!(
                                "a frame decompresses to {written} bytes but declares {}",
                                region.capacity()
                            ));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|handle| {
            handle
                .join()
                .unwrap_or_else(|_| Err("a decompression thread panicked".to_owned()))
        })
    });
    if let Err(reason) = outcome {
        return Some(Err(reason));
    }
    // SAFETY: the regions cover `0..expected` without overlap (their sizes
    // add up to `expected`), and every one was filled completely: each
    // frame wrote exactly its region's capacity, or we returned above.
    unsafe { out.set_len(expected) };
    Some(Ok(out))
}

/// The frames of `payload` and the size each declares; `None` if one does
/// not declare it or the payload is not a series of whole frames.
fn split_frames(mut payload: &[u8]) -> Option<Vec<(&[u8], usize)>> {
    let mut frames = Vec::new();
    while !payload.is_empty() {
        let size = zstd_safe::find_frame_compressed_size(payload).ok()?;
        let frame = payload.get(..size)?;
        let len = zstd_safe::get_frame_content_size(frame).ok()??;
        frames.push((frame, usize::try_from(len).ok()?));
        payload = &payload[size..];
    }
    Some(frames)
}

/// The spare capacity of a `Vec` after its contents, as a zstd output:
/// what zstd writes there becomes part of the `Vec`.
struct Spare<'a> {
    vec: &'a mut Vec<u8>,
    start: usize,
}

impl<'a> Spare<'a> {
    fn after(vec: &'a mut Vec<u8>) -> Spare<'a> {
        let start = vec.len();
        Spare { vec, start }
    }
}

// SAFETY: `as_slice` covers only initialized bytes (those zstd reported
// written, or none); the pointer and capacity describe the Vec's own
// allocation after `start`; `filled_until` is called by zstd with the
// number of bytes it initialized there.
unsafe impl WriteBuf for Spare<'_> {
    fn as_slice(&self) -> &[u8] {
        &self.vec[self.start..]
    }

    fn capacity(&self) -> usize {
        self.vec.capacity() - self.start
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        // SAFETY: `start <= len <= capacity`: within the allocation.
        unsafe { self.vec.as_mut_ptr().add(self.start) }
    }

    unsafe fn filled_until(&mut self, n: usize) {
        // SAFETY: zstd initialized `n` bytes from `start`, within capacity.
        unsafe { self.vec.set_len(self.start + n) };
    }
}

/// One frame's place in an output buffer not yet initialized, for one
/// decompression thread.
struct Region {
    ptr: *mut u8,
    len: usize,
    filled: usize,
}

// SAFETY: a region is a unique, disjoint part of a buffer that outlives the
// scoped threads using it; only one thread writes to it.
unsafe impl Send for Region {}

impl Region {
    /// `len` bytes at `at` of `spare`.
    fn new(spare: &mut [std::mem::MaybeUninit<u8>], at: usize, len: usize) -> Region {
        let part = &mut spare[at..at + len];
        Region {
            ptr: part.as_mut_ptr().cast(),
            len,
            filled: 0,
        }
    }
}

// SAFETY: the pointer and capacity describe `len` bytes of the output's
// allocation that no other region covers; `as_slice` covers only what zstd
// reported written.
unsafe impl WriteBuf for Region {
    fn as_slice(&self) -> &[u8] {
        // SAFETY: the first `filled` bytes were written by zstd.
        unsafe { std::slice::from_raw_parts(self.ptr, self.filled) }
    }

    fn capacity(&self) -> usize {
        self.len
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr
    }

    unsafe fn filled_until(&mut self, n: usize) {
        self.filled = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i / 7 % 251) as u8).collect()
    }

    #[test]
    fn frames_round_trip_on_any_number_of_workers() {
        for len in [0, 100, FRAMES_FROM - 1, FRAMES_FROM + FRAME / 2 + 3] {
            let raw = sample(len);
            for workers in [1, 2, 3] {
                let mut out = vec![9_u8; 5];
                compress_into(&raw, 3, workers, &mut out).expect("compress");
                assert_eq!(&out[..5], &[9; 5], "appended after what was there");
                let payload = &out[5..];
                let frames = split_frames(payload).expect("whole frames");
                assert_eq!(frames.len(), if len < FRAMES_FROM { 1 } else { 3 });
                // A stream decoder reads the concatenated frames whole.
                assert_eq!(zstd::decode_all(payload).expect("stream"), raw);
                match decompress_frames(payload, len, workers) {
                    Some(decoded) => assert_eq!(decoded.expect("frames"), raw),
                    None => assert!(len < FRAMES_FROM, "one frame is left to the stream"),
                }
            }
        }
    }

    #[test]
    fn frames_that_disagree_with_the_size_are_refused() {
        let raw = sample(FRAMES_FROM + 10);
        let mut out = Vec::new();
        compress_into(&raw, 1, 2, &mut out).expect("compress");
        // Another total than the header's: not decoded as frames.
        assert!(decompress_frames(&out, raw.len() + 1, 2).is_none());
        // A cut payload is no series of whole frames. (Damaged bytes are
        // the file checksum's to catch, before any decompression.)
        assert!(decompress_frames(&out[..out.len() - 1], raw.len(), 2).is_none());
    }
}
