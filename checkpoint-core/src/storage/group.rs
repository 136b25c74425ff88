//! The ranks of an MPI job that share one checkpoint: every rank saves its
//! own part, and a generation is whole only once all of them are durable
//! ([`super::commit`]). What the storage and the run need from MPI is
//! small, so it is a trait: the `mpi` feature implements it over any
//! communicator of the `mpi` crate, and nothing else in the library names
//! MPI.
//!
//! Every operation is a collective: each rank of the group calls the same
//! ones in the same order, from the thread that called the checkpointed
//! function (the MPI library may allow no other).

/// One rank's view of its group.
pub(crate) trait Collective {
    /// This rank, `0..size`.
    fn rank(&self) -> usize;
    /// How many ranks the group has.
    fn size(&self) -> usize;
    /// The element-wise maximum of `values` over every rank, in place.
    fn max(&self, values: &mut [u64]);
    /// Every rank's `values` (all of the same length), in rank order, at
    /// rank 0; empty on the others.
    fn gather(&self, values: &[u64]) -> Vec<u64>;
    /// Rank 0's `bytes`, on every rank (the others' are replaced).
    fn broadcast(&self, bytes: &mut Vec<u8>);
    /// Frees the group and ends MPI on this rank, before the process exits
    /// on a signal: every rank stops at the same save, so all of them get
    /// here.
    fn finalize(self: Box<Self>);
}

/// The group a run is checkpointed across: a duplicate of the user's
/// communicator, so that the library's messages never meet the program's.
pub struct Group(Box<dyn Collective + Send>, std::cell::Cell<u64>);

/// Where a rank is when it agrees with the others: every rank must be at
/// the same one, at the same count of agreements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// Opening the run.
    Open,
    /// Choosing the commit to restore.
    Restore,
    /// A save point of a loop, at this loop position (a hash of it).
    Iteration(u64),
    /// Leaving the function, or stopping after a save.
    Stop,
}

impl At {
    fn code(self) -> u64 {
        match self {
            At::Open => 1,
            At::Restore => 2,
            At::Iteration(position) => 3 ^ position.rotate_left(7),
            At::Stop => 4,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            At::Open => "opening the run",
            At::Restore => "choosing the commit to resume from",
            At::Iteration(_) => "a save point of its loop",
            At::Stop => "the end of the function (or a stop after a save)",
        }
    }
}

/// The values an agreement carries at most.
const AGREED_WORDS: usize = 4;

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Group(rank {} of {})", self.rank(), self.size())
    }
}

impl Group {
    #[cfg_attr(
        not(any(feature = "mpi", test)),
        expect(dead_code, reason = "only the mpi feature and the tests make groups")
    )]
    pub(crate) fn new(collective: impl Collective + Send + 'static) -> Group {
        Group(Box::new(collective), std::cell::Cell::new(0))
    }

    /// The element-wise maximum of `values` (at most four) over every rank,
    /// checked to be an agreement every rank makes at the same point `at`,
    /// as its same how-manyth one. Every agreement has the same shape, so
    /// two ranks at different points still meet in one all-reduce and both
    /// learn it: an error on every rank rather than a job that hangs.
    pub(crate) fn agree(
        &self,
        at: At,
        values: &mut [u64],
        label: &str,
    ) -> crate::error::Result<()> {
        let count = self.1.get();
        self.1.set(count + 1);
        let tag = count
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(at.code().wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
        let mut words = [0_u64; 2 + AGREED_WORDS];
        words[0] = tag;
        // The largest complement is the complement of the smallest tag.
        words[1] = !tag;
        let len = values.len().min(AGREED_WORDS);
        words[2..2 + len].copy_from_slice(&values[..len]);
        self.0.max(&mut words);
        values[..len].copy_from_slice(&words[2..2 + len]);
        if words[0] == !words[1] {
            return Ok(());
        }
        Err(crate::error::Error::OtherRank(format!(
            "the {} ranks of {label} are not at the same point: this rank is at {} (its agreement number {}), and another rank is elsewhere, having left the loop or run a different number of its iterations; a function checkpointed with `comm` must run the same save-point iterations on every rank: loop over the same count on every rank (mark a loop whose length differs between ranks #[checkpoint(off)])",
            self.size(),
            at.describe(),
            count + 1
        )))
    }

    pub(crate) fn rank(&self) -> usize {
        self.0.rank()
    }

    pub(crate) fn size(&self) -> usize {
        self.0.size()
    }

    pub(crate) fn gather(&self, values: &[u64]) -> Vec<u64> {
        self.0.gather(values)
    }

    pub(crate) fn broadcast(&self, bytes: &mut Vec<u8>) {
        self.0.broadcast(bytes);
    }

    /// Rank 0's `words` (any number), on every rank.
    pub(crate) fn broadcast_words(&self, words: &[u64]) -> Vec<u64> {
        let mut bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
        self.0.broadcast(&mut bytes);
        bytes
            .chunks_exact(8)
            .filter_map(|chunk| Some(u64::from_le_bytes(chunk.try_into().ok()?)))
            .collect()
    }

    pub(crate) fn finalize(self) {
        self.0.finalize();
    }
}

/// Ranks as threads of one process, for the unit tests of the commit
/// protocol: each collective meets at a barrier over a shared board.
#[cfg(test)]
pub(crate) mod threads {
    use std::sync::{Arc, Barrier, Mutex, PoisonError};

    use super::{Collective, Group};

    struct Board {
        barrier: Barrier,
        words: Mutex<Vec<Vec<u64>>>,
        bytes: Mutex<Vec<u8>>,
    }

    struct Rank {
        rank: usize,
        size: usize,
        board: Arc<Board>,
    }

    /// `size` groups, one per rank; hand each to its own thread.
    pub(crate) fn groups(size: usize) -> Vec<Group> {
        let board = Arc::new(Board {
            barrier: Barrier::new(size),
            words: Mutex::new(vec![Vec::new(); size]),
            bytes: Mutex::new(Vec::new()),
        });
        (0..size)
            .map(|rank| {
                Group::new(Rank {
                    rank,
                    size,
                    board: Arc::clone(&board),
                })
            })
            .collect()
    }

    impl Rank {
        /// Every rank's `values`, once all of them have put theirs.
        fn exchange(&self, values: &[u64]) -> Vec<Vec<u64>> {
            self.board
                .words
                .lock()
                .unwrap_or_else(PoisonError::into_inner)[self.rank] = values.to_vec();
            self.board.barrier.wait();
            let all = self
                .board
                .words
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            self.board.barrier.wait();
            all
        }
    }

    impl Collective for Rank {
        fn rank(&self) -> usize {
            self.rank
        }

        fn size(&self) -> usize {
            self.size
        }

        fn max(&self, values: &mut [u64]) {
            for other in self.exchange(values) {
                for (value, theirs) in values.iter_mut().zip(other) {
                    *value = (*value).max(theirs);
                }
            }
        }

        fn gather(&self, values: &[u64]) -> Vec<u64> {
            let all = self.exchange(values);
            if self.rank == 0 {
                all.concat()
            } else {
                Vec::new()
            }
        }

        fn broadcast(&self, bytes: &mut Vec<u8>) {
            if self.rank == 0 {
                *self
                    .board
                    .bytes
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = bytes.clone();
            }
            self.board.barrier.wait();
            if self.rank != 0 {
                *bytes = self
                    .board
                    .bytes
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
            }
            self.board.barrier.wait();
        }

        fn finalize(self: Box<Self>) {}
    }
}

#[cfg(feature = "mpi")]
pub(crate) mod mpi {
    //! [`Collective`] over a communicator of the `mpi` crate.

    use mpi::collective::SystemOperation;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::{Communicator, CommunicatorCollectives, Root};

    use super::{Collective, Group};

    /// A communicator the library owns (a duplicate of the user's).
    struct Comm(SimpleCommunicator);

    // SAFETY: an MPI communicator handle is a plain handle that may be used
    // from any thread the MPI library allows. The library only moves it
    // (with the `Checkpoint` that owns it) and calls it from the thread
    // that called the checkpointed function, as the program's own calls
    // on its communicator are; it is never shared between threads (`Comm`
    // is not `Sync`).
    unsafe impl Send for Comm {}

    /// The group of the ranks of `comm`, duplicated (a collective call:
    /// every rank of `comm` makes it).
    pub(crate) fn group_of<C: Communicator + ?Sized>(comm: &C) -> Group {
        Group::new(Comm(comm.duplicate()))
    }

    fn usize_of(value: i32) -> usize {
        usize::try_from(value).unwrap_or(0)
    }

    impl Collective for Comm {
        fn rank(&self) -> usize {
            usize_of(self.0.rank())
        }

        fn size(&self) -> usize {
            usize_of(self.0.size())
        }

        /// A non-blocking all-reduce, waited for by polling with short
        /// sleeps: a rank that arrives first gives its core to the ranks
        /// still computing (with more ranks than cores, a blocking wait
        /// spins on the core a straggler needs), at the price of a few tens
        /// of microseconds per agreement.
        fn max(&self, values: &mut [u64]) {
            let send = values.to_vec();
            mpi::request::scope(|scope| {
                let mut request = self.0.immediate_all_reduce_into(
                    scope,
                    &send[..],
                    values,
                    SystemOperation::max(),
                );
                loop {
                    match request.test() {
                        Ok(_) => break,
                        Err(pending) => request = pending,
                    }
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
            });
        }

        fn gather(&self, values: &[u64]) -> Vec<u64> {
            let root = self.0.process_at_rank(0);
            if self.0.rank() == 0 {
                let mut all = vec![0_u64; values.len() * self.size()];
                root.gather_into_root(values, &mut all[..]);
                all
            } else {
                root.gather_into(values);
                Vec::new()
            }
        }

        fn broadcast(&self, bytes: &mut Vec<u8>) {
            let root = self.0.process_at_rank(0);
            let mut len = bytes.len() as u64;
            root.broadcast_into(&mut len);
            bytes.resize(usize::try_from(len).unwrap_or(0), 0);
            // Open MPI refuses an empty slice's dangling pointer.
            if !bytes.is_empty() {
                root.broadcast_into(&mut bytes[..]);
            }
        }

        fn finalize(self: Box<Self>) {
            // The duplicate is freed first: freeing it after would be an
            // MPI call after MPI_Finalize.
            drop(self);
            // SAFETY: MPI_Finalize takes no arguments; after it the process
            // exits without another MPI call.
            unsafe {
                mpi::ffi::MPI_Finalize();
            }
        }
    }
}
