//! Text encodings: GSM 03.38, Latin-1, UCS-2, UDH and segmentation.
//!
//! [`TextEncoding`] is the choice of alphabet an SMPP `data_coding` names; [`encode`] and [`decode`] turn text into
//! `short_message` octets and back; [`udh`] reads and writes the User Data Header; [`split()`] cuts a long text into
//! concatenated segments.

pub mod gsm;
pub mod latin1;
pub mod split;
pub mod ucs2;
pub mod udh;

use thiserror::Error;

pub use split::{count_segments, split, split_packed, ConcatMethod, Segment, SplitError};
pub use udh::{Concat, InformationElement, Ports, Udh, UdhError};

/// The alphabet of a text `short_message`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TextEncoding {
    /// The GSM 7-bit default alphabet with its extension table (3GPP TS 23.038 §6.2.1), one septet per octet.
    Gsm7,
    /// ISO-8859-1.
    Latin1,
    /// UCS-2, read and written as UTF-16BE so characters outside the BMP survive.
    Ucs2,
}

impl TextEncoding {
    /// The SMPP `data_coding` value for this alphabet (SMPP 3.4 §5.2.19): 0, 3 or 8.
    pub fn data_coding(self) -> u8 {
        match self {
            TextEncoding::Gsm7 => 0x00,
            TextEncoding::Latin1 => 0x03,
            TextEncoding::Ucs2 => 0x08,
        }
    }

    /// The alphabet a `data_coding` value names, or `None` when it names binary data or an alphabet not handled here.
    ///
    /// - 0 (SMSC default) is taken as GSM 7-bit, which is what SMSCs mean by it in practice; 3 is Latin-1; 8 is UCS-2.
    /// - 0xC0..=0xDF, the message-waiting groups "discard" and "store" (TS 23.038 §4, SMPP 3.4 §5.2.19), use the GSM
    ///   default alphabet; 0xE0..=0xEF ("store", UCS2) use UCS-2.
    /// - 0xF0..=0xFF, "data coding/message class" (TS 23.038 §4): bit 3 is reserved and must be 0, bit 2 chooses
    ///   the default alphabet (0) or 8-bit data (1); so 0xF0..=0xF3 are GSM 7-bit (Kannel sends 0xF0 for a flash
    ///   message) and 0xF4..=0xF7 are binary, hence `None`.
    /// - 1 (IA5/ASCII) is `None` rather than mapped onto another variant, so `data_coding()` never rewrites a value;
    ///   ASCII octets decode correctly with [`TextEncoding::Latin1`], of which ASCII is a subset.
    /// - Everything else (binary 2 and 4, the Japanese, Cyrillic and Hebrew sets, SMPP's reserved range) is `None`.
    pub fn from_data_coding(data_coding: u8) -> Option<TextEncoding> {
        match data_coding {
            0x00 | 0xC0..=0xDF | 0xF0..=0xF3 => Some(TextEncoding::Gsm7),
            0x03 => Some(TextEncoding::Latin1),
            0x08 | 0xE0..=0xEF => Some(TextEncoding::Ucs2),
            _ => None,
        }
    }

    /// The encoding that makes `text` the fewest segments: GSM 7-bit when every character fits, otherwise UCS-2.
    ///
    /// Latin-1 is never chosen here: it is never cheaper than GSM 7-bit (140 characters against 160), it cannot carry
    /// what GSM cannot and UCS-2 can, and many carriers do not support `data_coding` 3. Callers ask for it explicitly.
    pub fn cheapest(text: &str) -> TextEncoding {
        if gsm::can_encode(text) {
            TextEncoding::Gsm7
        } else {
            TextEncoding::Ucs2
        }
    }
}

/// A character that the chosen encoding cannot carry.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
#[error("{character:?} at byte {index} has no {encoding:?} mapping")]
pub struct EncodeError {
    /// The encoding that was asked for.
    pub encoding: TextEncoding,
    /// The first character without a mapping.
    pub character: char,
    /// Its byte offset in the text, as `str::char_indices` counts.
    pub index: usize,
}

/// `text` as `short_message` octets in `encoding` (GSM 7-bit unpacked: one septet per octet).
pub fn encode(text: &str, encoding: TextEncoding) -> Result<Vec<u8>, EncodeError> {
    match encoding {
        TextEncoding::Gsm7 => gsm::encode(text),
        TextEncoding::Latin1 => latin1::encode(text),
        TextEncoding::Ucs2 => Ok(ucs2::encode(text)),
    }
}

/// The text of `short_message` octets in `encoding`; malformed input decodes to replacement characters, never an error.
pub fn decode(octets: &[u8], encoding: TextEncoding) -> String {
    match encoding {
        TextEncoding::Gsm7 => gsm::decode(octets),
        TextEncoding::Latin1 => latin1::decode(octets),
        TextEncoding::Ucs2 => ucs2::decode(octets),
    }
}

/// The number of units `c` costs in `encoding`'s segment budget (septets, octets or UTF-16 code units), or `None`
/// when the encoding cannot carry it.
#[inline]
pub(crate) fn char_units(c: char, encoding: TextEncoding) -> Option<usize> {
    match encoding {
        TextEncoding::Gsm7 => gsm::char_septets(c),
        TextEncoding::Latin1 => (u32::from(c) <= 0xFF).then_some(1),
        TextEncoding::Ucs2 => Some(c.len_utf16()),
    }
}

/// Golden inputs shared by the tests of the encoding and receipt modules: the `short_message` of PDUs captured
/// between third-party implementations (`shared/peers/captures`).
#[cfg(test)]
pub(crate) mod captures {
    /// A submit_sm or deliver_sm from a capture file, with the fields the tests look at.
    #[derive(Debug)]
    pub struct Message {
        pub command_id: u32,
        pub esm_class: u8,
        pub data_coding: u8,
        pub short_message: Vec<u8>,
    }

    /// Every submit_sm (4) and deliver_sm (5) in `file`, in order.
    pub fn messages(file: &str) -> Vec<Message> {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/peers/captures/").to_owned() + file;
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .filter_map(|line| {
                let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                let pdu = hex::decode(record["hex"].as_str().expect("a hex field")).expect("hex");
                body(&pdu)
            })
            .collect()
    }

    /// Reads the submit_sm / deliver_sm body (SMPP 3.4 §4.4.1, §4.6.1) up to the short_message.
    fn body(pdu: &[u8]) -> Option<Message> {
        let command_id = u32::from_be_bytes(pdu.get(4..8)?.try_into().ok()?);
        if command_id != 4 && command_id != 5 {
            return None;
        }
        let mut at = 16;
        let c_string = |at: &mut usize| {
            let len = pdu[*at..].iter().position(|&b| b == 0).expect("a NUL");
            *at += len + 1;
        };
        c_string(&mut at); // service_type
        at += 2; // source_addr_ton, source_addr_npi
        c_string(&mut at); // source_addr
        at += 2; // dest_addr_ton, dest_addr_npi
        c_string(&mut at); // destination_addr
        let esm_class = pdu[at];
        at += 3; // esm_class, protocol_id, priority_flag
        c_string(&mut at); // schedule_delivery_time
        c_string(&mut at); // validity_period
        at += 2; // registered_delivery, replace_if_present_flag
        let data_coding = pdu[at];
        at += 2; // data_coding, sm_default_msg_id
        let sm_length = usize::from(pdu[at]);
        at += 1;
        Some(Message {
            command_id,
            esm_class,
            data_coding,
            short_message: pdu[at..at + sm_length].to_vec(),
        })
    }

    /// The submit_sm messages of `file`.
    pub fn submits(file: &str) -> Vec<Message> {
        messages(file)
            .into_iter()
            .filter(|m| m.command_id == 4)
            .collect()
    }

    /// The deliver_sm messages of `file`.
    pub fn delivers(file: &str) -> Vec<Message> {
        messages(file)
            .into_iter()
            .filter(|m| m.command_id == 5)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_coding_round_trips_for_every_encoding() {
        for encoding in [TextEncoding::Gsm7, TextEncoding::Latin1, TextEncoding::Ucs2] {
            assert_eq!(
                TextEncoding::from_data_coding(encoding.data_coding()),
                Some(encoding)
            );
        }
    }

    #[test]
    fn message_class_codings_map_by_their_alphabet_bit() {
        assert_eq!(
            TextEncoding::from_data_coding(0xF0),
            Some(TextEncoding::Gsm7)
        );
        assert_eq!(
            TextEncoding::from_data_coding(0xF3),
            Some(TextEncoding::Gsm7)
        );
        assert_eq!(TextEncoding::from_data_coding(0xF4), None);
        assert_eq!(TextEncoding::from_data_coding(0xF8), None);
        assert_eq!(
            TextEncoding::from_data_coding(0xE0),
            Some(TextEncoding::Ucs2)
        );
        assert_eq!(
            TextEncoding::from_data_coding(0xD1),
            Some(TextEncoding::Gsm7)
        );
    }

    #[test]
    fn binary_and_unhandled_codings_are_not_text() {
        for data_coding in [0x01, 0x02, 0x04, 0x05, 0x06, 0x09, 0x10, 0xBF] {
            assert_eq!(
                TextEncoding::from_data_coding(data_coding),
                None,
                "{data_coding:#04x}"
            );
        }
    }

    #[test]
    fn cheapest_is_gsm_when_every_character_fits_and_ucs2_otherwise() {
        assert_eq!(TextEncoding::cheapest("Price: 5€ [x]"), TextEncoding::Gsm7);
        assert_eq!(TextEncoding::cheapest("café"), TextEncoding::Gsm7);
        assert_eq!(TextEncoding::cheapest("ça"), TextEncoding::Ucs2);
        assert_eq!(TextEncoding::cheapest("hi 😀"), TextEncoding::Ucs2);
    }

    #[test]
    fn decodes_kannels_gsm_text_with_extension_characters() {
        let submits = captures::submits("kannel-to-node-smpp.jsonl");
        let message = submits
            .iter()
            .find(|m| m.short_message.contains(&gsm::ESC))
            .expect("Kannel's submit_sm with escapes");
        let encoding = TextEncoding::from_data_coding(message.data_coding).expect("a text coding");
        let expected = "Price: 5€ [promo] {x} ~^|\\";
        assert_eq!(decode(&message.short_message, encoding), expected);
        assert_eq!(
            encode(expected, encoding).as_deref(),
            Ok(&message.short_message[..])
        );
    }

    #[test]
    fn decodes_kannels_ucs2_with_an_emoji_surrogate_pair() {
        let submits = captures::submits("kannel-to-node-smpp.jsonl");
        let message = submits
            .iter()
            .find(|m| m.data_coding == 8 && m.esm_class & 0x40 == 0)
            .expect("Kannel's single UCS-2 submit_sm");
        let expected = "Ελληνικά 😀 код";
        assert_eq!(decode(&message.short_message, TextEncoding::Ucs2), expected);
        assert_eq!(
            encode(expected, TextEncoding::Ucs2).as_deref(),
            Ok(&message.short_message[..])
        );
    }

    #[test]
    fn kannels_flash_message_coding_decodes_as_gsm() {
        let submits = captures::submits("kannel-to-node-smpp.jsonl");
        let flash = submits
            .iter()
            .find(|m| m.data_coding == 0xF0)
            .expect("Kannel's flash message");
        let encoding =
            TextEncoding::from_data_coding(flash.data_coding).expect("GSM message class 0");
        assert_eq!(decode(&flash.short_message, encoding), "Flash code 999");
    }
}
