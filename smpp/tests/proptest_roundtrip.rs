//! Properties of the codec over generated input: every valid PDU survives encode and decode unchanged, and no input,
//! however malformed, makes the decoder, the framer or the time parser panic.

mod common;

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;
use std::time::Duration;

use smpp::frame::split_frame;
use smpp::{Pdu, SmppTime};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn every_valid_pdu_decodes_to_itself(pdu in common::pdu()) {
        let bytes = pdu.to_bytes();
        prop_assert_eq!(pdu.encoded_len(), bytes.len());
        prop_assert_eq!(pdu.header().command_length as usize, bytes.len());
        let decoded = Pdu::decode(bytes);
        prop_assert_eq!(decoded, Ok(pdu));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn decoding_a_framed_body_of_noise_never_panics(frame in common::framed_noise()) {
        if let Err(e) = Pdu::decode(frame) {
            // Whatever failed, the answer (if any) must itself encode.
            if let Some(answer) = e.response() {
                prop_assert_eq!(answer.to_bytes().len(), answer.encoded_len());
            }
        }
    }

    #[test]
    fn decoding_a_valid_pdu_with_flipped_octets_never_panics(
        pdu in common::pdu(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = pdu.to_bytes().to_vec();
        // Keep command_length true so the corruption reaches the body parsers.
        for (at, value) in flips {
            let i = 4 + at.index(bytes.len() - 4);
            bytes[i] = value;
        }
        let _ = Pdu::decode(Bytes::from(bytes));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in vec(any::<u8>(), 0..120)) {
        let _ = Pdu::decode(Bytes::from(bytes));
    }

    #[test]
    fn splitting_an_arbitrary_stream_never_panics(
        chunks in vec(vec(any::<u8>(), 0..64), 0..16),
        max in 0usize..4096,
    ) {
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            while let Ok(Some(frame)) = split_frame(&mut buf, max) {
                prop_assert!(frame.len() >= 16 && frame.len() <= max);
                let _ = Pdu::decode(frame);
            }
        }
    }

    #[test]
    fn parsing_any_sixteen_octets_as_a_time_never_panics(
        value in prop_oneof![
            vec(any::<u8>(), 16),
            (vec(b'0'..=b'9', 15), prop::sample::select(vec![b'+', b'-', b'R']))
                .prop_map(|(mut v, p)| { v.push(p); v }),
        ]
    ) {
        if let Ok(t) = SmppTime::parse(&value) {
            let _ = t.format();
            let _ = t.expires_at(i64::MAX);
            let _ = t.expires_at(i64::MIN);
        }
    }

    #[test]
    fn absolute_times_of_this_century_format_and_parse_back(
        unix_seconds in 946_684_800i64..4_102_444_800,
        tenths in 0u8..=9,
    ) {
        let t = SmppTime::Absolute { unix_seconds, tenths };
        let text = t.format().expect("2000-2099 is representable");
        prop_assert_eq!(SmppTime::parse(&text), Ok(t));
    }

    #[test]
    fn relative_times_under_a_hundred_years_format_and_parse_back(secs in 0u64..100 * 365 * 86_400) {
        let t = SmppTime::Relative(Duration::from_secs(secs));
        let text = t.format().expect("under 100 years is representable");
        prop_assert_eq!(SmppTime::parse(&text), Ok(t));
    }
}
