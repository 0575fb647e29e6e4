//! UCS-2 as carried in practice (SMPP 3.4 §5.2.19 `data_coding` 8): UTF-16BE, with surrogate pairs for characters
//! outside the Basic Multilingual Plane, as handsets and SMSCs send emoji.

use bytes::BufMut;

/// Writes `text` as UTF-16BE. Every `char` has a UTF-16 form, so this cannot fail.
pub fn encode_into(text: &str, out: &mut impl BufMut) {
    for unit in text.encode_utf16() {
        out.put_u16(unit);
    }
}

/// `text` as UTF-16BE.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    encode_into(text, &mut out);
    out
}

/// The number of UTF-16 code units `text` takes (two octets each; a character outside the BMP takes two units).
pub fn unit_count(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Appends the text of UTF-16BE `octets` to `out`. A lone surrogate becomes U+FFFD, and so does an odd last octet.
pub fn decode_into(octets: &[u8], out: &mut String) {
    out.reserve(octets.len() / 2);
    let units = octets
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    out.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
    if octets.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
}

/// The text of UTF-16BE `octets` (see [`decode_into`] for what malformed input becomes).
pub fn decode(octets: &[u8]) -> String {
    let mut out = String::with_capacity(octets.len());
    decode_into(octets, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_an_emoji_as_a_surrogate_pair() {
        assert_eq!(encode("😀"), [0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(unit_count("a😀"), 3);
    }

    #[test]
    fn a_lone_surrogate_decodes_to_the_replacement_character() {
        assert_eq!(decode(&[0xD8, 0x3D, 0x00, 0x41]), "\u{FFFD}A");
        assert_eq!(decode(&[0xDE, 0x00]), "\u{FFFD}");
    }

    #[test]
    fn an_odd_last_octet_decodes_to_the_replacement_character() {
        assert_eq!(decode(&[0x00, 0x41, 0x00]), "A\u{FFFD}");
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_the_identity(text in any::<String>()) {
            let octets = encode(&text);
            prop_assert_eq!(octets.len(), unit_count(&text) * 2);
            prop_assert_eq!(decode(&octets), text);
        }

        #[test]
        fn decoding_arbitrary_octets_never_panics(octets in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&octets);
        }
    }
}
