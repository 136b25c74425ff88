//! Decoding a state from its bytes, with every vector of plain numbers in
//! it restored by one copy.
//!
//! serde restores a `Vec<f64>` one element at a time, into a vector it
//! grows as it goes: for 32 M doubles that was most of a restore. The bytes
//! postcard stores for such a vector are its length and then the elements'
//! little-endian bytes, exactly the vector's memory on a little-endian
//! machine. So a `Vec` of `f64`, `f32`, `u8` or `i8` (every bit pattern of
//! which is a valid value, and which postcard stores at a fixed width), or
//! of `[f64; N]` or `[f32; N]` for N from 2 to 4 (points and vectors in 2,
//! 3 or 4 dimensions, which postcard stores as their elements in order),
//! is read here by allocating it once at its length, faulting its memory in
//! with one system call (`prefault.rs`) and copying its bytes in, or
//! decompressing them straight into it ([`Frames::fill`]), wherever it is
//! in the state: the state itself, a field of a struct, an element of a
//! map or of another vector.
//!
//! That takes a deserializer of our own ([`Decoder`]). It reads postcard's
//! format by postcard's rules, with postcard's errors (the `tests` decode
//! every kind of value, whole, cut and damaged, with both and compare),
//! and recognizes, when serde asks it for a sequence, the visitor serde's
//! own `Deserialize for Vec<f64>` passes ([`plain_vec`]). Those visitors
//! are told apart by their type ids, learnt once by asking serde to
//! deserialize each vector type from a deserializer that only records the
//! visitor it is given ([`Probe`]). The bytes on disk are the same either
//! way.

use std::any::TypeId;
use std::cell::Cell;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::OnceLock;

use serde::Deserializer;
use serde::de::{
    DeserializeOwned, DeserializeSeed, EnumAccess, Error as _, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};

use super::compress::Frames;

/// The bytes of a state, decompressed or not.
pub(crate) enum Source<'a> {
    /// All of them, in memory (or mapped).
    Slice(&'a [u8]),
    /// Independent zstd frames, decompressed as they are read.
    Frames(Frames<'a>),
}

/// Decodes a `S` from `source`; returns it and how many bytes were left
/// after it.
pub(crate) fn decode<S: DeserializeOwned>(source: &Source<'_>) -> postcard::Result<(S, usize)> {
    let mut decoder = Decoder::new(source);
    let state = S::deserialize(&mut decoder)?;
    Ok((state, decoder.remaining()))
}

/// Decodes a `S` from the start of `bytes`; returns it and the bytes after
/// it. The same result and errors as `postcard::take_from_bytes`.
pub(crate) fn take_from_bytes<S: DeserializeOwned>(bytes: &[u8]) -> postcard::Result<(S, &[u8])> {
    let (state, left) = decode::<S>(&Source::Slice(bytes))?;
    Ok((state, &bytes[bytes.len() - left..]))
}

/// A serde deserializer of postcard's format (postcard 1's wire format,
/// read by the same rules and with the same errors as its deserializer),
/// that reads vectors of plain numbers in one copy.
///
/// It reads from `window`, bytes already at hand; when those run out, the
/// frames (if any) supply more. The frames' cursor is always at the end
/// of the window.
struct Decoder<'de> {
    window: &'de [u8],
    frames: Option<&'de Frames<'de>>,
}

/// postcard's error for bytes that end too soon.
const END: postcard::Error = postcard::Error::DeserializeUnexpectedEnd;

/// Reads a varint of an unsigned type as postcard does: 7 bits a byte,
/// least significant first, at most as many bytes as the type needs, the
/// last of them holding no bits beyond the type's.
macro_rules! varint {
    ($name:ident, $t:ty) => {
        #[inline]
        fn $name(&mut self) -> postcard::Result<$t> {
            const BITS: usize = <$t>::BITS as usize;
            const MAX_BYTES: usize = BITS.div_ceil(7);
            const LAST_MAX: u8 = (1 << (BITS % 7)) - 1;
            let mut value: $t = 0;
            // All its bytes at hand (the usual case): read them without
            // moving the window for each.
            if let Some(bytes) = self.window.get(..MAX_BYTES) {
                for (i, &byte) in bytes.iter().enumerate() {
                    value |= <$t>::from(byte & 0x7f) << (7 * i);
                    if byte & 0x80 == 0 {
                        self.window = &self.window[i + 1..];
                        return if i == MAX_BYTES - 1 && byte > LAST_MAX {
                            Err(postcard::Error::DeserializeBadVarint)
                        } else {
                            Ok(value)
                        };
                    }
                }
                return Err(postcard::Error::DeserializeBadVarint);
            }
            for i in 0..MAX_BYTES {
                let byte = self.pop()?;
                value |= <$t>::from(byte & 0x7f) << (7 * i);
                if byte & 0x80 == 0 {
                    return if i == MAX_BYTES - 1 && byte > LAST_MAX {
                        Err(postcard::Error::DeserializeBadVarint)
                    } else {
                        Ok(value)
                    };
                }
            }
            Err(postcard::Error::DeserializeBadVarint)
        }
    };
}

impl<'de> Decoder<'de> {
    fn new(source: &'de Source<'_>) -> Decoder<'de> {
        match source {
            Source::Slice(bytes) => Decoder {
                window: bytes,
                frames: None,
            },
            Source::Frames(frames) => Decoder {
                window: &[],
                frames: Some(frames),
            },
        }
    }

    /// Bytes not read yet.
    fn remaining(&self) -> usize {
        self.window.len() + self.frames.map_or(0, Frames::remaining)
    }

    #[inline]
    fn pop(&mut self) -> postcard::Result<u8> {
        if let [byte, rest @ ..] = self.window {
            self.window = rest;
            return Ok(*byte);
        }
        self.take_more(1).map(|byte| byte[0])
    }

    #[inline]
    fn take(&mut self, count: usize) -> postcard::Result<&'de [u8]> {
        match self.window.split_at_checked(count) {
            Some((taken, rest)) => {
                self.window = rest;
                Ok(taken)
            }
            None => self.take_more(count),
        }
    }

    /// The next `N` bytes.
    #[inline]
    fn array<const N: usize>(&mut self) -> postcard::Result<[u8; N]> {
        if let Some((bytes, rest)) = self.window.split_first_chunk::<N>() {
            self.window = rest;
            return Ok(*bytes);
        }
        let bytes = self.take_more(N)?;
        bytes.try_into().map_err(|_| END)
    }

    /// [`Decoder::take`] past the window: from the frames.
    #[cold]
    fn take_more(&mut self, count: usize) -> postcard::Result<&'de [u8]> {
        let frames = self.frames.ok_or(END)?;
        frames.rewind(self.window.len());
        self.window = &[];
        let taken = frames.take(count).ok_or(END)?;
        self.window = frames.decoded_rest();
        Ok(taken)
    }

    /// Fills `out` with the next `out.len()` bytes.
    fn fill(&mut self, out: &mut [MaybeUninit<u8>]) -> postcard::Result<()> {
        if let Some((taken, rest)) = self.window.split_at_checked(out.len()) {
            // SAFETY: `out` has room for `taken.len()` bytes and is not
            // part of the source.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    taken.as_ptr(),
                    out.as_mut_ptr().cast::<u8>(),
                    taken.len(),
                );
            }
            self.window = rest;
            return Ok(());
        }
        let frames = self.frames.ok_or(END)?;
        frames.rewind(self.window.len());
        self.window = &[];
        if !frames.fill(out) {
            return Err(END);
        }
        self.window = frames.decoded_rest();
        Ok(())
    }

    varint!(varint_u16, u16);
    varint!(varint_u32, u32);
    varint!(varint_u64, u64);
    varint!(varint_u128, u128);

    /// A length, as postcard stores a `usize`: a varint of the pointer's
    /// width.
    fn len(&mut self) -> postcard::Result<usize> {
        #[cfg(target_pointer_width = "64")]
        let len = self.varint_u64()?;
        #[cfg(not(target_pointer_width = "64"))]
        let len = self.varint_u32()?;
        usize::try_from(len).map_err(|_| postcard::Error::DeserializeBadVarint)
    }

    /// A length and that many bytes of UTF-8.
    fn text(&mut self) -> postcard::Result<&'de str> {
        std::str::from_utf8(self.take_sized()?).map_err(|_| postcard::Error::DeserializeBadUtf8)
    }

    /// A length and that many bytes.
    fn take_sized(&mut self) -> postcard::Result<&'de [u8]> {
        let len = self.len()?;
        self.take(len)
    }
}

impl<'de> Deserializer<'de> for &mut Decoder<'de> {
    type Error = postcard::Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    /// postcard's format does not describe itself.
    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> postcard::Result<V::Value> {
        Err(postcard::Error::WontImplement)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _visitor: V) -> postcard::Result<V::Value> {
        Err(postcard::Error::WontImplement)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> postcard::Result<V::Value> {
        Err(postcard::Error::WontImplement)
    }

    #[inline]
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        match self.pop()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => Err(postcard::Error::DeserializeBadBool),
        }
    }

    #[inline]
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_i8(self.pop()? as i8)
    }

    #[inline]
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_u8(self.pop()?)
    }

    // Signed integers are zigzag-encoded varints.
    #[inline]
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        let value = self.varint_u16()?;
        visitor.visit_i16((value >> 1) as i16 ^ -((value & 1) as i16))
    }

    #[inline]
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        let value = self.varint_u32()?;
        visitor.visit_i32((value >> 1) as i32 ^ -((value & 1) as i32))
    }

    #[inline]
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        let value = self.varint_u64()?;
        visitor.visit_i64((value >> 1) as i64 ^ -((value & 1) as i64))
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        let value = self.varint_u128()?;
        visitor.visit_i128((value >> 1) as i128 ^ -((value & 1) as i128))
    }

    #[inline]
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_u16(self.varint_u16()?)
    }

    #[inline]
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_u32(self.varint_u32()?)
    }

    #[inline]
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_u64(self.varint_u64()?)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_u128(self.varint_u128()?)
    }

    #[inline]
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_f32(f32::from_le_bytes(self.array()?))
    }

    #[inline]
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_f64(f64::from_le_bytes(self.array()?))
    }

    /// A char is stored as its UTF-8 bytes, with their count.
    #[inline]
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        let len = self.len()?;
        if len > 4 {
            return Err(postcard::Error::DeserializeBadChar);
        }
        let character = std::str::from_utf8(self.take(len)?)
            .ok()
            .and_then(|text| text.chars().next())
            .ok_or(postcard::Error::DeserializeBadChar)?;
        visitor.visit_char(character)
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_borrowed_str(self.text()?)
    }

    #[inline]
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_str(self.text()?)
    }

    #[inline]
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_borrowed_bytes(self.take_sized()?)
    }

    #[inline]
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_bytes(self.take_sized()?)
    }

    /// Units are not stored.
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> postcard::Result<V::Value> {
        visitor.visit_unit()
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        match self.pop()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            _ => Err(postcard::Error::DeserializeBadOption),
        }
    }

    #[inline]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> postcard::Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    #[inline]
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        if let Some(vec) = plain_vec::<V>(self) {
            return vec;
        }
        let len = self.len()?;
        visitor.visit_seq(Elements { decoder: self, len })
    }

    /// Tuples and structs: their elements or fields in order, no length.
    #[inline]
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> postcard::Result<V::Value> {
        visitor.visit_seq(Elements { decoder: self, len })
    }

    #[inline]
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> postcard::Result<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> postcard::Result<V::Value> {
        self.deserialize_tuple(fields.len(), visitor)
    }

    #[inline]
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> postcard::Result<V::Value> {
        let len = self.len()?;
        visitor.visit_map(Elements { decoder: self, len })
    }

    /// An enum: its variant's index as a varint, then its content.
    #[inline]
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> postcard::Result<V::Value> {
        visitor.visit_enum(self)
    }
}

/// The elements of a sequence, tuple or struct, or the entries of a map.
struct Elements<'a, 'de> {
    decoder: &'a mut Decoder<'de>,
    len: usize,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = postcard::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> postcard::Result<Option<T::Value>> {
        if self.len == 0 {
            return Ok(None);
        }
        self.len -= 1;
        seed.deserialize(&mut *self.decoder).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        // As postcard's: no hint larger than the bytes left.
        (self.len <= self.decoder.remaining()).then_some(self.len)
    }
}

impl<'de> MapAccess<'de> for Elements<'_, 'de> {
    type Error = postcard::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> postcard::Result<Option<K::Value>> {
        self.next_element_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> postcard::Result<T::Value> {
        seed.deserialize(&mut *self.decoder)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len)
    }
}

impl<'de> EnumAccess<'de> for &mut Decoder<'de> {
    type Error = postcard::Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> postcard::Result<(T::Value, Self)> {
        let index = self.varint_u32()?;
        let variant = seed.deserialize(IntoDeserializer::<postcard::Error>::into_deserializer(
            index,
        ))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for &mut Decoder<'de> {
    type Error = postcard::Error;

    fn unit_variant(self) -> postcard::Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> postcard::Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> postcard::Result<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> postcard::Result<V::Value> {
        self.deserialize_tuple(fields.len(), visitor)
    }
}

/// A number every bit pattern of which is a value, stored by postcard as
/// its little-endian bytes at a fixed width, or an array of them (which
/// postcard stores as its elements in order, with no length).
trait Plain: Copy + 'static {
    /// The value whose little-endian bytes this one holds in memory.
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

/// `[f64; 3]` and the like: an array's elements are contiguous, with no
/// padding, so a `Vec` of arrays is its elements' bytes in order too.
impl<T: Plain, const N: usize> Plain for [T; N] {
    fn little_endian(self) -> Self {
        self.map(T::little_endian)
    }
}

/// The element types whose vectors are read in one copy ([`plain_vec`]),
/// and the type ids of the visitors serde's `Deserialize` for a `Vec` of
/// each passes to `deserialize_seq` ([`vec_visitors`], in the same order;
/// `None` for one that does not, which no serde release does).
macro_rules! plain_vectors {
    ($($t:ty),* $(,)?) => {
        /// What `V` deserializes, read in one copy, if `V` is the visitor
        /// of serde's `Deserialize for Vec<T>` with `T` a [`Plain`] type
        /// listed here: its `visit_seq` collects the elements in order and
        /// nothing else, which is what [`read_vec`] returns.
        #[inline]
        fn plain_vec<'de, V: Visitor<'de>>(
            decoder: &mut Decoder<'de>,
        ) -> Option<postcard::Result<V::Value>> {
            // The value's type first: for any other visitor this folds
            // away at compile time.
            let value = typeid::of::<V::Value>();
            let mut index = 0;
            $(
                if value == TypeId::of::<Vec<$t>>() {
                    return (vec_visitors()[index] == Some(typeid::of::<V>()))
                        .then(|| read_vec::<$t>(decoder).map(same::<Vec<$t>, V::Value>));
                }
                index += 1;
            )*
            let _ = index;
            None
        }

        fn vec_visitors() -> &'static [Option<TypeId>] {
            static VISITORS: OnceLock<Vec<Option<TypeId>>> = OnceLock::new();
            VISITORS.get_or_init(|| vec![$(Probe::visitor_of::<Vec<$t>>()),*])
        }
    };
}

plain_vectors!(
    f64, f32, u8, i8, [f64; 2], [f64; 3], [f64; 4], [f32; 2], [f32; 3], [f32; 4]
);

/// A deserializer that records the type of the visitor handed to its
/// `deserialize_seq`, and deserializes nothing.
struct Probe<'a> {
    seen: &'a Cell<Option<TypeId>>,
}

impl Probe<'_> {
    fn visitor_of<T: DeserializeOwned>() -> Option<TypeId> {
        let seen = Cell::new(None);
        let _ = T::deserialize(Probe { seen: &seen });
        seen.get()
    }
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(Self::Error::custom("a probe deserializes nothing"))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.seen.set(Some(typeid::of::<V>()));
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A `Vec<T>` as postcard stores it: its length as a varint, then each
/// element's little-endian bytes. Allocated once, at its length, which the
/// bytes left must hold (so a damaged length cannot ask for more memory
/// than the state has).
fn read_vec<T: Plain>(decoder: &mut Decoder<'_>) -> postcard::Result<Vec<T>> {
    let len = decoder.len()?;
    let size = len
        .checked_mul(size_of::<T>())
        .filter(|&size| size <= decoder.remaining())
        .ok_or(END)?;
    let mut vec = Vec::<T>::with_capacity(len);
    super::prefault::for_writing(vec.as_mut_ptr().cast(), size);
    let spare = vec.spare_capacity_mut();
    // SAFETY: the first `size` bytes of the vector's spare capacity, which
    // holds at least `len` elements of `size_of::<T>()` bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(spare.as_mut_ptr().cast::<MaybeUninit<u8>>(), size)
    };
    decoder.fill(bytes)?;
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
fn same<A: 'static, B>(value: A) -> B {
    assert!(typeid::of::<B>() == TypeId::of::<A>(), "the same type");
    let value = ManuallyDrop::new(value);
    // SAFETY: `A` and `B` are the same type: their ids are equal, and `A`
    // is 'static with no lifetime parameters, so no other type shares its
    // id. This moves the value out once.
    unsafe { std::mem::transmute_copy::<A, B>(&value) }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fmt::Debug;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::bytes::compress;

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Marker;

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Meters(f64);

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Pair(i32, Vec<i8>);

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    enum Kind {
        Unit,
        Newtype(Vec<f64>),
        Tuple(u8, Vec<u8>),
        Struct { values: Vec<f32>, scale: i64 },
    }

    /// Every kind of value serde has, with vectors of plain numbers at the
    /// top of fields, inside options, tuples, enums, maps and vectors.
    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Everything {
        flag: bool,
        small: i8,
        byte: u8,
        short: i16,
        word: u32,
        long: i64,
        huge: u128,
        signed_huge: i128,
        single: f32,
        double: f64,
        letter: char,
        text: String,
        maybe: Option<Vec<f64>>,
        nothing: Option<u8>,
        unit: (),
        marker: Marker,
        newtype: Meters,
        tuple: (u8, Vec<f32>, String),
        pair: Pair,
        doubles: Vec<f64>,
        singles: Vec<f32>,
        bytes: Vec<u8>,
        signed_bytes: Vec<i8>,
        nested: Vec<Vec<f64>>,
        boxed: Box<[f64]>,
        words: Vec<u64>,
        map: BTreeMap<String, Vec<f64>>,
        kinds: Vec<Kind>,
        points: Vec<[f64; 3]>,
        pairs: Option<Vec<[f32; 2]>>,
        quads: Vec<[f64; 4]>,
        bytes8: Vec<[u8; 8]>,
    }

    fn everything(scale: usize) -> Everything {
        let doubles = |n: usize| -> Vec<f64> { (0..n).map(|i| i as f64 * 0.37 - 5.0).collect() };
        Everything {
            flag: true,
            small: -3,
            byte: 200,
            short: -300,
            word: 70_000,
            long: -(1 << 40),
            huge: u128::MAX - 7,
            signed_huge: i128::MIN + 9,
            single: 1.5,
            double: -0.0,
            letter: 'é',
            text: "ünïcode".repeat(scale),
            maybe: Some(doubles(3 * scale)),
            nothing: None,
            unit: (),
            marker: Marker,
            newtype: Meters(2.5),
            tuple: (7, vec![0.5; 2 * scale], "t".to_owned()),
            pair: Pair(-1, vec![-128, 0, 127]),
            doubles: doubles(10 * scale),
            singles: vec![f32::MIN_POSITIVE, f32::MAX, -1.0],
            bytes: (0..=255).collect(),
            signed_bytes: vec![-1; scale],
            nested: vec![doubles(scale), vec![], doubles(2)],
            boxed: doubles(scale).into_boxed_slice(),
            words: vec![1, 1 << 50, 300],
            map: [("a".to_owned(), doubles(scale)), ("b".to_owned(), vec![])].into(),
            kinds: vec![
                Kind::Unit,
                Kind::Newtype(doubles(scale)),
                Kind::Tuple(9, vec![1, 2]),
                Kind::Struct {
                    values: vec![0.25; scale],
                    scale: -7,
                },
            ],
            points: (0..scale).map(|i| [i as f64, -0.5, f64::MAX]).collect(),
            pairs: Some(vec![[1.5, -2.5]; scale]),
            quads: vec![[0.0, 1.0, 2.0, 3.0]; scale / 2],
            bytes8: vec![[1, 2, 3, 4, 5, 6, 7, 8]; 3],
        }
    }

    /// Decodes `bytes` as a `S` with this module and with postcard: the
    /// same value (compared by its encoding, so NaNs compare) and the same
    /// bytes after it, or the same error.
    fn agrees_with_postcard<S>(bytes: &[u8])
    where
        S: Serialize + DeserializeOwned + Debug,
    {
        match (
            take_from_bytes::<S>(bytes),
            postcard::take_from_bytes::<S>(bytes),
        ) {
            (Ok((ours, our_rest)), Ok((theirs, their_rest))) => {
                assert_eq!(
                    postcard::to_allocvec(&ours).expect("encode"),
                    postcard::to_allocvec(&theirs).expect("encode"),
                    "{ours:?} against {theirs:?}"
                );
                assert_eq!(our_rest, their_rest);
            }
            (Err(ours), Err(theirs)) => assert_eq!(ours, theirs, "the same error"),
            (ours, theirs) => panic!("ours {ours:?}, postcard's {theirs:?} on {bytes:?}"),
        }
    }

    #[test]
    fn every_kind_of_value_decodes_as_postcard_decodes_it() {
        let value = everything(4);
        let mut bytes = postcard::to_allocvec(&value).expect("encode");
        let (decoded, rest) = take_from_bytes::<Everything>(&bytes).expect("decode");
        assert_eq!(decoded, value);
        assert!(rest.is_empty());
        bytes.extend_from_slice(&[7, 7]);
        agrees_with_postcard::<Everything>(&bytes);
        agrees_with_postcard::<Vec<f64>>(&postcard::to_allocvec(&value.doubles).expect("encode"));
        agrees_with_postcard::<(Vec<u8>, Vec<i8>)>(&[2, 1, 2, 1, 0xff]);
    }

    #[test]
    fn damaged_and_cut_bytes_fail_as_postcard_fails_them() {
        let bytes = postcard::to_allocvec(&everything(2)).expect("encode");
        for len in 0..bytes.len() {
            agrees_with_postcard::<Everything>(&bytes[..len]);
        }
        for at in 0..bytes.len() {
            for replace in [0, 1, 2, 0x7f, 0x80, 0xff, bytes[at] ^ 0x55] {
                let mut damaged = bytes.clone();
                damaged[at] = replace;
                agrees_with_postcard::<Everything>(&damaged);
            }
        }
        // A length of 2^60 doubles is refused before anything is allocated.
        let mut huge = postcard::to_allocvec(&(1_u64 << 60)).expect("encode");
        huge.extend_from_slice(&[0; 8]);
        agrees_with_postcard::<Vec<f64>>(&huge);
        agrees_with_postcard::<Kind>(&huge);
    }

    #[test]
    fn a_nan_keeps_its_bits() {
        let odd = f64::from_bits(0x7ff8_dead_beef_0001);
        let bytes = postcard::to_allocvec(&(vec![odd], Some(vec![odd]))).expect("encode");
        let ((top, inside), _) =
            take_from_bytes::<(Vec<f64>, Option<Vec<f64>>)>(&bytes).expect("decode");
        assert_eq!(top[0].to_bits(), odd.to_bits());
        assert_eq!(inside.expect("some")[0].to_bits(), odd.to_bits());
    }

    #[test]
    fn vectors_of_plain_numbers_anywhere_are_read_in_one_copy() {
        assert!(
            vec_visitors().iter().all(Option::is_some),
            "serde's Vec visitors were recognized"
        );
        // serde allocates at most 1 MiB up front and doubles from there: a
        // vector it decoded has a capacity of a power of two times that.
        let len = 200_000;
        let value = (
            vec![1.0_f64; len],
            Some(vec![vec![2.0_f32; len]]),
            Kind::Tuple(1, vec![3; 3 * len]),
            vec![[0.5_f64; 3]; len],
        );
        let bytes = postcard::to_allocvec(&value).expect("encode");
        let ((doubles, singles, kind, points), _) =
            take_from_bytes::<(Vec<f64>, Option<Vec<Vec<f32>>>, Kind, Vec<[f64; 3]>)>(&bytes)
                .expect("decode");
        assert_eq!(doubles.capacity(), len);
        assert_eq!(points.capacity(), len);
        assert_eq!(points, value.3);
        assert_eq!(singles.expect("some")[0].capacity(), len);
        let Kind::Tuple(_, bytes) = kind else {
            panic!("the variant")
        };
        assert_eq!(bytes.capacity(), 3 * len);
        // Through serde, for comparison.
        let (through_serde, _) = postcard::take_from_bytes::<Vec<f64>>(
            &postcard::to_allocvec(&value.0).expect("encode"),
        )
        .expect("decode");
        assert_ne!(through_serde.capacity(), len);
    }

    #[test]
    fn a_state_in_frames_decodes_as_the_same_state_in_one_slice() {
        // Large enough for frames, with vectors, strings and bytes that
        // cross frame boundaries.
        let value = everything(200_000);
        let raw = postcard::to_allocvec(&value).expect("encode");
        assert!(raw.len() >= compress::FRAMES_FROM);
        let mut payload = Vec::new();
        compress::compress_into(&raw, 1, 2, &mut payload).expect("compress");
        for workers in [1, 3] {
            let source = Source::Frames(
                compress::Frames::new(&payload, raw.len(), workers).expect("frames"),
            );
            let (decoded, left) = decode::<Everything>(&source).expect("decode");
            assert_eq!(left, 0);
            assert_eq!(decoded, value);
        }
        // Cut short: the same error as from the whole bytes cut short.
        let source = Source::Frames(compress::Frames::new(&payload, raw.len(), 2).expect("frames"));
        let cut = decode::<(Everything, u8)>(&source).expect_err("one byte more than there is");
        assert_eq!(cut, postcard::Error::DeserializeUnexpectedEnd);
    }
}
