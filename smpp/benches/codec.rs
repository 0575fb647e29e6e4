//! Codec throughput on the gateway's hot path: decoding and encoding the PDUs every message costs (a submit_sm, its
//! response, a receipt deliver_sm), reading and writing receipt texts, and cutting a long text into segments.
//!
//! Encoding writes into one reused `BytesMut`, cleared between iterations, as a connection's write buffer is; decoding
//! takes the frame as `Bytes`, whose clone is a reference count.
//!
//! `cargo bench -p smpp --bench codec`

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use smpp::encoding::{split, ConcatMethod, TextEncoding};
use smpp::pdu::{DeliverSm, SubmitSm, SubmitSmResp};
use smpp::receipt::{self, Receipt, ReceiptDate, ReceiptStat};
use smpp::types::{
    Address, COctetString, DataCoding, EsmClass, Npi, OctetString, RegisteredDelivery, Ton,
};
use smpp::{Body, Pdu, SequenceNumber};

/// The text of the submit_sm: 63 GSM characters, one octet each.
const OTP_TEXT: &str = "Your Sluice code is 482913. It expires in 10 minutes. Thank you";

/// A typical OTP submit_sm of exactly 120 octets: alphanumeric source, international destination, a 63-character GSM
/// text and a receipt requested.
fn submit_sm_120() -> Pdu {
    let body = SubmitSm {
        source_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "SluiceAlert").expect("fits"),
        dest_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4915112345678").expect("fits"),
        registered_delivery: RegisteredDelivery::RECEIPT,
        data_coding: DataCoding::DEFAULT,
        short_message: OctetString::new(OTP_TEXT.as_bytes()).expect("fits"),
        ..SubmitSm::default()
    };
    let pdu = Pdu::new(SequenceNumber(0x1234), Body::SubmitSm(body));
    assert_eq!(pdu.encoded_len(), 120);
    pdu
}

/// A submit_sm_resp carrying a 36-character UUID message id, as Jasmin sends.
fn submit_sm_resp() -> Pdu {
    let id = COctetString::try_from("3e46724f-168a-4c56-b838-1dcaa3cefd9d").expect("fits");
    Pdu::new(
        SequenceNumber(0x1234),
        Body::SubmitSmResp(SubmitSmResp::new(id)),
    )
}

fn receipt() -> Receipt {
    let date = ReceiptDate::new(26, 11, 23, 7, 51, None).expect("a valid date");
    Receipt {
        id: "3e46724f-168a-4c56-b838-1dcaa3cefd9d".into(),
        submitted: Some(1),
        delivered: Some(1),
        submit_date: Some(date),
        done_date: Some(date),
        stat: ReceiptStat::Delivered,
        err: Some("000".into()),
        text: Some("Your Sluice code is ".into()),
    }
}

/// A receipt deliver_sm: esm_class 0x04, the Appendix B text, and the `receipted_message_id` and `message_state` TLVs.
fn receipt_deliver_sm() -> Pdu {
    let receipt = receipt();
    let mut body = DeliverSm {
        source_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4915112345678").expect("fits"),
        dest_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "SluiceAlert").expect("fits"),
        esm_class: EsmClass::DELIVERY_RECEIPT,
        short_message: OctetString::new(receipt.format()).expect("fits"),
        ..DeliverSm::default()
    };
    body.tlvs
        .set_receipted_message_id(receipt.id.as_bytes())
        .expect("fits");
    body.tlvs.set_message_state(2);
    Pdu::new(SequenceNumber(0x1235), Body::DeliverSm(body))
}

fn bench_pdu(c: &mut Criterion, name: &str, pdu: &Pdu) {
    let frame: Bytes = pdu.to_bytes();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode", |b| {
        b.iter(|| Pdu::decode(black_box(frame.clone())).expect("decodes"))
    });
    let mut out = BytesMut::with_capacity(4096);
    group.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            black_box(pdu).encode(&mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

fn codec(c: &mut Criterion) {
    let submit = submit_sm_120();
    bench_pdu(c, "submit_sm_120", &submit);
    bench_pdu(c, "submit_sm_resp", &submit_sm_resp());
    bench_pdu(c, "receipt_deliver_sm", &receipt_deliver_sm());

    let frame = submit.to_bytes();
    let mut out = BytesMut::with_capacity(4096);
    let mut group = c.benchmark_group("round_trip_submit_sm_120");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode_encode", |b| {
        b.iter(|| {
            let pdu = Pdu::decode(black_box(frame.clone())).expect("decodes");
            out.clear();
            pdu.encode(&mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

fn receipts(c: &mut Criterion) {
    let receipt = receipt();
    let text = receipt.format();
    let mut group = c.benchmark_group("receipt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse", |b| {
        b.iter(|| receipt::parse(black_box(text.as_bytes())).expect("parses"))
    });
    group.bench_function("format", |b| b.iter(|| black_box(&receipt).format()));
    group.finish();
}

fn segmentation(c: &mut Criterion) {
    // 3 segments of GSM text with extension characters, and the same length of Cyrillic in UCS-2 (6 segments).
    let gsm_text = "Your order #4821 has shipped [tracking: ABC-123] {ETA 2 days}. ".repeat(6);
    let ucs2_text = "Ваш заказ отправлен. ".repeat(16);
    let method = ConcatMethod::Udh8 { reference: 42 };
    let mut group = c.benchmark_group("split");
    group.throughput(Throughput::Elements(1));
    group.bench_function("gsm_3_segments", |b| {
        b.iter(|| split(black_box(&gsm_text), TextEncoding::Gsm7, method).expect("GSM text"))
    });
    group.bench_function("ucs2_6_segments", |b| {
        b.iter(|| split(black_box(&ucs2_text), TextEncoding::Ucs2, method).expect("any text"))
    });
    group.finish();
}

criterion_group!(benches, codec, receipts, segmentation);
criterion_main!(benches);
