//! Destination numbers: normalisation to E.164 (ITU-T E.164 §6) and checks on country code, length and digits.

use smpp::types::Ton;

/// Why a destination is not a number Sluice can route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Something other than digits (after an optional leading `+` or `00`).
    #[error("destination {0:?} has characters other than digits")]
    NotDigits(String),
    /// Fewer than 8 or more than 15 digits (E.164 allows at most 15).
    #[error("destination has {0} digits: an international number has 8 to 15")]
    BadLength(usize),
    /// Starts with no assigned country calling code.
    #[error("destination {0} starts with no assigned country calling code")]
    UnknownCountry(String),
    /// A national number, and the account has no default country to complete it.
    #[error("destination {0} is a national number and the account has no default_country")]
    NationalWithoutCountry(String),
}

/// Normalises a destination to E.164 digits (no `+`): international numbers as given (a leading `+` or `00` is dropped),
/// national numbers (TON 2, or a single leading 0) completed with `default_country`.
pub fn normalise(
    addr: &str,
    ton: Ton,
    default_country: Option<&str>,
) -> Result<String, NumberError> {
    let trimmed = addr.trim();
    let (national, digits) = if let Some(rest) = trimmed.strip_prefix('+') {
        (false, rest)
    } else if let Some(rest) = trimmed.strip_prefix("00") {
        (false, rest)
    } else if ton == Ton::NATIONAL || (ton != Ton::INTERNATIONAL && trimmed.starts_with('0')) {
        (true, trimmed.trim_start_matches('0'))
    } else {
        (false, trimmed)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotDigits(addr.to_string()));
    }
    let full = if national {
        let cc =
            default_country.ok_or_else(|| NumberError::NationalWithoutCountry(addr.to_string()))?;
        format!("{cc}{digits}")
    } else {
        digits.to_string()
    };
    if !(8..=15).contains(&full.len()) {
        return Err(NumberError::BadLength(full.len()));
    }
    if country_code(&full).is_none() {
        return Err(NumberError::UnknownCountry(full));
    }
    Ok(full)
}

/// The country calling code a number starts with, if it is an assigned one (ITU-T E.164 list of assigned codes).
pub fn country_code(digits: &str) -> Option<&str> {
    (1..=3)
        .filter_map(|n| digits.get(..n))
        .find(|cc| ASSIGNED.binary_search(cc).is_ok())
}

/// Assigned country calling codes, sorted for binary search. `1` and `7` are shared by several countries.
const ASSIGNED: &[&str] = &[
    "1", "20", "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226",
    "227", "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239",
    "240", "241", "242", "243", "244", "245", "246", "247", "248", "249", "250", "251", "252",
    "253", "254", "255", "256", "257", "258", "260", "261", "262", "263", "264", "265", "266",
    "267", "268", "269", "27", "290", "291", "297", "298", "299", "30", "31", "32", "33", "34",
    "350", "351", "352", "353", "354", "355", "356", "357", "358", "359", "36", "370", "371",
    "372", "373", "374", "375", "376", "377", "378", "379", "380", "381", "382", "383", "385",
    "386", "387", "389", "39", "40", "41", "420", "421", "423", "43", "44", "45", "46", "47", "48",
    "49", "500", "501", "502", "503", "504", "505", "506", "507", "508", "509", "51", "52", "53",
    "54", "55", "56", "57", "58", "590", "591", "592", "593", "594", "595", "596", "597", "598",
    "599", "60", "61", "62", "63", "64", "65", "66", "670", "672", "673", "674", "675", "676",
    "677", "678", "679", "680", "681", "682", "683", "685", "686", "687", "688", "689", "690",
    "691", "692", "7", "800", "808", "81", "82", "84", "850", "852", "853", "855", "856", "86",
    "870", "878", "880", "881", "882", "883", "886", "888", "90", "91", "92", "93", "94", "95",
    "960", "961", "962", "963", "964", "965", "966", "967", "968", "970", "971", "972", "973",
    "974", "975", "976", "977", "979", "98", "992", "993", "994", "995", "996", "998",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_codes_are_sorted_for_binary_search() {
        assert!(ASSIGNED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn international_numbers_lose_their_plus_or_double_zero() {
        assert_eq!(
            normalise("+4915112345678", Ton::INTERNATIONAL, None).unwrap(),
            "4915112345678"
        );
        assert_eq!(
            normalise("004915112345678", Ton::UNKNOWN, None).unwrap(),
            "4915112345678"
        );
        assert_eq!(
            normalise("4915112345678", Ton::INTERNATIONAL, None).unwrap(),
            "4915112345678"
        );
    }

    #[test]
    fn national_numbers_take_the_accounts_country() {
        assert_eq!(
            normalise("015112345678", Ton::NATIONAL, Some("49")).unwrap(),
            "4915112345678"
        );
        assert_eq!(
            normalise("015112345678", Ton::UNKNOWN, Some("49")).unwrap(),
            "4915112345678"
        );
        assert!(matches!(
            normalise("015112345678", Ton::NATIONAL, None),
            Err(NumberError::NationalWithoutCountry(_))
        ));
    }

    #[test]
    fn rejects_letters_bad_lengths_and_unassigned_codes() {
        assert!(matches!(
            normalise("49151abc", Ton::INTERNATIONAL, None),
            Err(NumberError::NotDigits(_))
        ));
        assert!(matches!(
            normalise("4915", Ton::INTERNATIONAL, None),
            Err(NumberError::BadLength(4))
        ));
        assert!(matches!(
            normalise("1234567890123456", Ton::INTERNATIONAL, None),
            Err(NumberError::BadLength(16))
        ));
        assert!(matches!(
            normalise("2891234567", Ton::INTERNATIONAL, None),
            Err(NumberError::UnknownCountry(_))
        ));
    }

    #[test]
    fn finds_one_two_and_three_digit_country_codes() {
        assert_eq!(country_code("14155550100"), Some("1"));
        assert_eq!(country_code("4915112345678"), Some("49"));
        assert_eq!(country_code("2547123456789"), Some("254"));
    }
}
