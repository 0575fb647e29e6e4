//! Golden tests over PDUs captured between third-party SMPP implementations (`shared/peers/captures`): every PDU decodes
//! with the header the capture recorded and re-encodes to the same bytes.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use smpp::pdu::{SubmitSm, MAX_SHORT_MESSAGE};
use smpp::types::{Npi, PriorityFlag, Ton};
use smpp::{Body, CommandId, CommandStatus, Pdu, SequenceNumber, SmppTime};

/// One captured PDU and where it came from.
struct Captured {
    origin: String,
    command_id: CommandId,
    command_status: CommandStatus,
    seq: SequenceNumber,
    bytes: Bytes,
}

fn captures_dir() -> PathBuf {
    // `shared/` sits beside the checkout: /work/shared for both /work/main and /work/wt-*.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/captures");
    assert!(
        dir.is_dir(),
        "the peer captures are expected in {} (the `shared/` folder next to the repository checkout)",
        dir.display()
    );
    dir
}

fn hex_u32(v: &serde_json::Value, field: &str, origin: &str) -> u32 {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{origin}: {field} is not a string"));
    u32::from_str_radix(s.trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("{origin}: {field} {s:?}: {e}"))
}

fn load(file: &str) -> Vec<Captured> {
    let path = captures_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let origin = format!("{file}:{}", n + 1);
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{origin}: {e}"));
            let hex_pdu = v["hex"]
                .as_str()
                .unwrap_or_else(|| panic!("{origin}: no hex"));
            let seq = v["seq"]
                .as_u64()
                .unwrap_or_else(|| panic!("{origin}: no seq"));
            Captured {
                command_id: CommandId(hex_u32(&v, "command_id", &origin)),
                command_status: CommandStatus(hex_u32(&v, "command_status", &origin)),
                seq: SequenceNumber(u32::try_from(seq).expect("seq fits 32 bits")),
                bytes: Bytes::from(
                    hex::decode(hex_pdu).unwrap_or_else(|e| panic!("{origin}: {e}")),
                ),
                origin,
            }
        })
        .collect()
}

fn load_all() -> Vec<Captured> {
    let mut files: Vec<String> = std::fs::read_dir(captures_dir())
        .expect("captures folder is readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".jsonl"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| load(f)).collect()
}

fn decode(c: &Captured) -> Pdu {
    Pdu::decode(c.bytes.clone()).unwrap_or_else(|e| panic!("{}: {e}", c.origin))
}

/// The submit_sm PDUs of one capture file, in order.
fn submits(file: &str) -> Vec<SubmitSm> {
    load(file)
        .iter()
        .filter_map(|c| match decode(c).body {
            Body::SubmitSm(sm) => Some(sm),
            _ => None,
        })
        .collect()
}

#[test]
fn every_captured_pdu_decodes_with_its_header_and_re_encodes_byte_for_byte() {
    let all = load_all();
    assert!(all.len() >= 100, "only {} captured PDUs found", all.len());
    for c in &all {
        let pdu = decode(c);
        assert_eq!(pdu.command_id(), c.command_id, "{}", c.origin);
        assert_eq!(pdu.command_status, c.command_status, "{}", c.origin);
        assert_eq!(pdu.sequence_number, c.seq, "{}", c.origin);
        assert_eq!(pdu.encoded_len(), c.bytes.len(), "{}", c.origin);
        assert_eq!(pdu.to_bytes(), c.bytes, "{}: re-encoding differs", c.origin);
    }
}

#[test]
fn kannel_sends_alphanumeric_sources_as_ton_5_npi_0() {
    let sms = submits("kannel-to-node-smpp.jsonl");
    assert!(!sms.is_empty());
    for sm in &sms {
        assert_eq!(
            (sm.source_addr.ton, sm.source_addr.npi),
            (Ton::ALPHANUMERIC, Npi::UNKNOWN)
        );
        assert_eq!(sm.source_addr.addr, "ACME");
    }
}

#[test]
fn kannel_asks_for_a_receipt_on_the_first_part_of_a_long_message_only() {
    let sms = submits("kannel-to-node-smpp.jsonl");
    // The 3-part GSM message: every part has a UDH, concatenation reference 3, parts 1-3.
    let parts: Vec<&SubmitSm> = sms
        .iter()
        .filter(|sm| {
            sm.esm_class.has_udh() && sm.short_message.as_bytes().starts_with(&[5, 0, 3, 3, 3])
        })
        .collect();
    assert_eq!(parts.len(), 3);
    assert!(parts[0].registered_delivery.wants_receipt(true));
    assert!(!parts[1].registered_delivery.wants_receipt(true));
    assert!(!parts[2].registered_delivery.wants_receipt(false));
    assert!(parts
        .iter()
        .all(|p| p.short_message.len() <= MAX_SHORT_MESSAGE));
}

#[test]
fn jasmin_sends_priority_3_with_an_absolute_validity_period() {
    let sms = submits("jasmin-to-node-smpp.jsonl");
    let long: Vec<&SubmitSm> = sms
        .iter()
        .filter(|sm| sm.priority_flag == PriorityFlag::HIGHEST)
        .collect();
    assert_eq!(long.len(), 2, "the 2-part message");
    for sm in long {
        assert_eq!(sm.validity_period, "261123075650000+");
        assert_eq!(
            SmppTime::parse(sm.validity_period.as_bytes()),
            // 2026-11-23 07:56:50.0 UTC.
            Ok(SmppTime::Absolute {
                unix_seconds: 1_795_420_610,
                tenths: 0
            })
        );
    }
}

#[test]
fn smpplib_marks_otp_messages_with_their_service_type() {
    let sms = submits("smpplib-to-node-smpp.jsonl");
    let otp: Vec<&SubmitSm> = sms.iter().filter(|sm| sm.service_type == "OTP").collect();
    assert_eq!(otp.len(), 1);
    assert_eq!(otp[0].priority_flag, PriorityFlag::HIGHEST);
    assert_eq!(otp[0].payload(), b"Your code is 123456");
}

#[test]
fn jasmin_receipts_carry_the_message_id_and_state_as_tlvs() {
    let receipt = load("smpplib-to-jasmin.jsonl")
        .iter()
        .find_map(|c| match decode(c).body {
            Body::DeliverSm(sm) => Some(sm),
            _ => None,
        })
        .expect("a receipt");
    assert!(receipt.esm_class.is_delivery_receipt());
    assert_eq!(
        receipt.tlvs.receipted_message_id(),
        Some(&b"3e46724f-168a-4c56-b838-1dcaa3cefd9d"[..])
    );
    assert_eq!(receipt.tlvs.message_state(), Some(2));
}
