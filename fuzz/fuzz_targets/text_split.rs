//! A concatenation reference and an arbitrary text, split in every encoding with every concatenation method.
//! See `smpp::fuzzing::text_split` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smpp::fuzzing::text_split(data));
