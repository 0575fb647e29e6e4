//! Arbitrary bytes as a stream from a peer: cut into frames, decoded, and every error answered.
//! See `smpp::fuzzing::frame_decode` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

// Counts what decoding allocates, so the body can check that it copies nothing out of the frame.
#[global_allocator]
static ALLOCATOR: smpp::fuzzing::CountingAllocator = smpp::fuzzing::CountingAllocator;

fuzz_target!(|data: &[u8]| smpp::fuzzing::frame_decode(data));
