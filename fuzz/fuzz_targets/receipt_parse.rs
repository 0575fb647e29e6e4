//! Arbitrary bytes as a delivery-receipt text: whatever parses formats to a text that parses back the same.
//! See `smpp::fuzzing::receipt_parse` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smpp::fuzzing::receipt_parse(data));
