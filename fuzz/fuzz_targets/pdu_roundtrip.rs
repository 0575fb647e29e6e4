//! Arbitrary bytes as one frame: whatever decodes re-encodes byte for byte.
//! See `smpp::fuzzing::pdu_roundtrip` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smpp::fuzzing::pdu_roundtrip(data));
