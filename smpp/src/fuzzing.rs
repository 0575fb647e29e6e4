//! The bodies of the fuzz targets in `fuzz/`, kept in the crate so that `cargo test` runs them as well, over the
//! checked-in seed corpus `fuzz/seeds/<target>/` (see `tests/fuzz_seeds.rs`). Hidden from the docs and not part of the
//! API: it may change with the targets.
//!
//! Each body takes the fuzzer's raw input, accepts any input, and panics (by an assertion) only when a property of the
//! codec is broken; that panic is what libFuzzer reports as a crash.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};

use crate::encoding::split::segment_count;
use crate::encoding::{
    char_units, decode, gsm, split, split_packed, ConcatMethod, Segment, SplitError, TextEncoding,
    Udh,
};
use crate::frame::split_frame;
use crate::pdu::{DestAddress, UnsuccessSme};
use crate::tlv::Tlv;
use crate::{receipt, Pdu, DEFAULT_MAX_PDU_LEN};

/// `frame_decode`: cuts an arbitrary byte stream into frames and decodes each one. Checks that a decoded PDU re-encodes
/// to its frame's length, that every error answer is itself a valid PDU, and that decoding allocates no more than the
/// frame's structure needs (see [`decode_allocation_bound`]): no octet of the frame is copied, and no count a peer
/// claims is trusted for an allocation.
pub fn frame_decode(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    loop {
        match split_frame(&mut buf, DEFAULT_MAX_PDU_LEN) {
            Ok(Some(frame)) => check_frame(frame),
            // The rest is a partial or unframeable PDU; decoding it must fail cleanly.
            Ok(None) | Err(_) => {
                if !buf.is_empty() {
                    let rest = buf.split().freeze();
                    let len = rest.len();
                    let decoded = Pdu::decode(rest);
                    assert!(decoded.is_err() || len > DEFAULT_MAX_PDU_LEN);
                    if let Err(e) = decoded {
                        check_answer(&e);
                    }
                }
                return;
            }
        }
    }
}

fn check_frame(frame: Bytes) {
    let len = frame.len();
    let (decoded, peak) = allocated_while(|| Pdu::decode(frame));
    let bound = decode_allocation_bound(len);
    assert!(
        peak <= bound,
        "decoding a {len}-octet frame allocated {peak} bytes (bound {bound})"
    );
    match decoded {
        Ok(pdu) => assert_eq!(pdu.encoded_len(), len, "{pdu:?}"),
        Err(e) => check_answer(&e),
    }
}

/// The answer to a PDU that did not decode must be a PDU that encodes and decodes back to itself.
fn check_answer(e: &crate::PduError) {
    if let Some(answer) = e.response() {
        let bytes = answer.to_bytes();
        assert_eq!(bytes.len(), answer.encoded_len(), "{answer:?}");
        assert_eq!(Pdu::decode(bytes), Ok(answer));
    }
}

/// The most bytes decoding a frame of `frame_len` octets may hold at once. C-Octet Strings are held inline, Octet
/// Strings and TLV values are slices of the frame, so what is allocated is the item lists only (TLVs, `submit_multi`
/// destinations and failures), each item costing its in-memory size for its smallest wire size (4, 2 and 7 octets),
/// doubled for a `Vec`'s growth; plus the one shared header `Bytes` allocates when a frame is first sliced.
pub fn decode_allocation_bound(frame_len: usize) -> usize {
    let per_octet = [
        size_of::<Tlv>().div_ceil(4),
        size_of::<DestAddress>().div_ceil(2),
        size_of::<UnsuccessSme>().div_ceil(7),
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    // A Vec's first allocation holds 4 items, whatever the count; the shared header of `Bytes` is under 64 bytes.
    let first_vec = 4 * size_of::<Tlv>().max(size_of::<DestAddress>());
    2 * per_octet * frame_len + first_vec + 64
}

/// `pdu_roundtrip`: whatever decodes must encode to exactly the same octets, and decode again to the same PDU.
pub fn pdu_roundtrip(data: &[u8]) {
    let frame = Bytes::copy_from_slice(data);
    let Ok(pdu) = Pdu::decode(frame.clone()) else {
        return;
    };
    let mut out = BytesMut::new();
    pdu.encode(&mut out);
    assert_eq!(&out[..], &frame[..], "re-encoding differs for {pdu:?}");
    assert_eq!(pdu.encoded_len(), frame.len(), "{pdu:?}");
    assert_eq!(Pdu::decode(out.freeze()).as_ref(), Ok(&pdu));
}

/// `receipt_parse`: any receipt text that parses formats to one that parses back with the same id, stat, counts and
/// dates. (`err` is zero-padded and `text` cut to 20 characters on the way, by design.)
pub fn receipt_parse(data: &[u8]) {
    let Ok(parsed) = receipt::parse(data) else {
        return;
    };
    let text = parsed.format();
    let again = receipt::parse(text.as_bytes())
        .unwrap_or_else(|e| panic!("{text:?}, the format of {parsed:?}, does not parse: {e}"));
    assert_eq!(again.id, parsed.id, "{text:?}");
    assert_eq!(again.stat, parsed.stat, "{text:?}");
    assert_eq!(
        (again.submitted, again.delivered),
        (parsed.submitted, parsed.delivered),
        "{text:?}"
    );
    assert_eq!(
        (again.submit_date, again.done_date),
        (parsed.submit_date, parsed.done_date),
        "{text:?}"
    );
}

/// `text_split`: the first two octets are the concatenation reference, the rest is the text (invalid UTF-8 replaced).
/// The text is split in every encoding, GSM both unpacked and packed, with every concatenation method; every split
/// that succeeds joins back to the text, its segments fit 140 octets on the air and number themselves 1..=total, and
/// every refusal is justified.
pub fn text_split(data: &[u8]) {
    let (reference, text) = match data {
        [hi, lo, text @ ..] => (u16::from_be_bytes([*hi, *lo]), text),
        _ => (0, data),
    };
    let text = String::from_utf8_lossy(text);
    let methods = [
        ConcatMethod::Udh8 {
            reference: reference.to_be_bytes()[1],
        },
        ConcatMethod::Udh16 { reference },
        ConcatMethod::Sar { reference },
    ];
    let encodings = [
        (TextEncoding::Gsm7, false),
        (TextEncoding::Gsm7, true),
        (TextEncoding::Latin1, false),
        (TextEncoding::Ucs2, false),
    ];
    for method in methods {
        for (encoding, packed) in encodings {
            check_split(&text, encoding, method, packed);
        }
    }
}

fn check_split(text: &str, encoding: TextEncoding, method: ConcatMethod, packed: bool) {
    let result = if packed {
        split_packed(text, method)
    } else {
        split(text, encoding, method)
    };
    let context = format!("{encoding:?} packed={packed} {method:?} {text:?}");
    let segments = match result {
        Ok(segments) => segments,
        Err(SplitError::Unmappable(e)) => {
            assert_eq!(e.encoding, encoding, "{context}");
            assert!(
                text.get(e.index..)
                    .is_some_and(|rest| rest.starts_with(e.character)),
                "{context}: {e}"
            );
            assert_eq!(char_units(e.character, encoding), None, "{context}: {e}");
            return;
        }
        Err(SplitError::TooManySegments { needed }) => {
            assert!(needed > 255, "{context}: {needed}");
            assert_eq!(
                segment_count(text, encoding, method),
                Ok(needed),
                "{context}"
            );
            return;
        }
    };
    assert!(!segments.is_empty(), "{context}");
    assert_eq!(
        segment_count(text, encoding, method),
        Ok(segments.len()),
        "{context}"
    );
    let mut joined = String::with_capacity(text.len());
    for (i, segment) in segments.iter().enumerate() {
        let udh_len = check_segment(segment, encoding, packed, &context);
        let payload = &segment.payload[udh_len..];
        if packed {
            joined.push_str(&packed_segment_text(
                payload,
                gsm::fill_bits(udh_len),
                text.get(joined.len()..).unwrap_or_default(),
            ));
        } else {
            joined.push_str(&decode(payload, encoding));
        }
        match segment.concat {
            Some(concat) => {
                assert_eq!(usize::from(concat.seqnum), i + 1, "{context}");
                assert_eq!(usize::from(concat.total), segments.len(), "{context}");
            }
            None => assert_eq!(segments.len(), 1, "{context}"),
        }
    }
    assert_eq!(joined, text, "{context}");
}

/// The text of one packed segment as a receiver that infers the septet count reads it, given the `rest` of the text
/// it should continue. When the septets end on an octet boundary with a CR, that CR is indistinguishable from the CR
/// that pads 7 spare bits (TS 23.038 §6.1.2.3.1), so both readings are allowed and the one the text continues with is
/// taken. (`split_packed` does not add the second CR the spec suggests for that case: see `gsm::pack_into`.)
fn packed_segment_text(payload: &[u8], fill_bits: u8, rest: &str) -> String {
    let total_bits = (payload.len() * 8).saturating_sub(usize::from(fill_bits));
    if total_bits % 7 == 0 {
        let mut all = Vec::new();
        gsm::unpack_into(payload, fill_bits, Some(total_bits / 7), &mut all);
        let with_cr = gsm::decode(&all);
        if all.last() == Some(&0x0D) && rest.starts_with(&with_cr) {
            return with_cr;
        }
    }
    let mut septets = Vec::new();
    gsm::unpack_into(payload, fill_bits, None, &mut septets);
    gsm::decode(&septets)
}

/// Checks one segment's UDH and size on the air; returns the UDH's length.
fn check_segment(segment: &Segment, encoding: TextEncoding, packed: bool, context: &str) -> usize {
    let udh_len = if segment.udhi {
        let (udh, payload) = Udh::parse(&segment.payload)
            .unwrap_or_else(|e| panic!("{context}: our own UDH does not parse: {e}"));
        assert_eq!(udh.concat(), segment.concat, "{context}");
        segment.payload.len() - payload.len()
    } else {
        0
    };
    let air_octets = match encoding {
        // SMPP carries GSM septets one per octet unless packed; on the air they are packed after the UDH.
        TextEncoding::Gsm7 if !packed => {
            udh_len + gsm::packed_len(segment.payload.len() - udh_len, gsm::fill_bits(udh_len))
        }
        _ => segment.payload.len(),
    };
    assert!(
        air_octets <= 140,
        "{context}: a segment of {air_octets} octets"
    );
    udh_len
}

thread_local! {
    // Const-initialised cells without destructors: reading them never allocates, so the allocator may use them.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

/// A global allocator that counts the bytes each thread holds, for [`allocated_while`]. A fuzz target or test binary
/// installs it with `#[global_allocator]`; without it, [`allocated_while`] measures nothing and reports 0.
pub struct CountingAllocator;

fn note_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add(size);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn note_dealloc(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().wrapping_sub(size)));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counting touches only thread-local cells.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_dealloc(layout.size());
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_dealloc(layout.size());
        note_alloc(new_size);
        // SAFETY: `ptr` came from `System` with `layout`; the caller guarantees `new_size` is valid for it.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the most bytes this thread held at once during it, above what it held before
/// (0 unless [`CountingAllocator`] is the global allocator).
pub fn allocated_while<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, peak.saturating_sub(start))
}
