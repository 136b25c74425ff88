//! Decoding a state from its bytes, with the arrays of plain numbers in it
//! restored by one copy each.
//!
//! serde restores a `Vec<f64>` one element at a time, into a vector it
//! grows as it goes: for 32 M doubles that was most of a restore. The bytes
//! postcard stores for such a vector are its length and then the elements'
//! little-endian bytes, exactly the vector's memory on a little-endian
//! machine. So a `Vec` of `f64`, `f32`, `u8` or `i8` (every bit pattern of
//! which is a valid value, and which postcard stores at a fixed width) is
//! read here by allocating it once at its length, faulting its memory in
//! with one system call (`prefault.rs`) and copying its bytes in, or
//! decompressing them straight into it ([`Frames::fill`]). That is done for
//! the state as a whole (`Checkpoint::restore::<Vec<f64>>`) and for each
//! `#[state]` local the macro restores ([`state_field`]); a vector deeper
//! inside a user's type goes through serde element by element. The bytes
//! on disk are the same either way.
//!
//! The decoder is postcard's, over a flavor ([`Shared`]) that reads a
//! [`Source`] also reachable from [`state_field`] while a decode runs on
//! this thread: that is how a field reads its bytes past the deserializer
//! serde hands it.

use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};

use postcard::de_flavors::Flavor;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use super::compress::Frames;

/// The bytes of a state, decompressed or not.
pub(crate) enum Source<'a> {
    /// All of them, in memory (or mapped).
    Slice(Cell<&'a [u8]>),
    /// Independent zstd frames, decompressed as they are read.
    Frames(Frames<'a>),
}

impl<'a> Source<'a> {
    pub(crate) fn slice(bytes: &'a [u8]) -> Source<'a> {
        Source::Slice(Cell::new(bytes))
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        match self {
            Source::Slice(rest) => rest.get().len(),
            Source::Frames(frames) => frames.remaining(),
        }
    }

    fn take(&self, count: usize) -> postcard::Result<&[u8]> {
        let taken = match self {
            Source::Slice(rest) => rest.get().split_at_checked(count).map(|(taken, after)| {
                rest.set(after);
                taken
            }),
            Source::Frames(frames) => frames.take(count),
        };
        taken.ok_or(postcard::Error::DeserializeUnexpectedEnd)
    }

    /// Fills `out` with the next `out.len()` bytes.
    fn fill(&self, out: &mut [MaybeUninit<u8>]) -> postcard::Result<()> {
        let filled = match self {
            Source::Slice(rest) => rest
                .get()
                .split_at_checked(out.len())
                .map(|(taken, after)| {
                    // SAFETY: `out` has room for `taken.len()` bytes and is
                    // not part of the source.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            taken.as_ptr(),
                            out.as_mut_ptr().cast::<u8>(),
                            taken.len(),
                        );
                    }
                    rest.set(after);
                }),
            Source::Frames(frames) => frames.fill(out).then_some(()),
        };
        filled.ok_or(postcard::Error::DeserializeUnexpectedEnd)
    }
}

/// Decodes a `S` from `source`, leaving the cursor after it.
pub(crate) fn decode<S: DeserializeOwned>(source: &Source<'_>) -> postcard::Result<S> {
    if let Some(state) = vec_of_plain::<S>(source) {
        return state;
    }
    let _active = Active::enter(source);
    let mut deserializer = Decoder::from_flavor(Shared { source });
    S::deserialize(&mut deserializer)
}

/// Decodes a `S` from the start of `bytes`; returns it and the bytes after
/// it. The same result and errors as `postcard::take_from_bytes`.
pub(crate) fn take_from_bytes<S: DeserializeOwned>(bytes: &[u8]) -> postcard::Result<(S, &[u8])> {
    let source = Source::slice(bytes);
    let state = decode::<S>(&source)?;
    let used = bytes.len() - source.remaining();
    Ok((state, &bytes[used..]))
}

/// Deserializes one field of the state the macro saves, an `Option<P>`:
/// in one copy when `P` is a vector of plain numbers and the deserializer
/// is a restore's, through serde otherwise.
#[doc(hidden)]
pub fn state_field<'de, D, P>(deserializer: D) -> Result<Option<P>, D::Error>
where
    D: Deserializer<'de>,
    P: Deserialize<'de>,
{
    match read_through::<D, P>() {
        Some(source) => read_option::<P>(source).map_err(D::Error::custom),
        None => Option::<P>::deserialize(deserializer),
    }
}

/// Restores a `Vec<f64>`, `Vec<f32>`, `Vec<u8>` or `Vec<i8>` field of
/// your own state type in one copy, as a `#[state]` local of those types
/// is restored, instead of one element at a time through serde (about
/// twice as long for a large vector). Put it on the field:
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Grid {
///     #[serde(deserialize_with = "checkpoint_core::vec_in_one_copy")]
///     cells: Vec<f64>,
///     width: usize,
/// }
///
/// # let dir = tempfile::tempdir()?;
/// let grid = Grid { cells: vec![0.5; 1 << 16], width: 256 };
/// let mut run = checkpoint_core::Checkpoint::builder("grid").dir(&dir).open()?;
/// run.save(&grid)?;
/// run.flush()?;
/// assert_eq!(run.restore::<Grid>()?, Some(grid));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The bytes saved are the same with or without it, so adding it to a
/// running job's code keeps its checkpoints. Read by any other
/// deserializer (JSON, say), or on a field of another type, it is serde's
/// own `Deserialize`.
pub fn vec_in_one_copy<'de, D, P>(deserializer: D) -> Result<P, D::Error>
where
    D: Deserializer<'de>,
    P: Deserialize<'de>,
{
    match read_through::<D, P>() {
        Some(source) => vec_of_plain::<P>(source)
            .expect("read_through checked that P is a vector of plain numbers")
            .map_err(D::Error::custom),
        None => P::deserialize(deserializer),
    }
}

/// The source a `P` is to be read from in one copy: when `P` is a vector
/// of plain numbers and `D` is the deserializer of a restore's [`decode`].
fn read_through<'x, D, P>() -> Option<&'x Source<'x>> {
    if !is_plain_vec::<P>() || typeid::of::<D>() != typeid::of::<&mut Decoder<'static, 'static>>() {
        return None;
    }
    // SAFETY: `D` is this module's deserializer, which exists only inside
    // `decode`, whose source is the active one (a decode nested in it
    // would have ended before this one goes on). The callers read through
    // it at once and keep nothing read.
    unsafe { Active::current() }
}

/// postcard's deserializer over [`Shared`].
type Decoder<'de, 's> = postcard::Deserializer<'de, Shared<'de, 's>>;

/// A postcard flavor reading a [`Source`] that [`state_field`] can read
/// from too.
pub(crate) struct Shared<'de, 's> {
    source: &'de Source<'s>,
}

impl<'de, 's: 'de> Flavor<'de> for Shared<'de, 's> {
    type Remainder = usize;
    type Source = &'de Source<'s>;

    #[inline]
    fn pop(&mut self) -> postcard::Result<u8> {
        self.source.take(1).map(|byte| byte[0])
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        Some(self.source.remaining())
    }

    #[inline]
    fn try_take_n(&mut self, count: usize) -> postcard::Result<&'de [u8]> {
        self.source.take(count)
    }

    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.source.remaining())
    }
}

thread_local! {
    /// The source of the decode running on this thread, if any.
    static ACTIVE: Cell<*const Source<'static>> = const { Cell::new(std::ptr::null()) };
}

/// Marks a source as this thread's active one until dropped, then puts
/// back the one before (a decode inside a decode).
struct Active<'a> {
    previous: *const Source<'static>,
    _source: PhantomData<&'a Source<'a>>,
}

impl<'a> Active<'a> {
    fn enter(source: &'a Source<'_>) -> Active<'a> {
        let pointer = std::ptr::from_ref(source).cast::<Source<'static>>();
        Active {
            previous: ACTIVE.replace(pointer),
            _source: PhantomData,
        }
    }

    /// The active source.
    ///
    /// # Safety
    ///
    /// The caller must not keep the reference, or bytes read through it,
    /// past the decode it belongs to: both really live only as long as
    /// that decode's [`decode`] call.
    unsafe fn current<'x>() -> Option<&'x Source<'x>> {
        let pointer = ACTIVE.get().cast::<Source<'x>>();
        // SAFETY: a non-null pointer is the source of a decode running on
        // this thread (`Active` resets it when that decode ends).
        unsafe { pointer.as_ref() }
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        ACTIVE.set(self.previous);
    }
}

/// A number every bit pattern of which is a value, stored by postcard as
/// its little-endian bytes at a fixed width.
trait Plain: Copy + 'static {
    /// The number whose little-endian bytes this one holds in memory.
    fn little_endian(self) -> Self;
}

impl Plain for f64 {
    fn little_endian(self) -> Self {
        f64::from_bits(u64::from_le(self.to_bits()))
    }
}

impl Plain for f32 {
    fn little_endian(self) -> Self {
        f32::from_bits(u32::from_le(self.to_bits()))
    }
}

impl Plain for u8 {
    fn little_endian(self) -> Self {
        self
    }
}

impl Plain for i8 {
    fn little_endian(self) -> Self {
        self
    }
}

fn is_plain_vec<P>() -> bool {
    let id = typeid::of::<P>();
    id == typeid::of::<Vec<f64>>()
        || id == typeid::of::<Vec<f32>>()
        || id == typeid::of::<Vec<u8>>()
        || id == typeid::of::<Vec<i8>>()
}

/// `P` read in one copy from `source`, if it is a vector of plain numbers.
fn vec_of_plain<P>(source: &Source<'_>) -> Option<postcard::Result<P>> {
    fn read_as<T: Plain, P>(source: &Source<'_>) -> Option<postcard::Result<P>> {
        (typeid::of::<P>() == typeid::of::<Vec<T>>())
            .then(|| read_vec::<T>(source).map(same::<Vec<T>, P>))
    }
    read_as::<f64, P>(source)
        .or_else(|| read_as::<f32, P>(source))
        .or_else(|| read_as::<u8, P>(source))
        .or_else(|| read_as::<i8, P>(source))
}

/// An `Option<P>` as postcard stores it (a tag byte 0 or 1, then the
/// value), `P` a vector of plain numbers.
fn read_option<P>(source: &Source<'_>) -> postcard::Result<Option<P>> {
    match source.take(1)?[0] {
        0 => Ok(None),
        1 => vec_of_plain::<P>(source)
            .expect("called for vectors of plain numbers only")
            .map(Some),
        _ => Err(postcard::Error::DeserializeBadOption),
    }
}

/// A `Vec<T>` as postcard stores it: its length as a varint (read by
/// postcard itself), then each element's little-endian bytes. Allocated
/// once, at its length, which the bytes left must hold (so a damaged
/// length cannot ask for more memory than the state has).
fn read_vec<T: Plain>(source: &Source<'_>) -> postcard::Result<Vec<T>> {
    let len = u64::deserialize(&mut Decoder::from_flavor(Shared { source }))?;
    let size = usize::try_from(len)
        .ok()
        .and_then(|len| len.checked_mul(size_of::<T>()))
        .filter(|&size| size <= source.remaining())
        .ok_or(postcard::Error::DeserializeUnexpectedEnd)?;
    let len = size / size_of::<T>();
    let mut vec = Vec::<T>::with_capacity(len);
    super::prefault::for_writing(vec.as_mut_ptr().cast(), size);
    let spare = vec.spare_capacity_mut();
    // SAFETY: the first `size` bytes of the vector's spare capacity, which
    // holds at least `len` elements of `size_of::<T>()` bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(spare.as_mut_ptr().cast::<MaybeUninit<u8>>(), size)
    };
    source.fill(bytes)?;
    // SAFETY: `fill` wrote all `len` elements' bytes, and every bit
    // pattern is a `T` (`Plain`).
    unsafe { vec.set_len(len) };
    if cfg!(target_endian = "big") {
        vec.iter_mut()
            .for_each(|element| *element = element.little_endian());
    }
    Ok(vec)
}

/// `value` as `B`, which is `A`.
fn same<A, B>(value: A) -> B {
    assert!(typeid::of::<A>() == typeid::of::<B>(), "the same type");
    let value = ManuallyDrop::new(value);
    // SAFETY: `A` and `B` are the same type (their ids are equal, and `A`
    // here is always a `Vec` of a 'static number, so the ids tell types
    // apart), so this moves the value out once.
    unsafe { std::mem::transmute_copy::<A, B>(&value) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    /// The macro's state for two locals, as it derives it.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(bound(deserialize = "A: Deserialize<'de>, B: Deserialize<'de>"))]
    struct Fields<A, B> {
        #[serde(deserialize_with = "state_field")]
        a: Option<A>,
        #[serde(deserialize_with = "state_field")]
        b: Option<B>,
    }

    fn both_ways<S>(value: &S)
    where
        S: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let mut bytes = postcard::to_allocvec(value).expect("encode");
        bytes.extend_from_slice(&[7, 7]);
        let (ours, rest) = take_from_bytes::<S>(&bytes).expect("ours");
        let (serdes, serde_rest) = postcard::take_from_bytes::<S>(&bytes).expect("postcard");
        assert_eq!(&ours, value);
        assert_eq!(ours, serdes);
        assert_eq!(rest, serde_rest);
        assert_eq!(rest, &[7, 7]);
    }

    #[test]
    fn vectors_of_plain_numbers_restore_exactly_as_serde_restores_them() {
        let doubles: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.1 - 3.0).collect();
        both_ways(&doubles);
        both_ways(&vec![
            f64::NEG_INFINITY,
            -0.0,
            f64::INFINITY,
            f64::MIN_POSITIVE / 2.0,
        ]);
        both_ways(&vec![1.5_f32, -2.25]);
        both_ways(&(0..=255_u8).collect::<Vec<_>>());
        both_ways(&vec![-128_i8, 0, 127]);
        both_ways(&Vec::<f64>::new());
        both_ways(&Fields {
            a: Some(doubles.clone()),
            b: Some(vec![3_u64, 1 << 40]),
        });
        both_ways(&Fields::<Vec<f32>, Vec<i8>> {
            a: None,
            b: Some(vec![-1]),
        });
        // Not vectors of plain numbers: serde's way.
        both_ways(&Fields {
            a: Some(vec![vec![1.0_f64]]),
            b: Some("text".to_owned()),
        });
    }

    #[test]
    fn a_field_marked_vec_in_one_copy_restores_as_serde_restores_it() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Grid {
            #[serde(deserialize_with = "vec_in_one_copy")]
            cells: Vec<f32>,
            #[serde(deserialize_with = "vec_in_one_copy")]
            name: String,
            #[serde(deserialize_with = "vec_in_one_copy")]
            mask: Vec<u8>,
        }
        let grid = Grid {
            cells: vec![0.25; 3000],
            name: "g".to_owned(),
            mask: vec![1, 0, 1],
        };
        both_ways(&grid);
        both_ways(&vec![grid]);
        both_ways(&Fields {
            a: Some(Grid {
                cells: vec![],
                name: String::new(),
                mask: vec![255],
            }),
            b: Some(vec![2.0_f64]),
        });
    }

    #[test]
    fn a_nan_keeps_its_bits() {
        let odd = f64::from_bits(0x7ff8_dead_beef_0001);
        let bytes = postcard::to_allocvec(&vec![odd]).expect("encode");
        let (back, _) = take_from_bytes::<Vec<f64>>(&bytes).expect("decode");
        assert_eq!(back[0].to_bits(), odd.to_bits());
    }

    #[test]
    fn a_length_past_the_bytes_is_refused_before_allocating() {
        // A length of 2^60 doubles with 8 bytes after it.
        let mut bytes = postcard::to_allocvec(&(1_u64 << 60)).expect("encode");
        bytes.extend_from_slice(&[0; 8]);
        assert!(matches!(
            take_from_bytes::<Vec<f64>>(&bytes),
            Err(postcard::Error::DeserializeUnexpectedEnd)
        ));
        let mut field = vec![0_u8, 1];
        field.extend_from_slice(&bytes);
        assert!(take_from_bytes::<Fields<Vec<u8>, Vec<f64>>>(&field).is_err());
        // A bad option tag.
        assert!(take_from_bytes::<Fields<Vec<u8>, Vec<f64>>>(&[2, 0]).is_err());
    }

    #[test]
    fn a_field_read_by_another_deserializer_goes_through_serde() {
        // Inside one of our decodes, a user's type decodes bytes of its own
        // with postcard's plain deserializer: those must not be read from
        // our cursor.
        #[derive(Debug, PartialEq)]
        struct Nested(Fields<Vec<f64>, Vec<u8>>);
        impl Serialize for Nested {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                postcard::to_allocvec(&self.0)
                    .map_err(serde::ser::Error::custom)?
                    .serialize(s)
            }
        }
        impl<'de> Deserialize<'de> for Nested {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let inner = Vec::<u8>::deserialize(d)?;
                postcard::from_bytes(&inner)
                    .map(Nested)
                    .map_err(D::Error::custom)
            }
        }
        // And a decode of ours inside ours: each reads its own bytes.
        #[derive(Debug, PartialEq)]
        struct Ours(Fields<Vec<f64>, Vec<u8>>);
        impl Serialize for Ours {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                Nested(Fields {
                    a: self.0.a.clone(),
                    b: self.0.b.clone(),
                })
                .serialize(s)
            }
        }
        impl<'de> Deserialize<'de> for Ours {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let inner = Vec::<u8>::deserialize(d)?;
                take_from_bytes(&inner)
                    .map(|(fields, _)| Ours(fields))
                    .map_err(D::Error::custom)
            }
        }
        both_ways(&Fields {
            a: Some(Ours(Fields {
                a: Some(vec![0.5, 7.0]),
                b: Some(vec![4, 2]),
            })),
            b: Some(vec![-1.0_f64]),
        });
        both_ways(&Fields {
            a: Some(Nested(Fields {
                a: Some(vec![2.5]),
                b: Some(vec![9]),
            })),
            b: Some(vec![1.0_f64, 2.0]),
        });
    }
}
