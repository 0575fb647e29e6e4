//! ISO-8859-1 (SMPP 3.4 §5.2.19 `data_coding` 3): one octet per character, U+0000..=U+00FF.

use bytes::BufMut;

use super::{EncodeError, TextEncoding};

/// Whether every character of `text` is in Latin-1.
pub fn can_encode(text: &str) -> bool {
    text.chars().all(|c| u32::from(c) <= 0xFF)
}

/// Writes `text` as Latin-1 octets. On error, the octets of the characters before the failing one have been written.
pub fn encode_into(text: &str, out: &mut impl BufMut) -> Result<(), EncodeError> {
    for (index, c) in text.char_indices() {
        let octet = u8::try_from(u32::from(c)).map_err(|_| EncodeError {
            encoding: TextEncoding::Latin1,
            character: c,
            index,
        })?;
        out.put_u8(octet);
    }
    Ok(())
}

/// `text` as Latin-1 octets.
pub fn encode(text: &str) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(text.len());
    encode_into(text, &mut out)?;
    Ok(out)
}

/// Appends the text of Latin-1 `octets` to `out`; every octet is a character, so this cannot fail.
pub fn decode_into(octets: &[u8], out: &mut String) {
    out.extend(octets.iter().map(|&octet| char::from(octet)));
}

/// The text of Latin-1 `octets`.
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
    fn encodes_accented_letters_as_one_octet_each() {
        assert_eq!(encode("café ÿ").as_deref(), Ok(&b"caf\xE9 \xFF"[..]));
    }

    #[test]
    fn names_the_first_character_outside_latin1() {
        let err = encode("5 €").expect_err("€ is not Latin-1");
        assert_eq!(
            (err.character, err.index, err.encoding),
            ('€', 2, TextEncoding::Latin1)
        );
    }

    proptest! {
        #[test]
        fn decode_then_encode_is_the_identity(octets in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(encode(&decode(&octets)).expect("decoded Latin-1"), octets);
        }
    }
}
