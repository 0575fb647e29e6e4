//! A fixed number of submit_sm round trips (decode + encode), the same work as the criterion bench
//! `round_trip_submit_sm_120`, for instruction counts under callgrind, which are stable where wall-clock times on a shared
//! machine are not.
//!
//! ```text
//! cargo bench -p smpp --bench round_trip_count --no-run
//! valgrind --tool=callgrind target/release/deps/round_trip_count-* 100000
//! ```
//!
//! Instructions per round trip: (Ir at N = 200,000 − Ir at N = 100,000) / 100,000, which cancels start-up.

use std::hint::black_box;

use bytes::BytesMut;

use smpp::pdu::SubmitSm;
use smpp::types::{Address, DataCoding, Npi, OctetString, RegisteredDelivery, Ton};
use smpp::{Body, Pdu, SequenceNumber};

/// The criterion bench's 120-octet submit_sm.
fn submit_sm_120() -> Pdu {
    let body = SubmitSm {
        source_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "SluiceAlert").expect("fits"),
        dest_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4915112345678").expect("fits"),
        registered_delivery: RegisteredDelivery::RECEIPT,
        data_coding: DataCoding::DEFAULT,
        short_message: OctetString::new(
            &b"Your Sluice code is 482913. It expires in 10 minutes. Thank you"[..],
        )
        .expect("fits"),
        ..SubmitSm::default()
    };
    let pdu = Pdu::new(SequenceNumber(0x1234), Body::SubmitSm(body));
    assert_eq!(pdu.encoded_len(), 120);
    pdu
}

fn main() {
    // `cargo bench` passes `--bench`; the count is the first numeric argument.
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let frame = submit_sm_120().to_bytes();
    let mut out = BytesMut::with_capacity(4096);
    let mut total = 0usize;
    for _ in 0..n {
        let pdu = Pdu::decode(black_box(frame.clone())).expect("decodes");
        out.clear();
        pdu.encode(&mut out);
        total += black_box(out.len());
    }
    assert_eq!(total as u64, 120 * n);
}
