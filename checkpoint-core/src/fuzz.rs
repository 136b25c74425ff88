//! The decoder's entry point for the cargo-fuzz target in `fuzz/`, compiled
//! only under `--cfg fuzzing` (which cargo-fuzz sets).

use crate::bytes::format::{Limits, decode_file, decode_state};

/// A state with a bit of everything postcard decodes: sequences, strings,
/// options, floats.
type State = (Vec<u64>, String, Option<i32>, Vec<(u8, f64)>);

/// A state of the kinds `bytes/decode.rs` reads in one copy, in a struct
/// and in an enum, beside a text and numbers read through serde.
#[derive(serde::Serialize, serde::Deserialize)]
struct Arrays {
    doubles: Vec<f64>,
    nested: Vec<Vec<f32>>,
    points: Vec<[f64; 3]>,
    text: Option<String>,
    kind: Kind,
}

#[derive(serde::Serialize, serde::Deserialize)]
enum Kind {
    Bytes(Vec<u8>),
    Signed { values: Vec<i8>, scale: i64 },
    None,
}

/// Decodes `bytes` as a checkpoint file, then again with the checksum made
/// valid, then as a state's bytes with this crate's decoder and postcard's.
/// Panics if a file that fails a check is decoded anyway, or if the two
/// decoders disagree.
pub fn decode(bytes: &[u8]) {
    agrees_with_postcard::<State>(bytes);
    agrees_with_postcard::<Arrays>(bytes);
    agrees_with_postcard::<Vec<f32>>(bytes);
    // A cap low enough that the fuzzer's memory limit would catch an
    // allocation from a declared length.
    let limits = Limits {
        max_state_len: 1 << 20,
    };
    let decode_all = |bytes: &[u8]| {
        let (header, payload) = decode_file(bytes, &limits).ok()?;
        let arrays = decode_state::<Arrays>(&header, payload, &limits).ok();
        let vector = decode_state::<Vec<f32>>(&header, payload, &limits).ok();
        let state = decode_state::<State>(&header, payload, &limits).ok();
        (arrays.is_some() || vector.is_some() || state.is_some()).then_some(())
    };
    assert!(
        bytes.len() < 4 || crc_is_valid(bytes) || decode_all(bytes).is_none(),
        "a file with a bad checksum was decoded"
    );
    if let Some(end) = bytes.len().checked_sub(4) {
        let mut fixed = bytes.to_vec();
        let crc = crc32fast::hash(&fixed[..end]);
        fixed[end..].copy_from_slice(&crc.to_le_bytes());
        let _ = decode_all(&fixed);
    }
}

fn crc_is_valid(bytes: &[u8]) -> bool {
    let (covered, stored) = bytes.split_at(bytes.len() - 4);
    stored == crc32fast::hash(covered).to_le_bytes()
}

/// `bytes` decoded as a `S` by `bytes/decode.rs` and by postcard: the same
/// value (by its encoding) and the same bytes after it, or the same error.
fn agrees_with_postcard<S>(bytes: &[u8])
where
    S: serde::Serialize + serde::de::DeserializeOwned,
{
    match (
        crate::bytes::decode::take_from_bytes::<S>(bytes),
        postcard::take_from_bytes::<S>(bytes),
    ) {
        (Ok((ours, our_rest)), Ok((theirs, their_rest))) => {
            assert!(
                postcard::to_allocvec(&ours).ok() == postcard::to_allocvec(&theirs).ok(),
                "the decoders disagree on a value"
            );
            assert_eq!(our_rest, their_rest, "the decoders disagree on its end");
        }
        (Err(ours), Err(theirs)) => assert_eq!(ours, theirs, "the decoders fail differently"),
        _ => panic!("one decoder accepts what the other refuses"),
    }
}
