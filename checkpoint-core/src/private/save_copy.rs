//! The copy of a `#[state]` local that a save serializes.
//!
//! A save point hands the save the state it writes. Were that a reference
//! to the local itself, the local's address would escape into the save (a
//! call the optimizer does not see into), and from there on the optimizer
//! must assume that any call, or any store through a pointer, may change
//! the local: it keeps the local in memory through the whole loop and loads
//! it again after every store. In a loop body of a few nanoseconds (a
//! Metropolis step that reads a lattice's pointer and length), those loads
//! are the cost of being checkpointed. A bitwise copy made at the save
//! point escapes instead, and the local itself stays in registers, as in
//! the loop without checkpoints.
//!
//! The copy is a snapshot, not a second owner: it is never dropped, it
//! lives only while the save runs, and it holds the local borrowed, so the
//! local neither changes nor goes away meanwhile. It reads what the local
//! holds, heap buffers included, which it shares, as a shared reference
//! would. The generated code reads:
//!
//! ```text
//! let mut __checkpoint_slot_0 = SaveSlot::new();
//! let __checkpoint_copy_0 = __checkpoint_slot_0.copy(&rng);
//! run.save(.., &State { rng: Some(__checkpoint_copy_0.get()), .. });
//! ```

use std::marker::PhantomData;
use std::mem::{MaybeUninit, align_of, size_of};
use std::ptr::{self, NonNull};

/// How many bytes of a local a [`SaveSlot`] holds; a larger local (an array
/// held by value) is copied to the heap, so that the function's frame does
/// not grow by its size.
const SLOT_BYTES: usize = 1024;

/// Room on the stack for the copy of one small local, uninitialized until
/// [`SaveSlot::copy`] fills it.
pub struct SaveSlot(MaybeUninit<SlotBytes>);

/// The bytes of a slot, aligned as the stack already is, so that a slot
/// does not make the function realign its frame.
#[repr(C, align(16))]
pub struct SlotBytes([u8; SLOT_BYTES]);

impl SaveSlot {
    /// An empty slot.
    #[inline(always)]
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self(MaybeUninit::uninit())
    }

    /// Copies `local`'s bytes into this slot, or to the heap when they do
    /// not fit.
    #[inline(always)]
    pub fn copy<'slot, 'local, T>(&'slot mut self, local: &'local T) -> SaveCopy<'slot, 'local, T> {
        let source = ptr::from_ref(local);
        let (copy, heap) =
            if size_of::<T>() <= SLOT_BYTES && align_of::<T>() <= align_of::<SlotBytes>() {
                let slot = self.0.as_mut_ptr().cast::<T>();
                // SAFETY: the slot has room for a `T` and is aligned for one
                // (checked above), and it is not `local`.
                unsafe { ptr::copy_nonoverlapping(source, slot, 1) };
                (slot, None)
            } else {
                let mut boxed = Box::<T>::new_uninit();
                // SAFETY: the box holds room for one `T`, apart from `local`.
                unsafe { ptr::copy_nonoverlapping(source, boxed.as_mut_ptr(), 1) };
                (boxed.as_mut_ptr(), Some(boxed))
            };
        SaveCopy {
            // SAFETY: `copy` points into the slot or the box: not null.
            copy: unsafe { NonNull::new_unchecked(copy) },
            _heap: heap,
            _slot: PhantomData,
            _local: PhantomData,
        }
    }
}

/// The copy of a `#[state]` local for one save: in its [`SaveSlot`] or on
/// the heap. It holds the slot borrowed mutably and the local borrowed (as
/// lifetimes, not as pointers the optimizer sees), so neither can change
/// while the copy is read.
pub struct SaveCopy<'slot, 'local, T> {
    copy: NonNull<T>,
    /// The heap copy of a large local: freed with the copy, never dropped
    /// as a `T` (`MaybeUninit` has no drop glue).
    _heap: Option<Box<MaybeUninit<T>>>,
    _slot: PhantomData<&'slot mut SaveSlot>,
    _local: PhantomData<&'local T>,
}

impl<T> SaveCopy<'_, '_, T> {
    /// The copy, for the save to read.
    #[inline(always)]
    pub fn get(&self) -> &T {
        // SAFETY: `copy` holds the bytes of a live `T`, aligned for it; the
        // local they came from stays borrowed as long as the copy lives, so
        // it neither changes nor is dropped meanwhile, and every pointer
        // inside the copy is as valid as in the local. The copy itself is
        // never dropped, so nothing it points to is freed twice.
        unsafe { self.copy.as_ref() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small local is copied into its slot, a large one to the heap, and
    /// either copy reads what the local holds, heap buffers included; the
    /// local is untouched afterwards, its buffers freed once (by the local).
    #[test]
    fn a_copy_reads_what_the_local_holds_whatever_its_size() {
        let small = (vec![1.5_f64, 2.5], String::from("lattice"), 7_u8);
        let mut slot = SaveSlot::new();
        let copy = slot.copy(&small);
        assert_eq!(copy.get(), &small);
        assert!(copy._heap.is_none(), "a small local stays on the stack");
        drop(copy);

        let large = [[3_u64; 32]; 16]; // 4 KiB: more than a slot holds
        let boxed = vec![large; 2];
        let mut slot = SaveSlot::new();
        let copy = slot.copy(&large);
        assert_eq!(copy.get(), &large);
        assert!(copy._heap.is_some(), "a large local goes to the heap");
        drop(copy);

        let mut slot = SaveSlot::new();
        let copy = slot.copy(&boxed);
        assert_eq!(copy.get(), &boxed);
        drop(copy);
        assert_eq!(small.1, "lattice");
        assert_eq!(boxed.len(), 2);
    }

    /// An over-aligned local (more than the slot's 16 bytes) goes to the
    /// heap, aligned.
    #[test]
    fn an_over_aligned_local_is_copied_aligned() {
        #[repr(align(64))]
        #[derive(Debug, PartialEq)]
        struct Line([u8; 64]);
        let line = Line([9; 64]);
        let mut slot = SaveSlot::new();
        let copy = slot.copy(&line);
        assert_eq!(copy.get(), &line);
        assert_eq!(ptr::from_ref(copy.get()).addr() % 64, 0);
    }
}
