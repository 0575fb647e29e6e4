//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), unpacked and packed (§6.1.2.1).
//!
//! SMPP's `data_coding` 0 usually carries one septet per octet ("unpacked"); the air interface and some SMSCs use the packed
//! form, so both are here. Lookups go through tables built at compile time, never a search.

use bytes::BufMut;

use super::{EncodeError, TextEncoding};

/// The escape septet: the next septet is read from the extension table (TS 23.038 §6.2.1.1).
pub const ESC: u8 = 0x1B;

/// The default alphabet, indexed by septet (TS 23.038 §6.2.1). 0x1B is the escape; it decodes to a space when it
/// stands alone, as the note to the table asks of a receiver that does not follow the escape.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table's characters as (septet after ESC, char) (TS 23.038 §6.2.1.1). 0x0D (CR2) and 0x1B (a
/// further extension) are control codes with no character and are left out.
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// No GSM mapping, in the encode tables.
const NONE: u16 = 0xFFFF;
/// Marks an entry of the encode tables that needs the escape: the low byte is the extension septet.
const ESCAPED: u16 = 0x1B00;

/// Encode table for U+0000..=U+00FF (the Latin-1 range, where all but one of the alphabet's characters live).
const ENCODE_LATIN1: [u16; 256] = build_latin1_table();

/// Decode table for the extension: the char after ESC, or `'\0'` where the extension table has none.
const DECODE_EXTENSION: [char; 128] = build_extension_decode_table();

const fn build_latin1_table() -> [u16; 256] {
    let mut table = [NONE; 256];
    let mut septet = 0;
    while septet < 128 {
        let c = BASIC[septet] as u32;
        // The escape's own slot decodes to a space but must not encode one: 0x20 already does.
        if septet != ESC as usize && c < 256 {
            table[c as usize] = septet as u16;
        }
        septet += 1;
    }
    let mut i = 0;
    while i < EXTENSION.len() {
        let (code, c) = EXTENSION[i];
        if (c as u32) < 256 {
            table[c as usize] = ESCAPED | code as u16;
        }
        i += 1;
    }
    table
}

const fn build_extension_decode_table() -> [char; 128] {
    let mut table = ['\0'; 128];
    let mut i = 0;
    while i < EXTENSION.len() {
        let (code, c) = EXTENSION[i];
        table[code as usize] = c;
        i += 1;
    }
    table
}

/// The encode-table entry for `c`: a septet, `ESCAPED | septet`, or `NONE`.
#[inline]
fn lookup(c: char) -> u16 {
    let code = c as u32;
    if code < 256 {
        return ENCODE_LATIN1[code as usize];
    }
    // The only characters of the alphabet outside Latin-1: the Greek capitals and the euro sign.
    match c {
        'Δ' => 0x10,
        'Φ' => 0x12,
        'Γ' => 0x13,
        'Λ' => 0x14,
        'Ω' => 0x15,
        'Π' => 0x16,
        'Ψ' => 0x17,
        'Σ' => 0x18,
        'Θ' => 0x19,
        'Ξ' => 0x1A,
        '€' => ESCAPED | 0x65,
        _ => NONE,
    }
}

/// How many septets `c` costs: 1 in the default alphabet, 2 in the extension table, `None` when GSM cannot carry it.
#[inline]
pub fn char_septets(c: char) -> Option<usize> {
    match lookup(c) {
        NONE => None,
        entry if entry & ESCAPED == ESCAPED => Some(2),
        _ => Some(1),
    }
}

/// Whether every character of `text` has a GSM 7-bit mapping.
pub fn can_encode(text: &str) -> bool {
    text.chars().all(|c| lookup(c) != NONE)
}

/// The number of septets `text` takes, an extension character counting two; an error names the first unmappable one.
pub fn septet_count(text: &str) -> Result<usize, EncodeError> {
    let mut septets = 0;
    for (index, c) in text.char_indices() {
        septets += char_septets(c).ok_or(EncodeError {
            encoding: TextEncoding::Gsm7,
            character: c,
            index,
        })?;
    }
    Ok(septets)
}

/// Writes `text` as unpacked septets, one per octet. On error, the septets of the characters before the failing one
/// have been written.
pub fn encode_into(text: &str, out: &mut impl BufMut) -> Result<(), EncodeError> {
    for (index, c) in text.char_indices() {
        match lookup(c) {
            NONE => {
                return Err(EncodeError {
                    encoding: TextEncoding::Gsm7,
                    character: c,
                    index,
                })
            }
            entry if entry & ESCAPED == ESCAPED => {
                out.put_u8(ESC);
                out.put_u8(entry as u8);
            }
            entry => out.put_u8(entry as u8),
        }
    }
    Ok(())
}

/// `text` as unpacked septets, one per octet.
pub fn encode(text: &str) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(text.len());
    encode_into(text, &mut out)?;
    Ok(out)
}

/// Appends the text of unpacked `septets` to `out`. Never fails; what has no meaning decodes as follows:
///
/// - an octet above 0x7F (not a septet) becomes U+FFFD;
/// - ESC followed by a septet the extension table does not define becomes that septet's default-alphabet character, as
///   TS 23.038 §6.2.1.1 (note 1) asks of a receiver;
/// - ESC ESC (reserved for a further extension table) becomes one space, as the same note asks;
/// - an ESC at the end becomes a space, as an escape the receiver cannot follow.
pub fn decode_into(septets: &[u8], out: &mut String) {
    out.reserve(septets.len());
    let mut rest = septets;
    while let Some((&first, tail)) = rest.split_first() {
        rest = tail;
        if first > 0x7F {
            out.push(char::REPLACEMENT_CHARACTER);
            continue;
        }
        if first != ESC {
            out.push(BASIC[usize::from(first)]);
            continue;
        }
        match rest.split_first() {
            None => out.push(' '),
            Some((&ESC, tail)) => {
                rest = tail;
                out.push(' ');
            }
            Some((&next, tail)) if next <= 0x7F => {
                rest = tail;
                match DECODE_EXTENSION[usize::from(next)] {
                    '\0' => out.push(BASIC[usize::from(next)]),
                    c => out.push(c),
                }
            }
            // ESC then a non-septet: the escape cannot be followed; the octet is dealt with on its own next round.
            Some(_) => out.push(' '),
        }
    }
}

/// The text of unpacked `septets` (see [`decode_into`] for what malformed input becomes).
pub fn decode(septets: &[u8]) -> String {
    let mut out = String::with_capacity(septets.len());
    decode_into(septets, &mut out);
    out
}

/// Fill bits needed after a UDH of `udh_len` octets (UDHL included) so the text starts on a septet boundary
/// (TS 23.040 §9.2.3.24: the UDH is counted in whole septets).
pub fn fill_bits(udh_len: usize) -> u8 {
    ((7 - (udh_len * 8) % 7) % 7) as u8
}

/// The number of octets `septets` septets take packed after `fill_bits` fill bits.
pub fn packed_len(septets: usize, fill_bits: u8) -> usize {
    (septets * 7 + usize::from(fill_bits)).div_ceil(8)
}

/// Packs unpacked `septets` into octets, least significant bit first (TS 23.038 §6.1.2.1), after `fill_bits` zero bits
/// (0..=6, for the septet alignment after a UDH). When the last octet has 7 spare bits they hold CR, so a receiver that
/// infers the length does not read an extra `@` (§6.1.2.3.1). Octets above 0x7F are masked to their low 7 bits.
///
/// §6.1.2.3.1 also asks that a message ending in CR on an octet boundary gets a second CR; that is left to the caller,
/// because it can push a full segment past 140 octets.
pub fn pack_into(septets: &[u8], fill_bits: u8, out: &mut impl BufMut) {
    let mut packer = Packer::new(fill_bits);
    for &septet in septets {
        packer.push(septet, out);
    }
    packer.finish(out);
}

/// Writes `text` as packed septets after `fill_bits` fill bits (see [`pack_into`]). On error, the octets of the
/// characters before the failing one have been written.
pub fn encode_packed_into(
    text: &str,
    fill_bits: u8,
    out: &mut impl BufMut,
) -> Result<(), EncodeError> {
    let mut packer = Packer::new(fill_bits);
    for (index, c) in text.char_indices() {
        match lookup(c) {
            NONE => {
                return Err(EncodeError {
                    encoding: TextEncoding::Gsm7,
                    character: c,
                    index,
                })
            }
            entry if entry & ESCAPED == ESCAPED => {
                packer.push(ESC, out);
                packer.push(entry as u8, out);
            }
            entry => packer.push(entry as u8, out),
        }
    }
    packer.finish(out);
    Ok(())
}

/// A bit accumulator that turns septets into octets as they come, so packing needs no intermediate buffer.
struct Packer {
    acc: u32,
    bits: u32,
}

impl Packer {
    fn new(fill_bits: u8) -> Packer {
        Packer {
            acc: 0,
            bits: u32::from(fill_bits % 7),
        }
    }

    #[inline]
    fn push(&mut self, septet: u8, out: &mut impl BufMut) {
        self.acc |= u32::from(septet & 0x7F) << self.bits;
        self.bits += 7;
        if self.bits >= 8 {
            out.put_u8(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    fn finish(mut self, out: &mut impl BufMut) {
        if self.bits > 0 {
            if self.bits == 1 {
                self.acc |= 0x0D << 1;
            }
            out.put_u8(self.acc as u8);
        }
    }
}

/// Unpacks `packed` octets into one septet per octet, skipping `fill_bits` leading fill bits. With `septets` given
/// (from a TP-UDL, say), exactly that many are read if present; with `None` the count is inferred and a CR filling the
/// last 7 bits is dropped as padding (TS 23.038 §6.1.2.3.1).
pub fn unpack_into(packed: &[u8], fill_bits: u8, septets: Option<usize>, out: &mut impl BufMut) {
    let fill = u32::from(fill_bits % 7);
    let total_bits = (packed.len() * 8).saturating_sub(fill as usize);
    let capacity = total_bits / 7;
    let wanted = match septets {
        Some(n) => n.min(capacity),
        None => capacity,
    };
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    let mut written = 0;
    let mut last = None;
    for (i, &octet) in packed.iter().enumerate() {
        if i == 0 {
            acc = u32::from(octet) >> fill;
            bits = 8 - fill;
        } else {
            acc |= u32::from(octet) << bits;
            bits += 8;
        }
        while bits >= 7 && written < wanted {
            let septet = (acc & 0x7F) as u8;
            acc >>= 7;
            bits -= 7;
            written += 1;
            // Hold the last septet back until we know whether it is padding.
            if written == wanted {
                last = Some(septet);
            } else {
                out.put_u8(septet);
            }
        }
    }
    if let Some(septet) = last {
        let is_padding = septets.is_none() && total_bits % 7 == 0 && septet == 0x0D;
        if !is_padding {
            out.put_u8(septet);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every character the alphabet and its extension can carry.
    fn alphabet() -> Vec<char> {
        let mut chars: Vec<char> = BASIC
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != usize::from(ESC))
            .map(|(_, &c)| c)
            .collect();
        chars.extend(EXTENSION.iter().map(|&(_, c)| c));
        chars
    }

    #[test]
    fn every_character_of_the_alphabet_round_trips() {
        for c in alphabet() {
            let text = c.to_string();
            let septets = encode(&text).expect("alphabet character");
            assert_eq!(decode(&septets), text, "{c:?}");
        }
    }

    #[test]
    fn basic_characters_cost_one_septet_and_extension_characters_two() {
        assert_eq!(septet_count("Hello @£$"), Ok(9));
        assert_eq!(septet_count("€[]{}~\\^|\u{0C}"), Ok(20));
        assert_eq!(encode("€").as_deref(), Ok(&[0x1B, 0x65][..]));
        assert_eq!(encode("ΔΩ").as_deref(), Ok(&[0x10, 0x15][..]));
    }

    #[test]
    fn names_the_first_unmappable_character_and_its_byte_index() {
        let err = encode("ok é ç!").expect_err("ç has no GSM mapping");
        assert_eq!(err.character, 'ç');
        assert_eq!(err.index, 6);
        assert_eq!(err.encoding, TextEncoding::Gsm7);
        assert_eq!(septet_count("ab😀"), Err(err_at('😀', 2)));
    }

    fn err_at(character: char, index: usize) -> EncodeError {
        EncodeError {
            encoding: TextEncoding::Gsm7,
            character,
            index,
        }
    }

    #[test]
    fn the_escape_slot_does_not_encode_a_space() {
        assert_eq!(encode(" ").as_deref(), Ok(&[0x20][..]));
    }

    #[test]
    fn an_unknown_escape_sequence_decodes_to_the_basic_character() {
        assert_eq!(decode(&[0x1B, 0x41]), "A");
    }

    #[test]
    fn a_double_escape_or_a_trailing_escape_decodes_to_a_space() {
        assert_eq!(decode(&[0x41, 0x1B, 0x1B, 0x42]), "A B");
        assert_eq!(decode(&[0x41, 0x1B]), "A ");
    }

    #[test]
    fn octets_above_0x7f_decode_to_the_replacement_character() {
        assert_eq!(decode(&[0x41, 0x80, 0x1B, 0xFF]), "A\u{FFFD} \u{FFFD}");
    }

    #[test]
    fn packs_hello_as_in_the_specification_example() {
        // "hellohello" packed is the classic 23.038 worked example: E8 32 9B FD 46 97 D9 EC 37.
        let mut packed = Vec::new();
        pack_into(&encode("hellohello").expect("ascii"), 0, &mut packed);
        assert_eq!(
            packed,
            [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
    }

    #[test]
    fn seven_spare_bits_are_padded_with_cr_and_dropped_on_unpack() {
        let septets = encode("1234567").expect("digits");
        let mut packed = Vec::new();
        pack_into(&septets, 0, &mut packed);
        assert_eq!(packed.len(), 7);
        assert_eq!(packed[6] >> 1, 0x0D);
        let mut unpacked = Vec::new();
        unpack_into(&packed, 0, None, &mut unpacked);
        assert_eq!(unpacked, septets);
    }

    #[test]
    fn fill_bits_align_text_after_a_udh_to_a_septet_boundary() {
        assert_eq!(fill_bits(6), 1);
        assert_eq!(fill_bits(7), 0);
        assert_eq!(fill_bits(0), 0);
        assert_eq!(packed_len(153, fill_bits(6)) + 6, 140);
        assert_eq!(packed_len(152, fill_bits(7)) + 7, 140);
        assert_eq!(packed_len(160, 0), 140);
    }

    #[test]
    fn encoding_packed_matches_packing_the_unpacked_septets() {
        let text = "Price: 5€ [x] {y}";
        for fill in 0..7 {
            let mut direct = Vec::new();
            encode_packed_into(text, fill, &mut direct).expect("GSM text");
            let mut two_step = Vec::new();
            pack_into(&encode(text).expect("GSM text"), fill, &mut two_step);
            assert_eq!(direct, two_step, "fill {fill}");
        }
    }

    proptest! {
        #[test]
        fn pack_then_unpack_with_the_count_is_the_identity(
            septets in proptest::collection::vec(0u8..0x80, 0..200),
            fill in 0u8..7,
        ) {
            let mut packed = Vec::new();
            pack_into(&septets, fill, &mut packed);
            prop_assert_eq!(packed.len(), packed_len(septets.len(), fill));
            let mut unpacked = Vec::new();
            unpack_into(&packed, fill, Some(septets.len()), &mut unpacked);
            prop_assert_eq!(unpacked, septets);
        }

        #[test]
        fn encode_then_decode_is_the_identity_for_gsm_text(
            text in proptest::collection::vec(proptest::sample::select(alphabet()), 0..300)
                .prop_map(|chars| chars.into_iter().collect::<String>()),
        ) {
            let septets = encode(&text).expect("alphabet only");
            prop_assert_eq!(septets.len(), septet_count(&text).expect("alphabet only"));
            prop_assert_eq!(decode(&septets), text);
        }

        #[test]
        fn decoding_arbitrary_octets_never_panics(octets in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&octets);
            let mut out = Vec::new();
            unpack_into(&octets, octets.first().copied().unwrap_or(0) % 7, None, &mut out);
        }
    }
}
