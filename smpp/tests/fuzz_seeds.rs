//! Runs the body of every fuzz target (`smpp::fuzzing`) over its checked-in seed corpus, `fuzz/seeds/<target>/`, so
//! the properties the fuzzer checks hold under `cargo test`, and every crash the fuzzer found stays fixed.

use std::path::{Path, PathBuf};

use smpp::fuzzing;

// Lets the frame_decode body measure what decoding allocates, as it does in the fuzz target.
#[global_allocator]
static ALLOCATOR: fuzzing::CountingAllocator = fuzzing::CountingAllocator;

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let data =
                std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            (path, data)
        })
        .collect()
}

fn run_over_seeds(target: &str, body: fn(&[u8])) {
    for (path, data) in seeds(target) {
        let outcome = std::panic::catch_unwind(|| body(&data));
        assert!(outcome.is_ok(), "{target} fails on {}", path.display());
    }
}

#[test]
fn frame_decode_holds_on_every_seed() {
    run_over_seeds("frame_decode", fuzzing::frame_decode);
}

#[test]
fn pdu_roundtrip_holds_on_every_seed() {
    run_over_seeds("pdu_roundtrip", fuzzing::pdu_roundtrip);
}

#[test]
fn receipt_parse_holds_on_every_seed() {
    run_over_seeds("receipt_parse", fuzzing::receipt_parse);
}

#[test]
fn text_split_holds_on_every_seed() {
    run_over_seeds("text_split", fuzzing::text_split);
}

#[test]
fn decoding_a_captured_receipt_allocates_within_the_bound_and_copies_nothing() {
    // A Jasmin receipt deliver_sm: 105 octets of text and two TLVs, whose values all stay in the frame.
    let (_, frame) = seeds("frame_decode")
        .into_iter()
        .find(|(path, _)| {
            path.to_string_lossy().contains("smpplib-to-jasmin")
                && path.to_string_lossy().ends_with("deliver_sm")
        })
        .expect("a captured receipt");
    let frame = bytes::Bytes::from(frame);
    let (pdu, peak) = fuzzing::allocated_while(|| smpp::Pdu::decode(frame.clone()));
    assert!(pdu.is_ok());
    assert!(peak > 0, "the counting allocator is installed");
    assert!(
        peak < frame.len(),
        "decoding allocated {peak} bytes for a {}-octet frame",
        frame.len()
    );
}
