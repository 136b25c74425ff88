//! Memory a restore is about to fill, faulted in ahead by one system call.
//!
//! A restore writes every byte of a large buffer it has just allocated (a
//! decompressed payload, a restored `Vec<f64>`). Touched one 4 KiB page at
//! a time, that memory costs a page fault per page: for 256 MiB, about
//! twice the copy itself on the machine the benchmarks ran on.
//! `madvise(MADV_POPULATE_WRITE)` (Linux 5.14) maps the whole range in one
//! call instead. It only changes when the pages are mapped, never what
//! they hold; where it is not available, the pages fault in as before.

/// Buffers smaller than this are left to fault in: the call would cost
/// more than it saves.
const FROM: usize = 1 << 20;

/// Maps in the whole pages of `len` bytes at `start`, which the caller is
/// about to write.
pub(crate) fn for_writing(start: *mut u8, len: usize) {
    if len < FROM {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let page = 4096;
        let first = (start as usize).next_multiple_of(page);
        let end = (start as usize + len) / page * page;
        if end > first {
            // SAFETY: the range lies inside an allocation the caller owns;
            // MADV_POPULATE_WRITE faults its pages in as a write to them
            // would, without changing their contents. Failure (an older
            // kernel) is harmless: the pages fault in when written.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    end - first,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = start;
}
