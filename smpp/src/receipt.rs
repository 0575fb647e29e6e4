//! The de-facto delivery receipt text format (`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`).
//!
//! SMPP 3.4 Appendix B gives the format as an example, not a rule, and SMSCs vary: Jasmin leaves out `sub:`, `dlvrd:`
//! and `text:`; ids are decimal, hex or UUIDs; dates have 10 or 12 digits; keys and values come in either case. So
//! [`parse`] is tolerant and needs only `id:` and `stat:`, while [`Receipt::format`] writes the Appendix B form.

use std::fmt;

use thiserror::Error;

/// A delivery receipt, as carried in the `short_message` of a `deliver_sm` with `esm_class` 0x04.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Receipt {
    /// The message id the SMSC gave in `submit_sm_resp`; what the receipt is matched on. Non-empty, no whitespace.
    pub id: String,
    /// `sub:`, the number of messages originally submitted.
    pub submitted: Option<u32>,
    /// `dlvrd:`, the number of messages delivered.
    pub delivered: Option<u32>,
    /// `submit date:`, when the message was submitted.
    pub submit_date: Option<ReceiptDate>,
    /// `done date:`, when the message reached its final state.
    pub done_date: Option<ReceiptDate>,
    /// `stat:`, the message's state.
    pub stat: ReceiptStat,
    /// `err:`, a network or SMSC specific error code, kept as text because SMSCs write it in decimal, hex or letters.
    pub err: Option<String>,
    /// `text:`, the start of the original message (Appendix B says its first 20 characters).
    pub text: Option<String>,
}

/// Why a receipt text could not be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
pub enum ReceiptError {
    /// There is no non-empty `id:` field, so the receipt cannot be matched to a message.
    #[error("the receipt has no id: field")]
    MissingId,
    /// There is no non-empty `stat:` field, so the receipt says nothing.
    #[error("the receipt has no stat: field")]
    MissingStat,
}

/// A receipt date: `YYMMDDhhmm`, or `YYMMDDhhmmss` as some SMSCs write it. Only valid dates and times can be built.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ReceiptDate {
    year: u8,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: Option<u8>,
}

impl ReceiptDate {
    /// A date from its parts, or `None` when one is out of range. `year` is two digits (0..=99), read as 20YY for
    /// leap years.
    pub fn new(
        year: u8,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: Option<u8>,
    ) -> Option<ReceiptDate> {
        let leap = year % 4 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        let valid = year <= 99
            && (1..=days_in_month).contains(&day)
            && hour <= 23
            && minute <= 59
            && second.is_none_or(|second| second <= 59);
        valid.then_some(ReceiptDate {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Reads 10 or 12 ASCII digits; `None` for any other length, a non-digit, or an out-of-range part.
    pub fn parse(digits: &[u8]) -> Option<ReceiptDate> {
        if !matches!(digits.len(), 10 | 12) || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let pair = |i: usize| (digits[i] - b'0') * 10 + (digits[i + 1] - b'0');
        let second = (digits.len() == 12).then(|| pair(10));
        ReceiptDate::new(pair(0), pair(2), pair(4), pair(6), pair(8), second)
    }

    /// The two-digit year.
    pub fn year(self) -> u8 {
        self.year
    }

    /// The month, 1..=12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The hour, 0..=23.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0..=59.
    pub fn minute(self) -> u8 {
        self.minute
    }

    /// The second, when the date had 12 digits.
    pub fn second(self) -> Option<u8> {
        self.second
    }
}

impl fmt::Display for ReceiptDate {
    /// Writes the digits back as they came: 10, or 12 when there are seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )?;
        match self.second {
            Some(second) => write!(f, "{second:02}"),
            None => Ok(()),
        }
    }
}

/// The `stat:` value (SMPP 3.4 Appendix B); open, so a state this crate does not know survives as text.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ReceiptStat {
    /// `ENROUTE`: on its way; message_state 1.
    Enroute,
    /// `DELIVRD`: delivered to the handset; message_state 2.
    Delivered,
    /// `EXPIRED`: the validity period passed first; message_state 3.
    Expired,
    /// `DELETED`: cancelled or deleted at the SMSC; message_state 4.
    Deleted,
    /// `UNDELIV`: cannot be delivered; message_state 5.
    Undeliverable,
    /// `ACCEPTD`: read on the subscriber's behalf by customer service; message_state 6.
    Accepted,
    /// `UNKNOWN`: the message is in an invalid state; message_state 7.
    Unknown,
    /// `REJECTD`: rejected; message_state 8.
    Rejected,
    /// Any other value, as it came.
    Other(String),
}

impl ReceiptStat {
    /// Reads a `stat:` value in any case; the full words some SMSCs write (`DELIVERED`, `UNDELIVERABLE`, `ACCEPTED`,
    /// `REJECTED`) are understood too. Anything else is [`ReceiptStat::Other`].
    pub fn parse(value: &[u8]) -> ReceiptStat {
        const NAMES: [(&[u8], ReceiptStat); 12] = [
            (b"DELIVRD", ReceiptStat::Delivered),
            (b"DELIVERED", ReceiptStat::Delivered),
            (b"EXPIRED", ReceiptStat::Expired),
            (b"DELETED", ReceiptStat::Deleted),
            (b"UNDELIV", ReceiptStat::Undeliverable),
            (b"UNDELIVERABLE", ReceiptStat::Undeliverable),
            (b"ACCEPTD", ReceiptStat::Accepted),
            (b"ACCEPTED", ReceiptStat::Accepted),
            (b"UNKNOWN", ReceiptStat::Unknown),
            (b"REJECTD", ReceiptStat::Rejected),
            (b"REJECTED", ReceiptStat::Rejected),
            (b"ENROUTE", ReceiptStat::Enroute),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(value))
            .map(|(_, stat)| stat.clone())
            .unwrap_or_else(|| ReceiptStat::Other(String::from_utf8_lossy(value).into_owned()))
    }

    /// The seven-letter form Appendix B writes.
    pub fn as_str(&self) -> &str {
        match self {
            ReceiptStat::Enroute => "ENROUTE",
            ReceiptStat::Delivered => "DELIVRD",
            ReceiptStat::Expired => "EXPIRED",
            ReceiptStat::Deleted => "DELETED",
            ReceiptStat::Undeliverable => "UNDELIV",
            ReceiptStat::Accepted => "ACCEPTD",
            ReceiptStat::Unknown => "UNKNOWN",
            ReceiptStat::Rejected => "REJECTD",
            ReceiptStat::Other(other) => other,
        }
    }

    /// The `message_state` value for this stat (SMPP 3.4 §5.2.28), for the TLV of a receipt `deliver_sm`.
    pub fn message_state(&self) -> Option<u8> {
        match self {
            ReceiptStat::Enroute => Some(1),
            ReceiptStat::Delivered => Some(2),
            ReceiptStat::Expired => Some(3),
            ReceiptStat::Deleted => Some(4),
            ReceiptStat::Undeliverable => Some(5),
            ReceiptStat::Accepted => Some(6),
            ReceiptStat::Unknown => Some(7),
            ReceiptStat::Rejected => Some(8),
            ReceiptStat::Other(_) => None,
        }
    }

    /// The stat for a `message_state` value (SMPP 3.4 §5.2.28); `None` for values 3.4 does not define.
    pub fn from_message_state(message_state: u8) -> Option<ReceiptStat> {
        Some(match message_state {
            1 => ReceiptStat::Enroute,
            2 => ReceiptStat::Delivered,
            3 => ReceiptStat::Expired,
            4 => ReceiptStat::Deleted,
            5 => ReceiptStat::Undeliverable,
            6 => ReceiptStat::Accepted,
            7 => ReceiptStat::Unknown,
            8 => ReceiptStat::Rejected,
            _ => return None,
        })
    }

    /// Whether no later receipt will change the state. SMPP 5.0 §4.7.15 makes every state but ENROUTE (and
    /// SCHEDULED) final; an unknown [`ReceiptStat::Other`] is taken as not final, so a later receipt can still settle it.
    pub fn is_final(&self) -> bool {
        !matches!(self, ReceiptStat::Enroute | ReceiptStat::Other(_))
    }

    /// Whether the message reached the handset.
    pub fn is_success(&self) -> bool {
        matches!(self, ReceiptStat::Delivered)
    }
}

impl fmt::Display for ReceiptStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields this parser knows, by the key that starts them.
#[derive(Clone, Copy)]
enum Key {
    Id,
    Submitted,
    Delivered,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

/// Keys as written, matched without regard to case; the underscore forms are seen from some SMSCs.
const KEYS: [(&[u8], Key); 10] = [
    (b"id:", Key::Id),
    (b"sub:", Key::Submitted),
    (b"dlvrd:", Key::Delivered),
    (b"submit date:", Key::SubmitDate),
    (b"submit_date:", Key::SubmitDate),
    (b"done date:", Key::DoneDate),
    (b"done_date:", Key::DoneDate),
    (b"stat:", Key::Stat),
    (b"err:", Key::Err),
    (b"text:", Key::Text),
];

/// The known key `input` starts with, and its length.
fn key_at(input: &[u8]) -> Option<(Key, usize)> {
    KEYS.iter().find_map(|&(name, key)| {
        input
            .get(..name.len())
            .filter(|prefix| prefix.eq_ignore_ascii_case(name))
            .map(|_| (key, name.len()))
    })
}

/// A decimal number of up to `u32::MAX`; `None` for anything else.
fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &d| {
        let digit = d.is_ascii_digit().then(|| u32::from(d - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// Whitespace, or a NUL: a NUL is never part of a value (an id is a C-Octet String, SMPP 3.4 §3.1, which cannot hold
/// one), and a value that kept it would lose it when written last and read back, as trailing NULs are ignored.
fn is_separator(b: &u8) -> bool {
    b.is_ascii_whitespace() || *b == 0
}

fn text_of(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

/// Reads a receipt text. Fields may come in any order, in any case, separated by any whitespace or NULs; unknown fields are
/// skipped; `text:` takes the rest of the input, spaces included. A field whose value cannot be read (a date with a
/// month 13, a `sub:` that is not a number) is left `None` rather than failing the receipt, because the status still
/// matters to the sender; when a field repeats, the first one counts. Trailing NULs and line ends are ignored.
pub fn parse(input: &[u8]) -> Result<Receipt, ReceiptError> {
    let end = input
        .iter()
        .rposition(|&b| !matches!(b, 0 | b'\r' | b'\n'))
        .map_or(0, |last| last + 1);
    let mut rest = input.get(..end).unwrap_or_default();

    let mut id = None;
    let mut submitted = None;
    let mut delivered = None;
    let mut submit_date = None;
    let mut done_date = None;
    let mut stat = None;
    let mut err = None;
    let mut text = None;

    loop {
        let start = rest
            .iter()
            .position(|b| !is_separator(b))
            .unwrap_or(rest.len());
        rest = rest.get(start..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        let key = key_at(rest);
        let value_start = key.map_or(0, |(_, len)| len);
        let after_key = rest.get(value_start..).unwrap_or_default();
        if let Some((Key::Text, _)) = key {
            text = Some(text_of(after_key));
            break;
        }
        let value_len = after_key
            .iter()
            .position(is_separator)
            .unwrap_or(after_key.len());
        let (value, tail) = after_key
            .split_at_checked(value_len)
            .unwrap_or((after_key, &[]));
        rest = tail;
        let Some((key, _)) = key else {
            // An unknown field, or a word of one: skipped.
            continue;
        };
        if value.is_empty() {
            continue;
        }
        match key {
            Key::Id => {
                id.get_or_insert_with(|| text_of(value));
            }
            Key::Submitted => submitted = submitted.or_else(|| number(value)),
            Key::Delivered => delivered = delivered.or_else(|| number(value)),
            Key::SubmitDate => submit_date = submit_date.or_else(|| ReceiptDate::parse(value)),
            Key::DoneDate => done_date = done_date.or_else(|| ReceiptDate::parse(value)),
            Key::Stat => {
                stat.get_or_insert_with(|| ReceiptStat::parse(value));
            }
            Key::Err => {
                err.get_or_insert_with(|| text_of(value));
            }
            Key::Text => {}
        }
    }

    Ok(Receipt {
        id: id.ok_or(ReceiptError::MissingId)?,
        submitted,
        delivered,
        submit_date,
        done_date,
        stat: stat.ok_or(ReceiptError::MissingStat)?,
        err,
        text,
    })
}

impl Receipt {
    /// Reads a receipt text; see [`parse`].
    pub fn parse(input: &[u8]) -> Result<Receipt, ReceiptError> {
        parse(input)
    }

    /// The receipt in the form of SMPP 3.4 Appendix B, as [`fmt::Display`] writes it.
    pub fn format(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Receipt {
    /// Writes `id:{id} sub:{sub:03} dlvrd:{dlvrd:03} submit date:{date} done date:{date} stat:{STAT} err:{err:03}
    /// text:{text}`, leaving out the fields that are `None`, so what was parsed is written back. A numeric `err`
    /// shorter than three digits is zero-padded; `text` is cut to its first 20 characters, as Appendix B has it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "id:{}", self.id)?;
        if let Some(submitted) = self.submitted {
            write!(f, " sub:{submitted:03}")?;
        }
        if let Some(delivered) = self.delivered {
            write!(f, " dlvrd:{delivered:03}")?;
        }
        if let Some(date) = self.submit_date {
            write!(f, " submit date:{date}")?;
        }
        if let Some(date) = self.done_date {
            write!(f, " done date:{date}")?;
        }
        write!(f, " stat:{}", self.stat)?;
        if let Some(err) = &self.err {
            if err.bytes().all(|b| b.is_ascii_digit()) {
                write!(f, " err:{err:0>3}")?;
            } else {
                write!(f, " err:{err}")?;
            }
        }
        if let Some(text) = &self.text {
            let cut = text.char_indices().nth(20).map_or(text.len(), |(at, _)| at);
            write!(f, " text:{}", text.get(..cut).unwrap_or(text))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::captures;
    use proptest::prelude::*;

    const CANONICAL: &str =
        "id:0123456789 sub:001 dlvrd:001 submit date:2611230718 done date:2611230719 \
                             stat:DELIVRD err:000 text:Your code is 123456";

    fn date(digits: &str) -> ReceiptDate {
        ReceiptDate::parse(digits.as_bytes()).expect("a valid date")
    }

    #[test]
    fn parses_the_appendix_b_form() {
        let receipt = parse(CANONICAL.as_bytes()).expect("a canonical receipt");
        assert_eq!(
            receipt,
            Receipt {
                id: "0123456789".into(),
                submitted: Some(1),
                delivered: Some(1),
                submit_date: Some(date("2611230718")),
                done_date: Some(date("2611230719")),
                stat: ReceiptStat::Delivered,
                err: Some("000".into()),
                text: Some("Your code is 123456".into()),
            }
        );
        assert_eq!(receipt.format(), CANONICAL);
    }

    #[test]
    fn reads_the_receipts_of_every_capture() {
        let files = [
            "kannel-to-node-smpp.jsonl",
            "jasmin-to-node-smpp.jsonl",
            "smpplib-to-jasmin.jsonl",
            "smpplib-to-node-smpp.jsonl",
        ];
        let mut seen = 0;
        for file in files {
            for message in captures::delivers(file)
                .iter()
                .filter(|m| m.esm_class & 0x3C == 0x04)
            {
                let receipt = parse(&message.short_message).expect("a captured receipt");
                assert_eq!(receipt.stat, ReceiptStat::Delivered, "{file}");
                assert!(receipt.done_date.is_some(), "{file}");
                assert_eq!(receipt.err.as_deref(), Some("000"), "{file}");
                // Everything parsed is written back as it came.
                assert_eq!(
                    receipt.format().as_bytes(),
                    &message.short_message[..],
                    "{file}"
                );
                seen += 1;
            }
        }
        assert!(seen >= 20, "only {seen} receipts found");
    }

    #[test]
    fn reads_jasmins_receipts_with_uuid_ids_and_no_sub_dlvrd_or_text() {
        let receipts = captures::delivers("smpplib-to-jasmin.jsonl");
        let receipt = parse(&receipts[0].short_message).expect("Jasmin's receipt");
        assert_eq!(receipt.id, "3e46724f-168a-4c56-b838-1dcaa3cefd9d");
        assert_eq!(
            (receipt.submitted, receipt.delivered, receipt.text),
            (None, None, None)
        );
        assert_eq!(receipt.submit_date, Some(date("2611230751")));
    }

    #[test]
    fn reads_node_smpps_receipts_with_an_empty_text() {
        let receipts = captures::delivers("smpplib-to-node-smpp.jsonl");
        let receipt = parse(&receipts[0].short_message).expect("node-smpp's receipt");
        assert_eq!(receipt.id, "C");
        assert_eq!(receipt.text.as_deref(), Some(""));
    }

    #[test]
    fn reads_lower_case_keys_and_stat_values() {
        let receipt = parse(b"ID:ab12 Stat:undeliv ERR:034").expect("lower case receipt");
        assert_eq!(receipt.id, "ab12");
        assert_eq!(receipt.stat, ReceiptStat::Undeliverable);
        assert_eq!(receipt.err.as_deref(), Some("034"));
    }

    #[test]
    fn reads_twelve_digit_dates_with_seconds() {
        let receipt = parse(b"id:1 submit date:261123071859 done date:2611230719 stat:EXPIRED")
            .expect("a receipt");
        let submitted = receipt.submit_date.expect("a date");
        assert_eq!(
            (submitted.hour(), submitted.minute(), submitted.second()),
            (7, 18, Some(59))
        );
        assert_eq!(receipt.done_date.and_then(ReceiptDate::second), None);
        assert_eq!(submitted.to_string(), "261123071859");
    }

    #[test]
    fn skips_unknown_fields_and_extra_spaces() {
        let receipt = parse(
            b"  id:7F3A   smsc:acme  sub:001 foo bar:baz\tstat:DELIVRD   mccmnc:26201 err:000\0\0",
        )
        .expect("a receipt");
        assert_eq!(receipt.id, "7F3A");
        assert_eq!(receipt.submitted, Some(1));
        assert_eq!(receipt.stat, ReceiptStat::Delivered);
        assert_eq!(receipt.err.as_deref(), Some("000"));
    }

    #[test]
    fn text_takes_the_rest_of_the_input_with_its_spaces() {
        let receipt = parse(b"id:1 stat:DELIVRD text:Hi  there stat:REJECTD").expect("a receipt");
        assert_eq!(receipt.text.as_deref(), Some("Hi  there stat:REJECTD"));
        assert_eq!(receipt.stat, ReceiptStat::Delivered);
    }

    #[test]
    fn an_invalid_date_is_left_out_rather_than_losing_the_receipt() {
        let receipt = parse(b"id:1 submit date:2613230718 done date:26112307 stat:DELIVRD")
            .expect("a receipt");
        assert_eq!((receipt.submit_date, receipt.done_date), (None, None));
    }

    #[test]
    fn validates_date_ranges_and_leap_years() {
        assert!(ReceiptDate::parse(b"2402290000").is_some());
        assert!(ReceiptDate::parse(b"2502290000").is_none());
        assert!(ReceiptDate::parse(b"2604310000").is_none());
        assert!(ReceiptDate::parse(b"2601012400").is_none());
        assert!(ReceiptDate::parse(b"2601010060").is_none());
        assert!(ReceiptDate::parse(b"260101000060").is_none());
        assert!(ReceiptDate::parse(b"26010100000").is_none());
        assert!(ReceiptDate::parse(b"26o1010000").is_none());
    }

    #[test]
    fn requires_an_id_and_a_stat() {
        assert_eq!(parse(b"sub:001 stat:DELIVRD"), Err(ReceiptError::MissingId));
        assert_eq!(parse(b"id: stat:DELIVRD"), Err(ReceiptError::MissingId));
        assert_eq!(parse(b"id:1 err:000"), Err(ReceiptError::MissingStat));
        assert_eq!(parse(b""), Err(ReceiptError::MissingId));
    }

    #[test]
    fn a_nul_ends_a_value_so_it_survives_format_and_parse() {
        // Found by the receipt_parse fuzz target: a stat keeping its NUL was cut when written last and read back.
        let receipt = parse(b"stat:SKIPPED\0 id:7\0 err:1").expect("a receipt");
        assert_eq!(receipt.stat, ReceiptStat::Other("SKIPPED".into()));
        assert_eq!(receipt.id, "7");
        let again = parse(receipt.format().as_bytes()).expect("its format");
        assert_eq!((again.id, again.stat), (receipt.id, receipt.stat));
    }

    #[test]
    fn keeps_an_unknown_stat_as_written() {
        let receipt = parse(b"id:1 stat:SKIPPED").expect("a receipt");
        assert_eq!(receipt.stat, ReceiptStat::Other("SKIPPED".into()));
        assert_eq!(receipt.format(), "id:1 stat:SKIPPED");
        assert!(!receipt.stat.is_final());
    }

    #[test]
    fn stats_map_to_and_from_message_states() {
        for state in 1..=8 {
            let stat = ReceiptStat::from_message_state(state).expect("an SMPP 3.4 state");
            assert_eq!(stat.message_state(), Some(state));
            assert_eq!(ReceiptStat::parse(stat.as_str().as_bytes()), stat);
        }
        assert_eq!(ReceiptStat::from_message_state(0), None);
        assert_eq!(ReceiptStat::from_message_state(9), None);
    }

    #[test]
    fn only_enroute_is_not_final_and_only_delivered_is_success() {
        assert!(!ReceiptStat::Enroute.is_final());
        assert!(ReceiptStat::Unknown.is_final());
        assert!(ReceiptStat::Rejected.is_final());
        assert!(ReceiptStat::Delivered.is_success());
        assert!(!ReceiptStat::Accepted.is_success());
    }

    #[test]
    fn understands_full_word_stats() {
        assert_eq!(ReceiptStat::parse(b"delivered"), ReceiptStat::Delivered);
        assert_eq!(
            ReceiptStat::parse(b"UNDELIVERABLE"),
            ReceiptStat::Undeliverable
        );
    }

    #[test]
    fn pads_a_short_numeric_err_and_cuts_text_to_20_characters() {
        let receipt = parse(b"id:1 stat:UNDELIV err:5 text:\xC3\xA9tait une fois un long message")
            .expect("a receipt");
        assert_eq!(
            receipt.format(),
            "id:1 stat:UNDELIV err:005 text:était une fois un lo"
        );
    }

    fn canonical_receipt() -> impl Strategy<Value = Receipt> {
        let date = (
            0u8..=99,
            1u8..=12,
            1u8..=28,
            0u8..=23,
            0u8..=59,
            proptest::option::of(0u8..=59),
        )
            .prop_filter_map("valid date", |(y, mo, d, h, mi, s)| {
                ReceiptDate::new(y, mo, d, h, mi, s)
            });
        let stat = (1u8..=8).prop_filter_map("3.4 state", ReceiptStat::from_message_state);
        (
            "[0-9A-Za-z-]{1,64}",
            0u32..=999,
            0u32..=999,
            date.clone(),
            date,
            stat,
            "[0-9]{3}",
            "[ -~]{0,20}",
        )
            .prop_map(|(id, sub, dlvrd, submit, done, stat, err, text)| Receipt {
                id,
                submitted: Some(sub),
                delivered: Some(dlvrd),
                submit_date: Some(submit),
                done_date: Some(done),
                stat,
                err: Some(err),
                text: Some(text),
            })
    }

    proptest! {
        #[test]
        fn format_then_parse_is_the_identity(receipt in canonical_receipt()) {
            prop_assert_eq!(parse(receipt.format().as_bytes()), Ok(receipt));
        }

        #[test]
        fn parsing_arbitrary_bytes_never_panics(input in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&input);
        }

        #[test]
        fn parsing_receipt_like_text_never_panics(
            words in proptest::collection::vec(
                prop_oneof![
                    "(id|sub|dlvrd|submit date|done date|stat|err|text|ID|Stat):[0-9a-zA-Z-]{0,14}",
                    "[ \t\0:]{0,3}",
                    "[^ ]{0,8}",
                ],
                0..20,
            )
        ) {
            let _ = parse(words.concat().as_bytes());
        }
    }
}
