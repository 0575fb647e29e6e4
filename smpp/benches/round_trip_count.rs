//! A fixed number of submit_sm round trips (decode + encode), the same work as the criterion bench
//! `round_trip_submit_sm_120`, for instruction counts under callgrind, which are stable where wall-clock times on a shared
//! machine are not.
//!
//! ```text
//! cargo bench -p smpp --bench round_trip_count --no-run
//! valgrind --tool=callgrind target/release/deps/round_trip_count-* 100000 [submit_sm|submit_sm_resp|receipt]
//! ```
//!
//! The PDU is the criterion bench's 120-octet submit_sm unless another is named: its submit_sm_resp, or the receipt
//! deliver_sm (with `receipted_message_id` and `message_state` TLVs).
//!
//! Instructions per round trip: (Ir at N = 200,000 − Ir at N = 100,000) / 100,000, which cancels start-up.

use std::hint::black_box;

use bytes::BytesMut;

use smpp::pdu::{DeliverSm, SubmitSm, SubmitSmResp};
use smpp::types::{
    Address, COctetString, DataCoding, EsmClass, Npi, OctetString, RegisteredDelivery, Ton,
};
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

/// The criterion bench's submit_sm_resp with a 36-character message id.
fn submit_sm_resp() -> Pdu {
    let id = COctetString::try_from("3e46724f-168a-4c56-b838-1dcaa3cefd9d").expect("fits");
    Pdu::new(
        SequenceNumber(0x1234),
        Body::SubmitSmResp(SubmitSmResp::new(id)),
    )
}

/// A receipt deliver_sm like the criterion bench's (the same fields and TLVs; the text is fixed here).
fn receipt_deliver_sm() -> Pdu {
    let text = "id:3e46724f-168a-4c56-b838-1dcaa3cefd9d sub:001 dlvrd:001 submit date:2611230751 \
                done date:2611230751 stat:DELIVRD err:000 text:Your Sluice code is ";
    let mut body = DeliverSm {
        source_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4915112345678").expect("fits"),
        dest_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "SluiceAlert").expect("fits"),
        esm_class: EsmClass::DELIVERY_RECEIPT,
        short_message: OctetString::new(text.as_bytes()).expect("fits"),
        ..DeliverSm::default()
    };
    body.tlvs
        .set_receipted_message_id(b"3e46724f-168a-4c56-b838-1dcaa3cefd9d")
        .expect("fits");
    body.tlvs.set_message_state(2);
    Pdu::new(SequenceNumber(0x1235), Body::DeliverSm(body))
}

fn main() {
    // `cargo bench` passes `--bench`; the count is the first numeric argument, the PDU the first other word.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u64 = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let pdu = match args
        .iter()
        .find(|a| !a.starts_with('-') && a.parse::<u64>().is_err())
        .map(String::as_str)
    {
        None | Some("submit_sm") => submit_sm_120(),
        Some("submit_sm_resp") => submit_sm_resp(),
        Some("receipt") => receipt_deliver_sm(),
        Some(other) => panic!("unknown PDU {other}: submit_sm, submit_sm_resp or receipt"),
    };
    let frame = pdu.to_bytes();
    let mut out = BytesMut::with_capacity(4096);
    let mut total = 0usize;
    for _ in 0..n {
        let pdu = Pdu::decode(black_box(frame.clone())).expect("decodes");
        out.clear();
        pdu.encode(&mut out);
        total += black_box(out.len());
    }
    assert_eq!(total as u64, frame.len() as u64 * n);
}
