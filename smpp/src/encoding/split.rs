//! Cutting a long text into concatenated segments (3GPP TS 23.040 §9.2.3.24.1 and .8; SMPP 3.4 §5.3.2.22–24 for SAR).
//!
//! A segment's budget is what remains of the 140-octet user data after the UDH: 160 / 153 / 152 GSM septets,
//! 140 / 134 / 133 Latin-1 octets, 70 / 67 / 66 UTF-16 code units (no UDH / 8-bit reference / 16-bit reference).
//! Cuts fall between characters only, so a GSM escape pair (ESC + extension septet) and a UTF-16 surrogate pair always
//! stay in one segment. All segments of a text share one allocation.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use super::udh::{IEI_CONCAT_16, IEI_CONCAT_8};
use super::{char_units, gsm, latin1, ucs2, Concat, EncodeError, TextEncoding};

/// The user data an SMS carries, in octets (TS 23.040 §9.2.3.16: 140 octets, 160 septets).
const USER_DATA_OCTETS: usize = 140;

/// How the segments of a long message say they belong together.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConcatMethod {
    /// A UDH with IEI 0x00 (6 octets with its length octet).
    Udh8 {
        /// The reference shared by every segment.
        reference: u8,
    },
    /// A UDH with IEI 0x08 (7 octets with its length octet).
    Udh16 {
        /// The reference shared by every segment.
        reference: u16,
    },
    /// SMPP's `sar_msg_ref_num`, `sar_total_segments` and `sar_segment_seqnum` TLVs; the payload has no UDH.
    ///
    /// Segments keep the 8-bit-reference UDH budget (153 / 134 / 67) although the payload carries no UDH, as is usual
    /// practice: the SMSC turns SAR into a UDH towards the handset and needs the room.
    Sar {
        /// The `sar_msg_ref_num` shared by every segment.
        reference: u16,
    },
}

impl ConcatMethod {
    /// The UDH octets this method puts in each segment's payload.
    fn udh_len(self) -> usize {
        match self {
            ConcatMethod::Udh8 { .. } => 6,
            ConcatMethod::Udh16 { .. } => 7,
            ConcatMethod::Sar { .. } => 0,
        }
    }

    /// The UDH octets a segment's budget leaves room for.
    fn reserved_len(self) -> usize {
        match self {
            ConcatMethod::Udh8 { .. } | ConcatMethod::Sar { .. } => 6,
            ConcatMethod::Udh16 { .. } => 7,
        }
    }

    /// Writes the concatenation UDH for part `seqnum` of `total` (TS 23.040 §9.2.3.24.1 and .8); nothing for SAR.
    fn put_udh(self, total: u8, seqnum: u8, out: &mut impl BufMut) {
        match self {
            ConcatMethod::Udh8 { reference } => {
                out.put_slice(&[0x05, IEI_CONCAT_8, 0x03, reference, total, seqnum])
            }
            ConcatMethod::Udh16 { reference } => {
                out.put_slice(&[0x06, IEI_CONCAT_16, 0x04]);
                out.put_u16(reference);
                out.put_slice(&[total, seqnum]);
            }
            ConcatMethod::Sar { .. } => {}
        }
    }

    fn reference(self) -> u16 {
        match self {
            ConcatMethod::Udh8 { reference } => u16::from(reference),
            ConcatMethod::Udh16 { reference } | ConcatMethod::Sar { reference } => reference,
        }
    }
}

/// One `short_message` of a split text.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Segment {
    /// The `short_message`: the UDH (when `udhi`) followed by the encoded text.
    pub payload: Bytes,
    /// Where the segment sits in the message; `None` when the text fits in one message.
    pub concat: Option<Concat>,
    /// Whether the payload starts with a UDH, so `esm_class` needs UDHI (0x40).
    pub udhi: bool,
}

/// Why a text could not be split.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
pub enum SplitError {
    /// The encoding cannot carry a character of the text.
    #[error(transparent)]
    Unmappable(#[from] EncodeError),
    /// The text needs more than the 255 segments a concatenation element can count.
    #[error("the text needs {needed} segments; at most 255 can be concatenated")]
    TooManySegments {
        /// Segments the text would take.
        needed: usize,
    },
}

/// Units (septets, octets or UTF-16 code units) one message carries in `encoding` when `udh_len` UDH octets come first.
fn budget(encoding: TextEncoding, udh_len: usize) -> usize {
    let octets = USER_DATA_OCTETS - udh_len;
    match encoding {
        // The UDH is counted in whole septets (TS 23.040 §9.2.3.24), hence the floor.
        TextEncoding::Gsm7 => octets * 8 / 7,
        TextEncoding::Latin1 => octets,
        TextEncoding::Ucs2 => octets / 2,
    }
}

/// The units `text` takes in `encoding`, or the first character it cannot carry.
fn units(text: &str, encoding: TextEncoding) -> Result<usize, EncodeError> {
    match encoding {
        TextEncoding::Gsm7 => gsm::septet_count(text),
        TextEncoding::Latin1 => match text.char_indices().find(|&(_, c)| u32::from(c) > 0xFF) {
            Some((index, character)) => Err(EncodeError {
                encoding,
                character,
                index,
            }),
            None => Ok(text.chars().count()),
        },
        TextEncoding::Ucs2 => Ok(ucs2::unit_count(text)),
    }
}

/// A byte range of the text that makes one segment, and the units it takes.
struct Part {
    start: usize,
    end: usize,
    units: usize,
}

/// Walks the text cutting it into parts of at most `budget` units, between characters only.
struct Parts<'a> {
    text: &'a str,
    encoding: TextEncoding,
    budget: usize,
    at: usize,
    error: Option<EncodeError>,
}

impl Iterator for Parts<'_> {
    type Item = Part;

    fn next(&mut self) -> Option<Part> {
        let rest = self.text.get(self.at..).filter(|rest| !rest.is_empty())?;
        let start = self.at;
        let mut units = 0;
        let mut end = self.text.len();
        for (offset, c) in rest.char_indices() {
            let Some(cost) = char_units(c, self.encoding) else {
                self.error = Some(EncodeError {
                    encoding: self.encoding,
                    character: c,
                    index: start + offset,
                });
                self.at = self.text.len();
                return None;
            };
            if units + cost > self.budget {
                end = start + offset;
                break;
            }
            units += cost;
        }
        self.at = end;
        Some(Part { start, end, units })
    }
}

/// The number of segments `text` takes in `encoding` with `method`; more than 255 is reported, not refused.
pub fn segment_count(
    text: &str,
    encoding: TextEncoding,
    method: ConcatMethod,
) -> Result<usize, EncodeError> {
    if units(text, encoding)? <= budget(encoding, 0) {
        return Ok(1);
    }
    let mut parts = parts(text, encoding, method);
    let count = parts.by_ref().count();
    match parts.error {
        Some(error) => Err(error),
        None => Ok(count),
    }
}

/// The encoding [`TextEncoding::cheapest`] picks for `text` and the segments it takes there with an 8-bit-reference
/// UDH, as [`split`] would cut it.
pub fn count_segments(text: &str) -> (TextEncoding, usize) {
    let method = ConcatMethod::Udh8 { reference: 0 };
    match segment_count(text, TextEncoding::Gsm7, method) {
        Ok(count) => (TextEncoding::Gsm7, count),
        // UCS-2 carries every character, so the count cannot fail; 0 would only mark a broken invariant.
        Err(_) => (
            TextEncoding::Ucs2,
            segment_count(text, TextEncoding::Ucs2, method).unwrap_or(0),
        ),
    }
}

fn parts(text: &str, encoding: TextEncoding, method: ConcatMethod) -> Parts<'_> {
    Parts {
        text,
        encoding,
        budget: budget(encoding, method.reserved_len()),
        at: 0,
        error: None,
    }
}

/// Cuts `text` into `short_message` payloads in `encoding` (GSM 7-bit unpacked, one septet per octet, as SMPP
/// carries `data_coding` 0). A text that fits in one message makes one segment without a UDH.
pub fn split(
    text: &str,
    encoding: TextEncoding,
    method: ConcatMethod,
) -> Result<Vec<Segment>, SplitError> {
    split_with(text, encoding, method, false)
}

/// As [`split`] in GSM 7-bit, with the septets packed (TS 23.038 §6.1.2.1) and, after a UDH, the fill bits that start
/// the text on a septet boundary; for SMSCs that take packed GSM in `short_message`.
pub fn split_packed(text: &str, method: ConcatMethod) -> Result<Vec<Segment>, SplitError> {
    split_with(text, TextEncoding::Gsm7, method, true)
}

fn split_with(
    text: &str,
    encoding: TextEncoding,
    method: ConcatMethod,
    packed: bool,
) -> Result<Vec<Segment>, SplitError> {
    let total_units = units(text, encoding)?;
    let octets = |units: usize, udh_len: usize| match encoding {
        TextEncoding::Gsm7 if packed => gsm::packed_len(units, gsm::fill_bits(udh_len)),
        TextEncoding::Gsm7 | TextEncoding::Latin1 => units,
        TextEncoding::Ucs2 => units * 2,
    };

    if total_units <= budget(encoding, 0) {
        let mut buf = BytesMut::with_capacity(octets(total_units, 0));
        encode_text(text, encoding, packed, 0, &mut buf)?;
        return Ok(vec![Segment {
            payload: buf.freeze(),
            concat: None,
            udhi: false,
        }]);
    }

    let mut cutter = parts(text, encoding, method);
    let parts: Vec<Part> = cutter.by_ref().collect();
    if let Some(error) = cutter.error {
        return Err(error.into());
    }
    let total = u8::try_from(parts.len()).map_err(|_| SplitError::TooManySegments {
        needed: parts.len(),
    })?;

    let udh_len = method.udh_len();
    let capacity = parts
        .iter()
        .map(|part| udh_len + octets(part.units, udh_len))
        .sum();
    let mut buf = BytesMut::with_capacity(capacity);
    let mut segments = Vec::with_capacity(parts.len());
    for (seqnum, part) in (1..=total).zip(&parts) {
        method.put_udh(total, seqnum, &mut buf);
        let slice = text.get(part.start..part.end).unwrap_or_default();
        encode_text(slice, encoding, packed, udh_len, &mut buf)?;
        segments.push(Segment {
            payload: buf.split().freeze(),
            concat: Some(Concat {
                reference: method.reference(),
                total,
                seqnum,
            }),
            udhi: udh_len > 0,
        });
    }
    Ok(segments)
}

fn encode_text(
    text: &str,
    encoding: TextEncoding,
    packed: bool,
    udh_len: usize,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    match encoding {
        TextEncoding::Gsm7 if packed => gsm::encode_packed_into(text, gsm::fill_bits(udh_len), out),
        TextEncoding::Gsm7 => gsm::encode_into(text, out),
        TextEncoding::Latin1 => latin1::encode_into(text, out),
        TextEncoding::Ucs2 => {
            ucs2::encode_into(text, out);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::udh::{Udh, UDHI};
    use crate::encoding::{captures, decode};
    use proptest::prelude::*;

    const UDH8: ConcatMethod = ConcatMethod::Udh8 { reference: 7 };
    const UDH16: ConcatMethod = ConcatMethod::Udh16 { reference: 0x1234 };
    const SAR: ConcatMethod = ConcatMethod::Sar { reference: 0x0102 };

    /// The text of segments put back together, reading each one's UDH when it has one.
    fn join(segments: &[Segment], encoding: TextEncoding, packed: bool) -> String {
        let mut text = String::new();
        for segment in segments {
            let (udh_len, payload) = if segment.udhi {
                let (_, payload) = Udh::parse(&segment.payload).expect("our own UDH");
                (segment.payload.len() - payload.len(), payload)
            } else {
                (0, &segment.payload[..])
            };
            if packed {
                let mut septets = Vec::new();
                gsm::unpack_into(payload, gsm::fill_bits(udh_len), None, &mut septets);
                text.push_str(&gsm::decode(&septets));
            } else {
                text.push_str(&decode(payload, encoding));
            }
        }
        text
    }

    /// Octets a segment takes on the air interface, where GSM septets are packed.
    fn air_octets(segment: &Segment, encoding: TextEncoding, packed: bool) -> usize {
        let udh_len = if segment.udhi {
            usize::from(segment.payload[0]) + 1
        } else {
            0
        };
        match encoding {
            TextEncoding::Gsm7 if !packed => {
                udh_len + gsm::packed_len(segment.payload.len() - udh_len, gsm::fill_bits(udh_len))
            }
            _ => segment.payload.len(),
        }
    }

    #[test]
    fn a_text_that_fits_makes_one_segment_without_udh() {
        let text = "a".repeat(160);
        let segments = split(&text, TextEncoding::Gsm7, UDH8).expect("GSM text");
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].payload.len(), 160);
        assert_eq!((segments[0].concat, segments[0].udhi), (None, false));
    }

    #[test]
    fn an_empty_text_makes_one_empty_segment() {
        let segments = split("", TextEncoding::Ucs2, UDH8).expect("empty text");
        assert_eq!(segments.len(), 1);
        assert!(segments[0].payload.is_empty());
    }

    #[test]
    fn cuts_gsm_at_153_septets_with_an_8_bit_reference() {
        let text = "a".repeat(161);
        let segments = split(&text, TextEncoding::Gsm7, UDH8).expect("GSM text");
        assert_eq!(segments.len(), 2);
        assert_eq!(&segments[0].payload[..6], &[0x05, 0x00, 0x03, 7, 2, 1]);
        assert_eq!(segments[0].payload.len(), 6 + 153);
        assert_eq!(segments[1].payload.len(), 6 + 8);
        assert!(segments.iter().all(|s| s.udhi));
    }

    #[test]
    fn cuts_gsm_at_152_septets_with_a_16_bit_reference() {
        let text = "a".repeat(161);
        let segments = split(&text, TextEncoding::Gsm7, UDH16).expect("GSM text");
        assert_eq!(
            &segments[0].payload[..7],
            &[0x06, 0x08, 0x04, 0x12, 0x34, 2, 1]
        );
        assert_eq!(segments[0].payload.len(), 7 + 152);
    }

    #[test]
    fn cuts_ucs2_at_67_and_66_code_units() {
        let text = "ж".repeat(71);
        let udh8 = split(&text, TextEncoding::Ucs2, UDH8).expect("UCS-2");
        assert_eq!(udh8[0].payload.len(), 6 + 134);
        let udh16 = split(&text, TextEncoding::Ucs2, UDH16).expect("UCS-2");
        assert_eq!(udh16[0].payload.len(), 7 + 132);
        assert_eq!(
            split(&"ж".repeat(70), TextEncoding::Ucs2, UDH8).map(|s| s.len()),
            Ok(1)
        );
    }

    #[test]
    fn cuts_latin1_at_134_octets() {
        let text = "é".repeat(141);
        let segments = split(&text, TextEncoding::Latin1, UDH8).expect("Latin-1");
        assert_eq!(segments[0].payload.len(), 6 + 134);
        assert_eq!(
            split(&"é".repeat(140), TextEncoding::Latin1, UDH8).map(|s| s.len()),
            Ok(1)
        );
    }

    #[test]
    fn sar_segments_have_no_udh_and_report_their_place() {
        let text = "a".repeat(200);
        let segments = split(&text, TextEncoding::Gsm7, SAR).expect("GSM text");
        assert_eq!(segments.len(), 2);
        assert_eq!(segments[0].payload.len(), 153);
        assert!(!segments[0].udhi);
        assert_eq!(
            segments[1].concat,
            Some(Concat {
                reference: 0x0102,
                total: 2,
                seqnum: 2
            })
        );
    }

    #[test]
    fn never_splits_an_escape_pair() {
        // 152 septets, then an extension character whose ESC would be the 153rd septet.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let segments = split(&text, TextEncoding::Gsm7, UDH8).expect("GSM text");
        assert_eq!(segments[0].payload.len(), 6 + 152);
        assert_eq!(&segments[1].payload[6..8], &[gsm::ESC, 0x65]);
        assert_eq!(join(&segments, TextEncoding::Gsm7, false), text);
    }

    #[test]
    fn never_splits_a_surrogate_pair() {
        let text = format!("{}😀{}", "a".repeat(66), "b".repeat(10));
        let segments = split(&text, TextEncoding::Ucs2, UDH8).expect("UCS-2");
        assert_eq!(segments[0].payload.len(), 6 + 66 * 2);
        assert_eq!(&segments[1].payload[6..10], &[0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(join(&segments, TextEncoding::Ucs2, false), text);
    }

    #[test]
    fn refuses_more_than_255_segments() {
        let text = "a".repeat(153 * 255 + 1);
        assert_eq!(
            split(&text, TextEncoding::Gsm7, UDH8),
            Err(SplitError::TooManySegments { needed: 256 })
        );
        assert_eq!(
            split(&"a".repeat(153 * 255), TextEncoding::Gsm7, UDH8).map(|s| s.len()),
            Ok(255)
        );
    }

    #[test]
    fn refuses_a_character_the_encoding_cannot_carry() {
        let err = split("price: 5 ₽", TextEncoding::Gsm7, UDH8).expect_err("₽ is not GSM");
        assert!(matches!(
            err,
            SplitError::Unmappable(EncodeError {
                character: '₽',
                index: 9,
                ..
            })
        ));
    }

    #[test]
    fn packed_segments_fill_to_a_septet_boundary_after_the_udh() {
        let text = "a".repeat(200);
        let segments = split_packed(&text, UDH8).expect("GSM text");
        assert_eq!(segments[0].payload.len(), 140);
        assert_eq!(join(&segments, TextEncoding::Gsm7, true), text);
    }

    #[test]
    fn counts_segments_in_the_cheapest_encoding() {
        assert_eq!(count_segments("hello"), (TextEncoding::Gsm7, 1));
        assert_eq!(count_segments(&"€".repeat(80)), (TextEncoding::Gsm7, 1));
        assert_eq!(count_segments(&"€".repeat(81)), (TextEncoding::Gsm7, 2));
        assert_eq!(count_segments(&"😀".repeat(35)), (TextEncoding::Ucs2, 1));
        assert_eq!(count_segments(&"😀".repeat(36)), (TextEncoding::Ucs2, 2));
    }

    /// Re-splitting the text of a captured long message gives back the captured payloads byte for byte.
    fn assert_resplit_matches(file: &str, reference: u8, data_coding: u8) {
        let parts: Vec<Vec<u8>> = captures::submits(file)
            .into_iter()
            .filter(|m| m.esm_class & UDHI != 0 && m.data_coding == data_coding)
            .map(|m| m.short_message)
            .filter(|sm| sm.get(3) == Some(&reference))
            .collect();
        assert!(
            !parts.is_empty(),
            "{file}: no long message with reference {reference}"
        );
        let encoding = TextEncoding::from_data_coding(data_coding).expect("a text coding");
        let text: String = parts.iter().map(|sm| decode(&sm[6..], encoding)).collect();
        let segments =
            split(&text, encoding, ConcatMethod::Udh8 { reference }).expect("captured text");
        let payloads: Vec<&[u8]> = segments.iter().map(|s| &s.payload[..]).collect();
        let expected: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        assert_eq!(payloads, expected, "{file}");
    }

    #[test]
    fn resplits_kannels_3_part_gsm_message_byte_for_byte() {
        assert_resplit_matches("kannel-to-node-smpp.jsonl", 3, 0x00);
    }

    #[test]
    fn resplits_kannels_3_part_ucs2_message_byte_for_byte() {
        assert_resplit_matches("kannel-to-node-smpp.jsonl", 4, 0x08);
    }

    #[test]
    fn resplits_jasmins_long_messages_byte_for_byte() {
        assert_resplit_matches("jasmin-to-node-smpp.jsonl", 1, 0x00);
        assert_resplit_matches("jasmin-to-node-smpp.jsonl", 0xFD, 0x08);
        assert_resplit_matches("smpplib-to-node-smpp.jsonl", 0xDB, 0x08);
    }

    fn gsm_text() -> impl Strategy<Value = String> {
        // Weighted towards extension characters so escape pairs land on every cut position.
        let chars = prop_oneof![
            3 => proptest::sample::select(vec!['a', ' ', '@', 'Δ', 'é', '\n', 'Ü']),
            1 => proptest::sample::select(vec!['€', '[', ']', '{', '}', '~', '\\', '^', '|', '\u{0C}']),
        ];
        proptest::collection::vec(chars, 0..700).prop_map(|chars| chars.into_iter().collect())
    }

    fn methods() -> impl Strategy<Value = ConcatMethod> {
        prop_oneof![
            any::<u8>().prop_map(|reference| ConcatMethod::Udh8 { reference }),
            any::<u16>().prop_map(|reference| ConcatMethod::Udh16 { reference }),
            any::<u16>().prop_map(|reference| ConcatMethod::Sar { reference }),
        ]
    }

    fn check(
        text: &str,
        encoding: TextEncoding,
        method: ConcatMethod,
        packed: bool,
    ) -> Result<(), TestCaseError> {
        let segments = if packed {
            split_packed(text, method)
        } else {
            split(text, encoding, method)
        }
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(join(&segments, encoding, packed), text);
        prop_assert_eq!(Ok(segments.len()), segment_count(text, encoding, method));
        for (i, segment) in segments.iter().enumerate() {
            prop_assert!(
                air_octets(segment, encoding, packed) <= USER_DATA_OCTETS,
                "segment {} too long",
                i
            );
            if let Some(concat) = segment.concat {
                prop_assert_eq!(usize::from(concat.seqnum), i + 1);
                prop_assert_eq!(usize::from(concat.total), segments.len());
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn split_then_join_gives_back_gsm_text(text in gsm_text(), method in methods(), packed in any::<bool>()) {
            check(&text, TextEncoding::Gsm7, method, packed)?;
        }

        #[test]
        fn split_then_join_gives_back_any_text_in_ucs2(text in ".{0,400}", method in methods()) {
            check(&text, TextEncoding::Ucs2, method, false)?;
        }

        #[test]
        fn split_then_join_gives_back_latin1_text(text in "[\\x00-\\xFF]{0,400}", method in methods()) {
            check(&text, TextEncoding::Latin1, method, false)?;
        }

        #[test]
        fn count_segments_agrees_with_split(text in ".{0,400}") {
            let (encoding, count) = count_segments(&text);
            let segments = split(&text, encoding, ConcatMethod::Udh8 { reference: 0 })
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(count, segments.len());
        }
    }
}
