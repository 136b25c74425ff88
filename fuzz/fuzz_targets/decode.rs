//! Arbitrary bytes into the checkpoint decoder: it must never panic, never
//! allocate beyond its caps, and never decode a file that fails a check.
//! Each input is tried as it is, and again with a valid checksum so that
//! the fuzzer reaches the header and state decoders.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    checkpoint_core::__fuzz::decode(bytes);
});
