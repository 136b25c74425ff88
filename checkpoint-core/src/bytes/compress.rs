//! zstd for checkpoint payloads: one frame for a small state, independent
//! frames of [`FRAME`] bytes for a large one, so that a restore decompresses
//! them on every core at once ([`Frames`]), as a save the
//! computation waits for compresses them. Concatenated frames are a valid
//! zstd stream: any zstd decoder reads the payload whole.
//!
//! A compression context is kept per thread and reused: creating one costs
//! more than compressing a small state (it was 37% of a tiny save).

use std::cell::{Cell, OnceCell, RefCell};
use std::io;
use std::mem::MaybeUninit;

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

/// A payload of several independent frames, each declaring its size, read
/// as the bytes it decompresses to, without decompressing it all up front.
///
/// A restore reads the state's bytes in order. The bytes a decoder looks
/// at come from frames decompressed as it reaches them, `workers` frames
/// at a time ([`Frames::take`]); a run of bytes copied out whole, such as
/// a `Vec<f64>`'s elements, is decompressed straight into its destination,
/// every frame wholly inside it on its own thread ([`Frames::fill`]). So a
/// state made of large arrays is decompressed once, into the memory it is
/// restored to, on every core.
///
/// Frames decompressed for a decoder are kept until the `Frames` is
/// dropped: what [`Frames::take`] returns stays valid and unchanged.
pub(crate) struct Frames<'a> {
    /// Each frame's compressed bytes, and where its bytes start in the
    /// decompressed stream; one more entry's start is the stream's length.
    frames: Vec<(&'a [u8], usize)>,
    workers: usize,
    /// How far the stream has been read.
    at: Cell<usize>,
    /// Frames decompressed for [`Frames::take`].
    decoded: Vec<OnceCell<Box<[u8]>>>,
    /// Bytes taken across a frame boundary, copied together; at most one
    /// take crosses each boundary, stored under the frame it starts in.
    joined: Vec<OnceCell<Box<[u8]>>>,
    /// Why a frame could not be decompressed.
    failure: RefCell<Option<String>>,
}

impl<'a> Frames<'a> {
    /// The frames of `payload`, if it is a series of at least two frames
    /// that each declare their size and add up to `expected` bytes; `None`
    /// otherwise (one frame, or a frame without its size): the caller
    /// decompresses it as a stream.
    pub(crate) fn new(payload: &'a [u8], expected: usize, workers: usize) -> Option<Frames<'a>> {
        let split = split_frames(payload)?;
        if split.len() < 2 || split.iter().map(|&(_, len)| len).sum::<usize>() != expected {
            return None;
        }
        let mut frames = Vec::with_capacity(split.len() + 1);
        let mut start = 0;
        for (frame, len) in split {
            frames.push((frame, start));
            start += len;
        }
        frames.push((&[][..], start));
        let count = frames.len() - 1;
        Some(Frames {
            frames,
            workers: workers.max(1),
            at: Cell::new(0),
            decoded: (0..count).map(|_| OnceCell::new()).collect(),
            joined: (0..count).map(|_| OnceCell::new()).collect(),
            failure: RefCell::new(None),
        })
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.len() - self.at.get()
    }

    /// Why a frame could not be decompressed, once one could not.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.borrow().clone()
    }

    fn len(&self) -> usize {
        self.frames[self.frames.len() - 1].1
    }

    fn start(&self, frame: usize) -> usize {
        self.frames[frame].1
    }

    fn end(&self, frame: usize) -> usize {
        self.frames[frame + 1].1
    }

    /// The frame holding byte `at` of the stream (`at` < its length).
    fn frame_of(&self, at: usize) -> usize {
        self.frames.partition_point(|&(_, start)| start <= at) - 1
    }

    /// The next `count` bytes, or `None` if fewer are left or a frame
    /// could not be decompressed (see [`Frames::failure`]).
    pub(crate) fn take(&self, count: usize) -> Option<&[u8]> {
        let at = self.at.get();
        let end = at.checked_add(count).filter(|&end| end <= self.len())?;
        if count == 0 {
            return Some(&[]);
        }
        let first = self.frame_of(at);
        let taken = if end <= self.end(first) {
            let bytes = self.decoded(first)?;
            &bytes[at - self.start(first)..end - self.start(first)]
        } else {
            let mut joined = Vec::with_capacity(count);
            let mut frame = first;
            while joined.len() < count {
                let bytes = self.decoded(frame)?;
                let from = (at + joined.len()) - self.start(frame);
                let upto = (end - self.start(frame)).min(bytes.len());
                joined.extend_from_slice(&bytes[from..upto]);
                frame += 1;
            }
            // A later take starts past this boundary: the slot is free.
            self.joined[first].get_or_init(|| joined.into_boxed_slice())
        };
        self.at.set(end);
        Some(taken)
    }

    /// Steps back over the last `count` bytes read, which a reader had
    /// at hand and did not use.
    pub(crate) fn rewind(&self, count: usize) {
        self.at.set(self.at.get() - count);
    }

    /// The rest of the frame being read, if it is decompressed already
    /// (it is not decompressed for this); reads it.
    pub(crate) fn decoded_rest(&self) -> &[u8] {
        let at = self.at.get();
        if at >= self.len() {
            return &[];
        }
        let frame = self.frame_of(at);
        let Some(bytes) = self.decoded[frame].get() else {
            return &[];
        };
        self.at.set(self.end(frame));
        &bytes[at - self.start(frame)..]
    }

    /// Fills `out` with the next `out.len()` bytes; `false` if fewer are
    /// left or a frame could not be decompressed (see
    /// [`Frames::failure`]). Frames wholly inside it are decompressed
    /// straight into it, on up to `workers` threads.
    pub(crate) fn fill(&self, out: &mut [MaybeUninit<u8>]) -> bool {
        let at = self.at.get();
        let Some(end) = at.checked_add(out.len()).filter(|&end| end <= self.len()) else {
            return false;
        };
        if out.is_empty() {
            return true;
        }
        // Every part of `out` is reached from this one pointer, so that
        // the regions handed to threads stay valid while others are
        // written here.
        let base = out.as_mut_ptr().cast::<u8>();
        let mut direct = Vec::new();
        for frame in self.frame_of(at)..=self.frame_of(end - 1) {
            let (start, stop) = (self.start(frame), self.end(frame));
            let (from, upto) = (start.max(at), stop.min(end));
            // SAFETY: `from - at..upto - at` lies within `out` (`at <= from
            // < upto <= end`), and the parts of different frames do not
            // overlap.
            let part = unsafe { base.add(from - at) };
            if self.decoded[frame].get().is_none() && from == start && upto == stop {
                direct.push((
                    self.frames[frame].0,
                    Region {
                        ptr: part,
                        len: upto - from,
                        filled: 0,
                    },
                ));
                continue;
            }
            let Some(bytes) = self.decoded(frame) else {
                return false;
            };
            let source = &bytes[from - start..upto - start];
            // SAFETY: `part` has room for `source.len()` (`upto - from`)
            // bytes, and the frame's bytes are not `out`.
            unsafe { std::ptr::copy_nonoverlapping(source.as_ptr(), part, source.len()) };
        }
        if let Err(reason) = decompress_all(&mut direct, self.workers) {
            self.fail(reason);
            return false;
        }
        self.at.set(end);
        true
    }

    /// A frame's bytes, decompressed now if they were not, with the
    /// frames after it that are not yet, `workers` in all.
    fn decoded(&self, frame: usize) -> Option<&[u8]> {
        if let Some(bytes) = self.decoded[frame].get() {
            return Some(bytes);
        }
        let batch: Vec<usize> = (frame..self.decoded.len())
            .filter(|&next| self.decoded[next].get().is_none())
            .take(self.workers)
            .collect();
        let mut buffers: Vec<Vec<u8>> = batch
            .iter()
            .map(|&next| {
                let len = self.end(next) - self.start(next);
                let mut buffer = Vec::with_capacity(len);
                super::prefault::for_writing(buffer.as_mut_ptr(), len);
                buffer
            })
            .collect();
        let mut jobs: Vec<(&[u8], Region)> = batch
            .iter()
            .zip(&mut buffers)
            .map(|(&next, buffer)| {
                let len = self.end(next) - self.start(next);
                (
                    self.frames[next].0,
                    Region::new(&mut buffer.spare_capacity_mut()[..len]),
                )
            })
            .collect();
        if let Err(reason) = decompress_all(&mut jobs, self.workers) {
            self.fail(reason);
            return None;
        }
        drop(jobs);
        for (&next, mut buffer) in batch.iter().zip(buffers) {
            // SAFETY: `decompress_all` filled each region whole, and each
            // region is the first `len` bytes of its buffer's capacity.
            unsafe { buffer.set_len(self.end(next) - self.start(next)) };
            let _ = self.decoded[next].set(buffer.into_boxed_slice());
        }
        self.decoded[frame].get().map(|bytes| &bytes[..])
    }

    fn fail(&self, reason: String) {
        self.failure.borrow_mut().get_or_insert(reason);
    }
}

/// Decompresses each frame into its region, which it must fill exactly, on
/// up to `workers` threads (runs of consecutive jobs each).
fn decompress_all(jobs: &mut [(&[u8], Region)], workers: usize) -> Result<(), String> {
    if jobs.is_empty() {
        return Ok(());
    }
    let per_worker = jobs.len().div_ceil(workers.max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
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
    })
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
    /// The memory of `part`, to be written by zstd.
    fn new(part: &mut [MaybeUninit<u8>]) -> Region {
        Region {
            ptr: part.as_mut_ptr().cast(),
            len: part.len(),
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

    /// All of a stream's bytes, filled in one go.
    fn fill_all(frames: &Frames) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(frames.remaining());
        let len = frames.remaining();
        frames.fill(&mut out.spare_capacity_mut()[..len]).then(|| {
            // SAFETY: `fill` wrote all `len` bytes.
            unsafe { out.set_len(len) };
            out
        })
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
                match Frames::new(payload, len, workers) {
                    Some(frames) => {
                        assert_eq!(fill_all(&frames).expect("frames"), raw);
                        assert_eq!(frames.remaining(), 0);
                    }
                    None => assert!(len < FRAMES_FROM, "one frame is left to the stream"),
                }
            }
        }
    }

    #[test]
    fn takes_and_fills_in_any_order_read_the_stream_in_order() {
        let raw = sample(FRAMES_FROM + FRAME + 1000);
        let mut payload = Vec::new();
        compress_into(&raw, 1, 2, &mut payload).expect("compress");
        for workers in [1, 2, 4] {
            let frames = Frames::new(&payload, raw.len(), workers).expect("frames");
            let mut read = Vec::new();
            // A few bytes, a run across a boundary (decompressed for the
            // take and kept), a fill that starts mid-frame and ends in
            // another, a take of nothing, and the rest filled.
            read.extend_from_slice(frames.take(3).expect("take"));
            let across = frames.take(FRAME).expect("take across a boundary");
            assert_eq!(across, &raw[3..3 + FRAME]);
            read.extend_from_slice(across);
            let mut middle = vec![MaybeUninit::new(0_u8); FRAME + 17];
            assert!(frames.fill(&mut middle));
            // SAFETY: filled whole.
            read.extend(middle.iter().map(|byte| unsafe { byte.assume_init() }));
            assert_eq!(frames.take(0), Some(&[][..]));
            read.extend(fill_all(&frames).expect("the rest"));
            assert_eq!(read, raw);
            // Past the end: refused, and nothing more is read.
            assert_eq!(frames.take(1), None);
            assert!(!frames.fill(&mut [MaybeUninit::new(0)]));
            assert_eq!(frames.failure(), None);
        }
    }

    #[test]
    fn frames_that_disagree_with_the_size_are_refused() {
        let raw = sample(FRAMES_FROM + 10);
        let mut out = Vec::new();
        compress_into(&raw, 1, 2, &mut out).expect("compress");
        // Another total than the header's: not decoded as frames.
        assert!(Frames::new(&out, raw.len() + 1, 2).is_none());
        // A cut payload is no series of whole frames. (Damaged bytes are
        // the file checksum's to catch, before any decompression.)
        assert!(Frames::new(&out[..out.len() - 1], raw.len(), 2).is_none());
    }

    /// A zstd frame of one raw block holding `content`, declaring
    /// `declared` bytes (RFC 8878: single segment, a 1-byte content size).
    fn raw_frame(declared: u8, content: &[u8]) -> Vec<u8> {
        let block = (content.len() as u32) << 3 | 1; // raw, last block
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x20, declared];
        frame.extend_from_slice(&block.to_le_bytes()[..3]);
        frame.extend_from_slice(content);
        frame
    }

    #[test]
    fn a_frame_that_lies_about_its_size_is_a_failure_with_the_reason() {
        let good = [raw_frame(5, b"hello"), raw_frame(3, b"abc")].concat();
        let frames = Frames::new(&good, 8, 2).expect("frames");
        assert_eq!(fill_all(&frames).expect("fill"), b"helloabc");

        let lying = [raw_frame(10, b"hello"), raw_frame(3, b"abc")].concat();
        for read in [
            |frames: &Frames| fill_all(frames).is_some(),
            |frames: &Frames| frames.take(1).is_some(),
        ] {
            let frames = Frames::new(&lying, 13, 2).expect("frame headers");
            assert!(!read(&frames), "read a frame that lies");
            let reason = frames.failure().expect("a reason");
            assert!(!reason.is_empty(), "{reason}");
        }
    }
}
