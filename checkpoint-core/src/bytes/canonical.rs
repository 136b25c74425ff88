//! The bytes that identify a run: postcard's encoding, except that every
//! map's entries are put in one canonical order, so a `HashMap` argument
//! gives the same key in every process.
//!
//! std's `HashMap` iterates in an order seeded at random per process, and
//! serde serializes a map in its iteration order, so a run keyed by a
//! `HashMap` got a new key, and a new checkpoint file, in every process.
//!
//! A value without a map is encoded by postcard itself, so its bytes are the
//! bytes checkpoint files were named by before maps were sorted: a first pass
//! that allocates nothing looks for a map. A value with a map is recorded as
//! a tree of the serde calls it makes ([`Node`]), each map's entries are
//! sorted by the postcard bytes of their keys (entries with equal keys, which
//! only a hand-written `Serialize` produces, by the bytes of their values),
//! and the tree replays the same calls, in the new order, into postcard.
//!
//! Sorting loses nothing: a map is a set of entries, so two maps with the
//! same entries are the same key whatever their order, and two maps with
//! different entries still encode differently (postcard writes the sorted
//! entries one after another, each self-delimiting). A `BTreeMap` is sorted
//! too: its bytes change when the byte order of its keys differs from their
//! `Ord` order (postcard writes a string's length first, so `"b"` comes
//! before `"aa"`).
//!
//! Limit: serde serializes a set (`HashSet`) as a sequence, which looks
//! exactly like a `Vec`. Sequences are not sorted, as that would make
//! `vec![1, 2]` and `vec![2, 1]` the same key, so a `HashSet` still gives a
//! new key in every process: key by a `BTreeSet`, or leave the set out of the
//! key.

use std::fmt::{self, Display, Write as _};

use serde::ser::{self, Serialize};

/// The postcard encoding of `value`, except that the entries of every map are
/// put in a canonical order (sorted by the encoded bytes of their keys), so
/// that a `HashMap` encodes the same way in every process.
///
/// Refuses (never panics on) what postcard refuses: a sequence or map of
/// unknown length, and a `Serialize` or `Display` implementation's error.
pub(crate) fn to_canonical_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    match value.serialize(MapFinder) {
        Ok(()) => Ok(postcard::to_allocvec(value)?),
        Err(Search::FoundMap) => through_tree(value),
        Err(Search::Refused(err)) => Err(err),
    }
}

/// Records `value`'s serde calls, sorting every map, and replays them into
/// postcard.
fn through_tree<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let tree = value.serialize(Recorder)?;
    Ok(postcard::to_allocvec(&tree)?)
}

/// Why a value cannot be encoded, as a message for the user.
#[derive(Debug)]
pub(crate) struct EncodeError(String);

impl Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

impl ser::Error for EncodeError {
    fn custom<T: Display>(msg: T) -> Self {
        // Unlike postcard, which drops the message, keep the implementation's
        // reason; `write!` rather than `to_string`, which panics on a failing
        // `Display`.
        let mut message = String::new();
        if write!(message, "{msg}").is_err() {
            message = "a `Serialize` implementation returned an error".to_owned();
        }
        EncodeError(message)
    }
}

impl From<postcard::Error> for EncodeError {
    fn from(err: postcard::Error) -> Self {
        EncodeError(err.to_string())
    }
}

fn unknown_length(what: &str) -> EncodeError {
    EncodeError(format!(
        "a {what} of unknown length (postcard writes every length before the elements)"
    ))
}

fn display_failed() -> EncodeError {
    EncodeError("a `Display` implementation returned an error".to_owned())
}

/// Discards what is written: runs a `Display` only to see whether it fails.
struct Discard;

impl fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Ok(())
    }
}

/// The first pass: walks a value and stops at its first map, or at what
/// postcard would refuse.
#[derive(Clone, Copy)]
struct MapFinder;

#[derive(Debug)]
enum Search {
    FoundMap,
    Refused(EncodeError),
}

impl Display for Search {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Search::FoundMap => f.write_str("found a map"),
            Search::Refused(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for Search {}

impl ser::Error for Search {
    fn custom<T: Display>(msg: T) -> Self {
        Search::Refused(EncodeError::custom(msg))
    }
}

impl ser::Serializer for MapFinder {
    type Ok = ();
    type Error = Search;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = ser::Impossible<(), Search>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    // As postcard says, so that a type serializes the same way for both.
    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, _: bool) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_i128(self, _: i128) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_u128(self, _: u128) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Search> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Search> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Search> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Search> {
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, Search> {
        match len {
            Some(_) => Ok(self),
            None => Err(Search::Refused(unknown_length("sequence"))),
        }
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Search> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Search> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Search> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Search> {
        Err(Search::FoundMap)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Search> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Search> {
        Ok(self)
    }
    // Postcard formats the value and refuses when its `Display` fails;
    // serde's default would format with `to_string`, which panics instead.
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Search> {
        write!(Discard, "{value}").map_err(|_| Search::Refused(display_failed()))
    }
}

impl ser::SerializeSeq for MapFinder {
    type Ok = ();
    type Error = Search;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Search> {
        value.serialize(*self)
    }
    fn end(self) -> Result<(), Search> {
        Ok(())
    }
}

impl ser::SerializeTuple for MapFinder {
    type Ok = ();
    type Error = Search;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Search> {
        value.serialize(*self)
    }
    fn end(self) -> Result<(), Search> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for MapFinder {
    type Ok = ();
    type Error = Search;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Search> {
        value.serialize(*self)
    }
    fn end(self) -> Result<(), Search> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for MapFinder {
    type Ok = ();
    type Error = Search;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Search> {
        value.serialize(*self)
    }
    fn end(self) -> Result<(), Search> {
        Ok(())
    }
}

impl ser::SerializeStruct for MapFinder {
    type Ok = ();
    type Error = Search;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Search> {
        value.serialize(*self)
    }
    fn end(self) -> Result<(), Search> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for MapFinder {
    type Ok = ();
    type Error = Search;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Search> {
        value.serialize(*self)
    }
    fn end(self) -> Result<(), Search> {
        Ok(())
    }
}

/// An enum variant as serde names it.
#[derive(Debug, Clone, Copy)]
struct Variant {
    enum_name: &'static str,
    index: u32,
    name: &'static str,
}

/// One serde call, with what it serialized: a value in serde's data model.
/// Lengths are the ones the value declared, which postcard writes (for a
/// sequence or a map) whatever the number of elements that follow.
#[derive(Debug)]
enum Node {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    I128(i128),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    U128(u128),
    F32(f32),
    F64(f64),
    Char(char),
    Str(String),
    Bytes(Vec<u8>),
    None,
    Some(Box<Node>),
    Unit,
    UnitStruct(&'static str),
    UnitVariant(Variant),
    NewtypeStruct(&'static str, Box<Node>),
    NewtypeVariant(Variant, Box<Node>),
    Seq(usize, Vec<Node>),
    Tuple(usize, Vec<Node>),
    TupleStruct(&'static str, usize, Vec<Node>),
    TupleVariant(Variant, usize, Vec<Node>),
    Map(usize, Vec<(Node, Node)>),
    Struct(&'static str, usize, Vec<(&'static str, Node)>),
    StructVariant(Variant, usize, Vec<(&'static str, Node)>),
}

/// Replays the recorded calls.
impl Serialize for Node {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::{
            SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
            SerializeTupleStruct, SerializeTupleVariant,
        };
        match self {
            Node::Bool(v) => serializer.serialize_bool(*v),
            Node::I8(v) => serializer.serialize_i8(*v),
            Node::I16(v) => serializer.serialize_i16(*v),
            Node::I32(v) => serializer.serialize_i32(*v),
            Node::I64(v) => serializer.serialize_i64(*v),
            Node::I128(v) => serializer.serialize_i128(*v),
            Node::U8(v) => serializer.serialize_u8(*v),
            Node::U16(v) => serializer.serialize_u16(*v),
            Node::U32(v) => serializer.serialize_u32(*v),
            Node::U64(v) => serializer.serialize_u64(*v),
            Node::U128(v) => serializer.serialize_u128(*v),
            Node::F32(v) => serializer.serialize_f32(*v),
            Node::F64(v) => serializer.serialize_f64(*v),
            Node::Char(v) => serializer.serialize_char(*v),
            Node::Str(v) => serializer.serialize_str(v),
            Node::Bytes(v) => serializer.serialize_bytes(v),
            Node::None => serializer.serialize_none(),
            Node::Some(value) => serializer.serialize_some(value),
            Node::Unit => serializer.serialize_unit(),
            Node::UnitStruct(name) => serializer.serialize_unit_struct(name),
            Node::UnitVariant(v) => serializer.serialize_unit_variant(v.enum_name, v.index, v.name),
            Node::NewtypeStruct(name, value) => serializer.serialize_newtype_struct(name, value),
            Node::NewtypeVariant(v, value) => {
                serializer.serialize_newtype_variant(v.enum_name, v.index, v.name, value)
            }
            Node::Seq(len, elements) => {
                let mut seq = serializer.serialize_seq(Some(*len))?;
                for element in elements {
                    seq.serialize_element(element)?;
                }
                seq.end()
            }
            Node::Tuple(len, elements) => {
                let mut tuple = serializer.serialize_tuple(*len)?;
                for element in elements {
                    tuple.serialize_element(element)?;
                }
                tuple.end()
            }
            Node::TupleStruct(name, len, fields) => {
                let mut tuple = serializer.serialize_tuple_struct(name, *len)?;
                for field in fields {
                    tuple.serialize_field(field)?;
                }
                tuple.end()
            }
            Node::TupleVariant(v, len, fields) => {
                let mut tuple =
                    serializer.serialize_tuple_variant(v.enum_name, v.index, v.name, *len)?;
                for field in fields {
                    tuple.serialize_field(field)?;
                }
                tuple.end()
            }
            Node::Map(len, entries) => {
                let mut map = serializer.serialize_map(Some(*len))?;
                for (key, value) in entries {
                    map.serialize_key(key)?;
                    map.serialize_value(value)?;
                }
                map.end()
            }
            Node::Struct(name, len, fields) => {
                let mut fields_out = serializer.serialize_struct(name, *len)?;
                for (key, value) in fields {
                    fields_out.serialize_field(key, value)?;
                }
                fields_out.end()
            }
            Node::StructVariant(v, len, fields) => {
                let mut fields_out =
                    serializer.serialize_struct_variant(v.enum_name, v.index, v.name, *len)?;
                for (key, value) in fields {
                    fields_out.serialize_field(key, value)?;
                }
                fields_out.end()
            }
        }
    }
}

/// The second pass, for a value with a map: records its serde calls as a
/// [`Node`], each map's entries already sorted.
struct Recorder;

impl ser::Serializer for Recorder {
    type Ok = Node;
    type Error = EncodeError;
    type SerializeSeq = Elements;
    type SerializeTuple = Elements;
    type SerializeTupleStruct = Elements;
    type SerializeTupleVariant = Elements;
    type SerializeMap = Entries;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Fields;

    // As postcard says, so that a type serializes the same way for both.
    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<Node, EncodeError> {
        Ok(Node::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Node, EncodeError> {
        Ok(Node::I8(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Node, EncodeError> {
        Ok(Node::I16(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Node, EncodeError> {
        Ok(Node::I32(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Node, EncodeError> {
        Ok(Node::I64(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Node, EncodeError> {
        Ok(Node::I128(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Node, EncodeError> {
        Ok(Node::U8(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Node, EncodeError> {
        Ok(Node::U16(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Node, EncodeError> {
        Ok(Node::U32(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Node, EncodeError> {
        Ok(Node::U64(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Node, EncodeError> {
        Ok(Node::U128(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Node, EncodeError> {
        Ok(Node::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Node, EncodeError> {
        Ok(Node::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Node, EncodeError> {
        Ok(Node::Char(v))
    }
    fn serialize_str(self, v: &str) -> Result<Node, EncodeError> {
        Ok(Node::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Node, EncodeError> {
        Ok(Node::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Node, EncodeError> {
        Ok(Node::None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Node, EncodeError> {
        Ok(Node::Some(Box::new(value.serialize(Recorder)?)))
    }
    fn serialize_unit(self) -> Result<Node, EncodeError> {
        Ok(Node::Unit)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Node, EncodeError> {
        Ok(Node::UnitStruct(name))
    }
    fn serialize_unit_variant(
        self,
        enum_name: &'static str,
        index: u32,
        name: &'static str,
    ) -> Result<Node, EncodeError> {
        Ok(Node::UnitVariant(Variant {
            enum_name,
            index,
            name,
        }))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Node, EncodeError> {
        Ok(Node::NewtypeStruct(
            name,
            Box::new(value.serialize(Recorder)?),
        ))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        enum_name: &'static str,
        index: u32,
        name: &'static str,
        value: &T,
    ) -> Result<Node, EncodeError> {
        let variant = Variant {
            enum_name,
            index,
            name,
        };
        Ok(Node::NewtypeVariant(
            variant,
            Box::new(value.serialize(Recorder)?),
        ))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Elements, EncodeError> {
        let len = len.ok_or_else(|| unknown_length("sequence"))?;
        Ok(Elements::new(Sequence::Seq, len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Elements, EncodeError> {
        Ok(Elements::new(Sequence::Tuple, len))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Elements, EncodeError> {
        Ok(Elements::new(Sequence::TupleStruct(name), len))
    }
    fn serialize_tuple_variant(
        self,
        enum_name: &'static str,
        index: u32,
        name: &'static str,
        len: usize,
    ) -> Result<Elements, EncodeError> {
        let variant = Variant {
            enum_name,
            index,
            name,
        };
        Ok(Elements::new(Sequence::TupleVariant(variant), len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Entries, EncodeError> {
        let len = len.ok_or_else(|| unknown_length("map"))?;
        Ok(Entries {
            len,
            entries: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Fields, EncodeError> {
        Ok(Fields::new(Record::Struct(name), len))
    }
    fn serialize_struct_variant(
        self,
        enum_name: &'static str,
        index: u32,
        name: &'static str,
        len: usize,
    ) -> Result<Fields, EncodeError> {
        let variant = Variant {
            enum_name,
            index,
            name,
        };
        Ok(Fields::new(Record::StructVariant(variant), len))
    }
    // The same bytes as postcard's `collect_str`, which formats the value
    // into the output; serde's default would panic on a failing `Display`.
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<Node, EncodeError> {
        let mut text = String::new();
        write!(text, "{value}").map_err(|_| display_failed())?;
        Ok(Node::Str(text))
    }
}

/// Which of the unnamed-element shapes is being recorded.
enum Sequence {
    Seq,
    Tuple,
    TupleStruct(&'static str),
    TupleVariant(Variant),
}

/// The elements of a sequence, a tuple, or a tuple struct or variant.
struct Elements {
    shape: Sequence,
    len: usize,
    elements: Vec<Node>,
}

impl Elements {
    fn new(shape: Sequence, len: usize) -> Self {
        // No `with_capacity(len)`: the length is the value's word, and a
        // wrong one must not allocate (or abort on) a huge buffer.
        Elements {
            shape,
            len,
            elements: Vec::new(),
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.elements.push(value.serialize(Recorder)?);
        Ok(())
    }

    fn finish(self) -> Node {
        match self.shape {
            Sequence::Seq => Node::Seq(self.len, self.elements),
            Sequence::Tuple => Node::Tuple(self.len, self.elements),
            Sequence::TupleStruct(name) => Node::TupleStruct(name, self.len, self.elements),
            Sequence::TupleVariant(variant) => Node::TupleVariant(variant, self.len, self.elements),
        }
    }
}

impl ser::SerializeSeq for Elements {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push(value)
    }
    fn end(self) -> Result<Node, EncodeError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for Elements {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push(value)
    }
    fn end(self) -> Result<Node, EncodeError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleStruct for Elements {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push(value)
    }
    fn end(self) -> Result<Node, EncodeError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleVariant for Elements {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.push(value)
    }
    fn end(self) -> Result<Node, EncodeError> {
        Ok(self.finish())
    }
}

/// Which of the named-field shapes is being recorded.
enum Record {
    Struct(&'static str),
    StructVariant(Variant),
}

/// The named fields of a struct or struct variant.
struct Fields {
    shape: Record,
    len: usize,
    fields: Vec<(&'static str, Node)>,
}

impl Fields {
    fn new(shape: Record, len: usize) -> Self {
        Fields {
            shape,
            len,
            fields: Vec::new(),
        }
    }

    fn push<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.fields.push((key, value.serialize(Recorder)?));
        Ok(())
    }

    fn finish(self) -> Node {
        match self.shape {
            Record::Struct(name) => Node::Struct(name, self.len, self.fields),
            Record::StructVariant(variant) => Node::StructVariant(variant, self.len, self.fields),
        }
    }
}

impl ser::SerializeStruct for Fields {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.push(key, value)
    }
    fn end(self) -> Result<Node, EncodeError> {
        Ok(self.finish())
    }
}

impl ser::SerializeStructVariant for Fields {
    type Ok = Node;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.push(key, value)
    }
    fn end(self) -> Result<Node, EncodeError> {
        Ok(self.finish())
    }
}

/// A map's entries, sorted when the map ends.
struct Entries {
    len: usize,
    entries: Vec<(Node, Node)>,
    /// A key waiting for its value.
    key: Option<Node>,
}

/// An entry with the postcard bytes its key is sorted by.
struct SortableEntry {
    key_bytes: Vec<u8>,
    key: Node,
    value: Node,
}

impl ser::SerializeMap for Entries {
    type Ok = Node;
    type Error = EncodeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        if self.key.is_some() {
            return Err(EncodeError(
                "a map key came right after another key, without a value between them".to_owned(),
            ));
        }
        self.key = Some(key.serialize(Recorder)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| EncodeError("a map value came without a key before it".to_owned()))?;
        self.entries.push((key, value.serialize(Recorder)?));
        Ok(())
    }

    fn end(self) -> Result<Node, EncodeError> {
        if self.key.is_some() {
            return Err(EncodeError(
                "a map ended on a key without its value".to_owned(),
            ));
        }
        let mut entries = self
            .entries
            .into_iter()
            .map(|(key, value)| {
                Ok(SortableEntry {
                    key_bytes: postcard::to_allocvec(&key)?,
                    key,
                    value,
                })
            })
            .collect::<Result<Vec<_>, EncodeError>>()?;
        entries.sort_by(|a, b| a.key_bytes.cmp(&b.key_bytes));
        if entries
            .windows(2)
            .any(|pair| pair[0].key_bytes == pair[1].key_bytes)
        {
            // Only a hand-written `Serialize` repeats a key (no std map does).
            // Order those entries by their values' bytes too, or the order
            // of equal keys would still be the iteration order.
            let mut by_value = entries
                .into_iter()
                .map(|entry| Ok((postcard::to_allocvec(&entry.value)?, entry)))
                .collect::<Result<Vec<_>, EncodeError>>()?;
            by_value.sort_by(|(a_value, a), (b_value, b)| {
                a.key_bytes
                    .cmp(&b.key_bytes)
                    .then_with(|| a_value.cmp(b_value))
            });
            entries = by_value.into_iter().map(|(_, entry)| entry).collect();
        }
        let entries = entries
            .into_iter()
            .map(|entry| (entry.key, entry.value))
            .collect();
        Ok(Node::Map(self.len, entries))
    }
}

/// Each field of a struct, encoded as [`to_canonical_bytes`] would: the
/// resume verifier compares the `#[state]` locals one by one. A value that
/// is not a struct is one field, `state`.
pub(crate) fn struct_fields<T: Serialize + ?Sized>(
    value: &T,
) -> Result<Vec<(&'static str, Vec<u8>)>, EncodeError> {
    match value.serialize(Recorder)? {
        Node::Struct(_, _, fields) => fields
            .into_iter()
            .map(|(name, node)| Ok((name, postcard::to_allocvec(&node)?)))
            .collect(),
        other => Ok(vec![("state", postcard::to_allocvec(&other)?)]),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::RandomState;
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    use std::fmt;
    use std::net::SocketAddr;

    use proptest::prelude::*;
    use serde::Serialize;
    use serde::ser::{SerializeMap, SerializeSeq, Serializer};

    use super::*;

    /// Serializes through `serialize_bytes`, as `serde_bytes` does.
    #[derive(Debug, Clone)]
    struct Blob(Vec<u8>);

    impl Serialize for Blob {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&self.0)
        }
    }

    #[derive(Serialize)]
    struct Marker;

    #[derive(Serialize)]
    struct Meters(f64);

    #[derive(Serialize)]
    struct Pair(i16, char);

    #[derive(Serialize)]
    enum Shape {
        Point,
        Circle(f32),
        Segment(i64, i64),
        Polygon {
            corners: Vec<(i32, i32)>,
            closed: bool,
        },
    }

    #[derive(Serialize)]
    struct Scene {
        name: String,
        shapes: Vec<Shape>,
        scale: Option<Meters>,
        marker: Marker,
        pair: Pair,
        unit: (),
        wide: (i128, u128),
        blob: Blob,
    }

    fn scene() -> Scene {
        Scene {
            name: "ünïcode scène".to_owned(),
            shapes: vec![
                Shape::Point,
                Shape::Circle(-0.0),
                Shape::Segment(i64::MIN, i64::MAX),
                Shape::Polygon {
                    corners: vec![(0, 0), (-1, 300), (i32::MAX, i32::MIN)],
                    closed: true,
                },
            ],
            scale: Some(Meters(f64::NAN)),
            marker: Marker,
            pair: Pair(-129, '🦀'),
            unit: (),
            wide: (i128::MIN, u128::MAX),
            blob: Blob((0..=255).collect()),
        }
    }

    /// Checks both passes: the postcard one this value takes, and the
    /// recorded tree that a value with a map takes.
    fn assert_same_as_postcard<T: Serialize + ?Sized>(value: &T) {
        let expected = postcard::to_allocvec(value).unwrap();
        assert_eq!(to_canonical_bytes(value).unwrap(), expected);
        assert_eq!(through_tree(value).unwrap(), expected);
    }

    #[test]
    fn values_without_maps_encode_as_postcard_does() {
        assert_same_as_postcard(&scene());
        assert_same_as_postcard(&vec![scene(), scene()]);
        assert_same_as_postcard(&Shape::Point);
        assert_same_as_postcard(&Shape::Circle(1.5));
        assert_same_as_postcard(&Shape::Segment(-1, 1));
        assert_same_as_postcard(&Some(Some(None::<u8>)));
        assert_same_as_postcard(&vec![vec![vec![1u16, 2], vec![]], vec![vec![u16::MAX]]]);
        assert_same_as_postcard("a str, unsized");
        assert_same_as_postcard(&[1.0f32, f32::INFINITY, -f32::MIN_POSITIVE][..]);
        assert_same_as_postcard(&('x', '\0', char::MAX, true, false, -128i8, 255u8));
        assert_same_as_postcard(&(u16::MAX, u32::MAX, u64::MAX, i16::MIN, i32::MIN));
        assert_same_as_postcard(&Blob(Vec::new()));
        assert_same_as_postcard(&[[0u8; 3]; 2]);
        assert_same_as_postcard(&());
        // A set is a sequence, left in its order.
        assert_same_as_postcard(&BTreeSet::from([3u64, 1, 2]));
        // Through `collect_str`.
        assert_same_as_postcard(&format_args!("{}-{}", 1, 2));
    }

    #[test]
    fn a_map_with_one_entry_encodes_as_postcard_does() {
        // Nothing to sort: the tree must replay postcard's bytes exactly,
        // including `is_human_readable` (a socket address is a string when
        // human-readable, a tuple otherwise).
        let address: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let value = (scene(), HashMap::from([(address, vec![scene()])]));
        assert_eq!(
            to_canonical_bytes(&value).unwrap(),
            postcard::to_allocvec(&value).unwrap()
        );
        let empty: HashMap<String, u8> = HashMap::new();
        assert_eq!(
            to_canonical_bytes(&empty).unwrap(),
            postcard::to_allocvec(&empty).unwrap()
        );
    }

    fn words(n: u64) -> Words {
        (0..n).map(|i| (format!("word{i}"), i * 7919)).collect()
    }

    #[test]
    fn hash_maps_encode_the_same_in_any_insertion_order() {
        let entries = words(500);
        let mut forward = HashMap::with_hasher(RandomState::new());
        forward.extend(entries.iter().cloned());
        let mut backward = HashMap::with_hasher(RandomState::new());
        backward.extend(entries.iter().rev().cloned());
        // The bug being fixed: the two iterate in different orders (500
        // entries in the same order by chance is out of the question).
        assert_ne!(
            postcard::to_allocvec(&forward).unwrap(),
            postcard::to_allocvec(&backward).unwrap()
        );
        assert_eq!(
            to_canonical_bytes(&forward).unwrap(),
            to_canonical_bytes(&backward).unwrap()
        );
    }

    #[test]
    fn maps_nested_in_structs_and_vecs_are_sorted_too() {
        #[derive(Serialize)]
        struct Config {
            name: &'static str,
            tables: Vec<HashMap<String, HashMap<u32, Vec<u64>>>>,
            limits: Option<HashMap<String, u64>>,
        }
        let config = |seed_order: bool| {
            let mut inner: Vec<(u32, Vec<u64>)> =
                (0..50).map(|i| (i * 300, vec![i.into(); 3])).collect();
            let mut outer = words(40);
            if !seed_order {
                inner.reverse();
                outer.reverse();
            }
            let table = |k: u64| -> HashMap<String, HashMap<u32, Vec<u64>>> {
                outer
                    .iter()
                    .map(|(word, _)| {
                        let mut map = HashMap::with_hasher(RandomState::new());
                        map.extend(inner.iter().cloned().map(|(i, v)| (i + k as u32, v)));
                        (word.clone(), map.into_iter().collect())
                    })
                    .collect()
            };
            Config {
                name: "nested",
                tables: vec![table(0), HashMap::new(), table(1)],
                limits: Some(outer.iter().cloned().collect()),
            }
        };
        assert_eq!(
            to_canonical_bytes(&config(true)).unwrap(),
            to_canonical_bytes(&config(false)).unwrap()
        );
    }

    #[test]
    fn btree_maps_are_sorted_by_key_bytes_not_by_key() {
        // Postcard writes a string's length first, and a u32 as a varint
        // (256 = 80 02, 129 = 81 01), so byte order is not `Ord` order.
        let strings = BTreeMap::from([("aa".to_owned(), 1u8), ("b".to_owned(), 2)]);
        let numbers = BTreeMap::from([(129u32, 'x'), (256, 'y')]);
        for (map, by_bytes) in [
            (
                to_canonical_bytes(&strings).unwrap(),
                postcard::to_allocvec(&[("b", 2u8), ("aa", 1)][..]).unwrap(),
            ),
            (
                to_canonical_bytes(&numbers).unwrap(),
                postcard::to_allocvec(&[(256u32, 'y'), (129, 'x')][..]).unwrap(),
            ),
        ] {
            // A map is its length and its entries, like a slice of pairs.
            assert_eq!(map, by_bytes);
        }
    }

    /// A map that writes its entries in the given order, repeats included.
    struct RawMap(Vec<(u8, &'static str)>);

    impl Serialize for RawMap {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }

    #[test]
    fn repeated_keys_are_ordered_by_their_values() {
        let one = RawMap(vec![(1, "b"), (0, "z"), (1, "a"), (1, "c")]);
        let other = RawMap(vec![(1, "c"), (1, "a"), (0, "z"), (1, "b")]);
        let sorted = RawMap(vec![(0, "z"), (1, "a"), (1, "b"), (1, "c")]);
        assert_eq!(
            to_canonical_bytes(&one).unwrap(),
            to_canonical_bytes(&other).unwrap()
        );
        assert_eq!(
            to_canonical_bytes(&one).unwrap(),
            postcard::to_allocvec(&sorted).unwrap()
        );
    }

    struct UnknownLength(bool);

    impl Serialize for UnknownLength {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            if self.0 {
                serializer.serialize_map(None)?.end()
            } else {
                serializer.serialize_seq(None)?.end()
            }
        }
    }

    struct Refuses;

    impl Serialize for Refuses {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no file handles in a key"))
        }
    }

    struct FailingDisplay;

    impl fmt::Display for FailingDisplay {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            Err(fmt::Error)
        }
    }

    impl Serialize for FailingDisplay {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(self)
        }
    }

    /// Calls `serialize_key` and `serialize_value` as a broken map would.
    struct Unpaired(&'static [bool]);

    impl Serialize for Unpaired {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for &is_key in self.0 {
                if is_key {
                    map.serialize_key(&1u8)?;
                } else {
                    map.serialize_value(&2u8)?;
                }
            }
            map.end()
        }
    }

    fn error_of<T: Serialize + ?Sized>(value: &T) -> String {
        match to_canonical_bytes(value) {
            Ok(bytes) => panic!("encoded to {bytes:?}"),
            Err(err) => err.to_string(),
        }
    }

    /// `value` after a map, so that it is encoded through the tree.
    fn with_map<T>(value: T) -> (HashMap<u8, u8>, T) {
        (HashMap::from([(0, 0)]), value)
    }

    #[test]
    fn what_postcard_refuses_is_an_error_not_a_panic() {
        for value in [UnknownLength(false), UnknownLength(true)] {
            assert!(postcard::to_allocvec(&value).is_err());
            assert!(error_of(&value).contains("unknown length"));
        }
        assert!(error_of(&with_map(UnknownLength(false))).contains("sequence of unknown length"));
        assert!(error_of(&vec![UnknownLength(true)]).contains("map of unknown length"));
        // The implementation's reason survives, with or without a map.
        assert_eq!(error_of(&Refuses), "no file handles in a key");
        assert_eq!(error_of(&(1u8, Refuses)), "no file handles in a key");
        assert_eq!(error_of(&with_map(Refuses)), "no file handles in a key");
        assert!(error_of(&FailingDisplay).contains("`Display`"));
        assert!(error_of(&with_map(FailingDisplay)).contains("`Display`"));
        assert!(error_of(&Unpaired(&[true, true])).contains("after another key"));
        assert!(error_of(&Unpaired(&[false])).contains("without a key"));
        assert!(error_of(&Unpaired(&[true])).contains("without its value"));
    }

    /// A value in serde's data model, maps included only where postcard's
    /// order is already canonical (a `u8` key's byte is itself).
    #[derive(Debug, Clone, Serialize)]
    enum Sample {
        Bool(bool),
        I8(i8),
        I16(i16),
        I32(i32),
        I64(i64),
        I128(i128),
        U16(u16),
        U32(u32),
        U64(u64),
        U128(u128),
        F32(f32),
        F64(f64),
        Char(char),
        Str(String),
        Bytes(#[serde(serialize_with = "as_bytes")] Vec<u8>),
        Unit,
        Option(Option<Box<Sample>>),
        Seq(Vec<Sample>),
        Tuple((u8, Box<Sample>, ())),
        Pair(Box<Sample>, Box<Sample>),
        Named {
            first: Box<Sample>,
            rest: Vec<Sample>,
        },
        Wrapped(Wrapper),
        Map(BTreeMap<u8, Sample>),
    }

    #[derive(Debug, Clone, Serialize)]
    struct Wrapper(Box<Sample>);

    fn as_bytes<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    fn sample() -> impl Strategy<Value = Sample> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Sample::Bool),
            any::<i8>().prop_map(Sample::I8),
            any::<i16>().prop_map(Sample::I16),
            any::<i32>().prop_map(Sample::I32),
            any::<i64>().prop_map(Sample::I64),
            any::<i128>().prop_map(Sample::I128),
            any::<u16>().prop_map(Sample::U16),
            any::<u32>().prop_map(Sample::U32),
            any::<u64>().prop_map(Sample::U64),
            any::<u128>().prop_map(Sample::U128),
            any::<u32>().prop_map(|bits| Sample::F32(f32::from_bits(bits))),
            any::<u64>().prop_map(|bits| Sample::F64(f64::from_bits(bits))),
            any::<char>().prop_map(Sample::Char),
            ".{0,20}".prop_map(Sample::Str),
            prop::collection::vec(any::<u8>(), 0..300).prop_map(Sample::Bytes),
            Just(Sample::Unit),
            Just(Sample::Option(None)),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                inner
                    .clone()
                    .prop_map(|s| Sample::Option(Some(Box::new(s)))),
                prop::collection::vec(inner.clone(), 0..8).prop_map(Sample::Seq),
                (any::<u8>(), inner.clone()).prop_map(|(n, s)| Sample::Tuple((n, Box::new(s), ()))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Sample::Pair(Box::new(a), Box::new(b))),
                (inner.clone(), prop::collection::vec(inner.clone(), 0..4)).prop_map(
                    |(first, rest)| {
                        Sample::Named {
                            first: Box::new(first),
                            rest,
                        }
                    }
                ),
                inner
                    .clone()
                    .prop_map(|s| Sample::Wrapped(Wrapper(Box::new(s)))),
                prop::collection::btree_map(any::<u8>(), inner, 0..6).prop_map(Sample::Map),
            ]
        })
    }

    type Words = Vec<(String, u64)>;

    /// Some entries, and the same entries in another order.
    fn shuffled_entries() -> impl Strategy<Value = (Words, Words)> {
        prop::collection::btree_map(".{0,8}", any::<u64>(), 0..64).prop_flat_map(|map| {
            let entries: Vec<_> = map.into_iter().collect();
            (Just(entries.clone()), Just(entries).prop_shuffle())
        })
    }

    proptest! {
        #[test]
        fn arbitrary_values_encode_as_postcard_does(value in sample()) {
            let expected = postcard::to_allocvec(&value).unwrap();
            prop_assert_eq!(&to_canonical_bytes(&value).unwrap(), &expected);
            prop_assert_eq!(&through_tree(&value).unwrap(), &expected);
        }

        #[test]
        fn insertion_order_does_not_change_a_hash_map((entries, shuffled) in shuffled_entries()) {
            let one: HashMap<String, u64> = entries.into_iter().collect();
            let other: HashMap<String, u64> = shuffled.into_iter().collect();
            prop_assert_eq!(to_canonical_bytes(&one).unwrap(), to_canonical_bytes(&other).unwrap());
        }

        #[test]
        fn different_maps_encode_differently(
            a in prop::collection::hash_map(".{0,4}", 0u8..4, 0..6),
            b in prop::collection::hash_map(".{0,4}", 0u8..4, 0..6),
        ) {
            let same_bytes = to_canonical_bytes(&a).unwrap() == to_canonical_bytes(&b).unwrap();
            prop_assert_eq!(same_bytes, a == b);
        }
    }
}
