//! Field types of PDU bodies (SMPP 3.4 §3.1, §5.2): bounded strings, addresses and the one-octet fields.
//!
//! Strings carry their bound in their type (`COctetString<16>` for `system_id`), so a value too long for its field cannot be
//! built. Every one-octet field is an open newtype, so values the spec does not define survive decode and re-encode.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// Why a string cannot be a field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StringError {
    /// The value with its terminating NUL is longer than the field allows.
    #[error("{len} octets is too long: the field holds at most {max} including its NUL")]
    TooLong { len: usize, max: usize },
    /// A C-Octet String cannot hold a NUL: it would end the string early.
    #[error("a C-Octet String cannot contain a NUL octet")]
    ContainsNul,
}

/// A NUL-terminated string of at most `MAX` octets including the NUL (SMPP 3.4 §3.1 "C-Octet String").
///
/// The NUL is not stored; it is added on encode. The octets are held inline, in an array of `MAX`: every C-Octet String
/// field of SMPP is short (65 octets at most), and copying a few octets costs less than the shared reference count a
/// `Bytes` slice of the frame would take and give back (an atomic increment and decrement, ~29 ns here), with no pointer
/// to chase when the value is read.
#[derive(Clone)]
pub struct COctetString<const MAX: usize> {
    /// Octets in use, at most `MAX - 1`.
    len: u8,
    /// The value in `octets[..len]`; what follows is unspecified (the decoder copies whole windows of the frame).
    octets: [u8; MAX],
}

impl<const MAX: usize> COctetString<MAX> {
    /// Fails to compile for a bound the one-octet length cannot hold (SMPP's largest C-Octet String field is 65).
    const FITS: () = assert!(
        MAX >= 1 && MAX <= 256,
        "a COctetString holds 1 to 256 octets"
    );

    /// The empty string, encoded as a single NUL.
    pub const fn empty() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::FITS;
        Self {
            len: 0,
            octets: [0; MAX],
        }
    }

    /// Takes `value` (without NUL) when it fits the field.
    pub fn new(value: impl Into<Bytes>) -> Result<Self, StringError> {
        Self::from_slice(&value.into())
    }

    /// Copies `value` (without NUL) when it fits the field.
    pub fn from_slice(value: &[u8]) -> Result<Self, StringError> {
        if value.len() + 1 > MAX {
            return Err(StringError::TooLong {
                len: value.len() + 1,
                max: MAX,
            });
        }
        if value.contains(&0) {
            return Err(StringError::ContainsNul);
        }
        Ok(Self::from_checked(value))
    }

    /// Copies a value the caller knows fits (shorter than `MAX`, no NUL); for use by the decoder, which has checked both.
    #[inline]
    pub(crate) fn from_checked(value: &[u8]) -> Self {
        debug_assert!(value.len() < MAX && !value.contains(&0));
        let mut s = Self::empty();
        s.octets[..value.len()].copy_from_slice(value);
        s.len = value.len() as u8;
        s
    }

    /// The first `len` octets of `window`, which holds `MAX` octets of the frame; the decoder's fast path, which copies
    /// the fixed-size window (a few moves) rather than calling `memcpy` for a variable length.
    #[inline]
    pub(crate) fn from_window(window: &[u8; MAX], len: usize) -> Self {
        debug_assert!(len < MAX && !window[..len].contains(&0));
        Self {
            len: len as u8,
            octets: *window,
        }
    }

    /// The octets, without the terminating NUL.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        // `len < MAX` is an invariant of every constructor.
        &self.octets[..usize::from(self.len)]
    }

    /// The octets as `Bytes` (a copy), without the terminating NUL.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }

    /// The value as text; octets that are not UTF-8 are replaced.
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// True for the empty string.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Octets on the wire, NUL included.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        usize::from(self.len) + 1
    }

    #[inline]
    pub(crate) fn encode(&self, out: &mut BytesMut) {
        // Most optional strings are empty (service_type, the two times); skipping them saves a call to memcpy each.
        if !self.is_empty() {
            let end = out.len() + self.as_bytes().len();
            if out.capacity() - out.len() >= MAX {
                // Room for the whole array (the PDU's length was reserved, and fields follow): copy all `MAX` octets, a
                // fixed size the compiler does in a few moves rather than a call to memcpy, and cut back to the value.
                out.extend_from_slice(&self.octets);
                out.truncate(end);
            } else {
                out.put_slice(self.as_bytes());
            }
        }
        out.put_u8(0);
    }
}

impl<const MAX: usize> Default for COctetString<MAX> {
    fn default() -> Self {
        Self::empty()
    }
}

// Equality and hashing see the value only, never the unspecified octets after it. Hashing a slice hashes its length and
// octets, as hashing the `Bytes` this type used to hold did.
impl<const MAX: usize> PartialEq for COctetString<MAX> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const MAX: usize> Eq for COctetString<MAX> {}

impl<const MAX: usize> std::hash::Hash for COctetString<MAX> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl<const MAX: usize> TryFrom<&str> for COctetString<MAX> {
    type Error = StringError;
    fn try_from(value: &str) -> Result<Self, StringError> {
        Self::from_slice(value.as_bytes())
    }
}

impl<const MAX: usize> TryFrom<String> for COctetString<MAX> {
    type Error = StringError;
    fn try_from(value: String) -> Result<Self, StringError> {
        Self::from_slice(value.as_bytes())
    }
}

impl<const MAX: usize> fmt::Debug for COctetString<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_str_lossy(), f)
    }
}

impl<const MAX: usize> PartialEq<str> for COctetString<MAX> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const MAX: usize> PartialEq<&str> for COctetString<MAX> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// Raw octets of at most `MAX` octets (SMPP 3.4 §3.1 "Octet String"), e.g. `short_message`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct OctetString<const MAX: usize> {
    bytes: Bytes,
}

impl<const MAX: usize> OctetString<MAX> {
    /// The empty string.
    pub const fn empty() -> Self {
        Self {
            bytes: Bytes::new(),
        }
    }

    /// Takes `value` when it fits the field.
    pub fn new(value: impl Into<Bytes>) -> Result<Self, StringError> {
        let bytes = value.into();
        if bytes.len() > MAX {
            return Err(StringError::TooLong {
                len: bytes.len(),
                max: MAX,
            });
        }
        Ok(Self { bytes })
    }

    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        debug_assert!(bytes.len() <= MAX);
        Self { bytes }
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The octets as shared `Bytes`.
    pub fn to_bytes(&self) -> Bytes {
        self.bytes.clone()
    }

    /// Number of octets.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when there are no octets.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl<const MAX: usize> fmt::Debug for OctetString<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OctetString({} octets)", self.bytes.len())
    }
}

macro_rules! octet_newtype {
    ($(#[$meta:meta])* $name:ident { $($(#[$cmeta:meta])* $const:ident = $value:expr;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub u8);

        impl $name {
            $($(#[$cmeta])* pub const $const: $name = $name($value);)*
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:#04x})"), self.0)
            }
        }
    };
}

octet_newtype!(
    /// Type of Number (SMPP 3.4 §5.2.5).
    Ton {
        /// Unknown.
        UNKNOWN = 0;
        /// International (E.164 with country code).
        INTERNATIONAL = 1;
        /// National.
        NATIONAL = 2;
        /// Network specific.
        NETWORK_SPECIFIC = 3;
        /// Subscriber number.
        SUBSCRIBER = 4;
        /// Alphanumeric (a sender name such as `ACME`).
        ALPHANUMERIC = 5;
        /// Abbreviated (short code).
        ABBREVIATED = 6;
    }
);

octet_newtype!(
    /// Numbering Plan Indicator (SMPP 3.4 §5.2.6).
    Npi {
        /// Unknown.
        UNKNOWN = 0;
        /// ISDN (E.163 / E.164).
        ISDN = 1;
        /// Data (X.121).
        DATA = 3;
        /// Telex (F.69).
        TELEX = 4;
        /// Land mobile (E.212).
        LAND_MOBILE = 6;
        /// National.
        NATIONAL = 8;
        /// Private.
        PRIVATE = 9;
        /// ERMES.
        ERMES = 10;
        /// Internet (IP).
        INTERNET = 14;
        /// WAP client id.
        WAP = 18;
    }
);

octet_newtype!(
    /// `esm_class` (SMPP 3.4 §5.2.12): messaging mode, message type and GSM network features.
    EsmClass {
        /// Default mode and type.
        DEFAULT = 0x00;
        /// Message type: SMSC delivery receipt (on deliver_sm).
        DELIVERY_RECEIPT = 0x04;
        /// GSM feature: the short_message starts with a User Data Header.
        UDHI = 0x40;
    }
);

impl EsmClass {
    /// Messaging mode, bits 1-0: 0 default, 1 datagram, 2 forward (transaction), 3 store and forward.
    pub fn messaging_mode(self) -> u8 {
        self.0 & 0x03
    }

    /// Message type, bits 5-2 (SMPP 3.4 §5.2.12): 0x04 SMSC delivery receipt, 0x08 SME delivery ack, 0x10 SME manual ack,
    /// 0x18 conversation abort, 0x20 intermediate delivery notification.
    pub fn message_type(self) -> u8 {
        self.0 & 0x3C
    }

    /// True when this deliver_sm carries an SMSC delivery receipt.
    pub fn is_delivery_receipt(self) -> bool {
        self.message_type() == 0x04
    }

    /// True when the short_message starts with a User Data Header.
    pub fn has_udh(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// This class with the UDH indicator set or cleared.
    pub fn with_udh(self, udh: bool) -> EsmClass {
        if udh {
            EsmClass(self.0 | 0x40)
        } else {
            EsmClass(self.0 & !0x40)
        }
    }
}

/// Which SMSC delivery receipts the sender asked for: `registered_delivery` bits 1-0 (SMPP 3.4 §5.2.17).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReceiptRequest {
    /// No receipt.
    None,
    /// A receipt whatever the outcome.
    Always,
    /// A receipt only when delivery failed.
    OnFailure,
    /// SMPP 5.0: a receipt only on success.
    OnSuccess,
}

octet_newtype!(
    /// `registered_delivery` (SMPP 3.4 §5.2.17).
    RegisteredDelivery {
        /// No receipt or acknowledgement.
        NONE = 0x00;
        /// SMSC receipt on success or failure.
        RECEIPT = 0x01;
        /// SMSC receipt on failure only.
        RECEIPT_ON_FAILURE = 0x02;
    }
);

impl RegisteredDelivery {
    /// The SMSC delivery receipt requested.
    pub fn receipt(self) -> ReceiptRequest {
        match self.0 & 0x03 {
            0 => ReceiptRequest::None,
            1 => ReceiptRequest::Always,
            2 => ReceiptRequest::OnFailure,
            _ => ReceiptRequest::OnSuccess,
        }
    }

    /// Whether a receipt for a final outcome (`delivered` true for success) should be sent.
    pub fn wants_receipt(self, delivered: bool) -> bool {
        match self.receipt() {
            ReceiptRequest::None => false,
            ReceiptRequest::Always => true,
            ReceiptRequest::OnFailure => !delivered,
            ReceiptRequest::OnSuccess => delivered,
        }
    }
}

octet_newtype!(
    /// `data_coding` (SMPP 3.4 §5.2.19): the alphabet of `short_message`.
    DataCoding {
        /// SMSC default alphabet (GSM 03.38 for most carriers).
        DEFAULT = 0x00;
        /// IA5 (CCITT T.50) / ASCII.
        IA5 = 0x01;
        /// Octet unspecified (8-bit binary).
        BINARY = 0x02;
        /// Latin-1 (ISO-8859-1).
        LATIN1 = 0x03;
        /// Octet unspecified (8-bit binary).
        BINARY_ALT = 0x04;
        /// UCS-2 (ISO/IEC-10646), big-endian.
        UCS2 = 0x08;
    }
);

octet_newtype!(
    /// `priority_flag` (SMPP 3.4 §5.2.14): 0 (lowest) to 3 (highest); SMPP 5.0 allows up to 4.
    PriorityFlag {
        /// Level 0, lowest.
        LOWEST = 0;
        /// Level 3, the highest in SMPP 3.4.
        HIGHEST = 3;
    }
);

/// A `source_addr` or `destination_addr` with its TON and NPI; `MAX` is the address field's bound, NUL included.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Address<const MAX: usize> {
    /// Type of number.
    pub ton: Ton,
    /// Numbering plan.
    pub npi: Npi,
    /// The address digits or name.
    pub addr: COctetString<MAX>,
}

impl<const MAX: usize> Address<MAX> {
    /// An address from its parts; fails when `addr` does not fit the field.
    pub fn new(ton: Ton, npi: Npi, addr: &str) -> Result<Self, StringError> {
        Ok(Self {
            ton,
            npi,
            addr: COctetString::try_from(addr)?,
        })
    }

    /// Octets on the wire.
    pub fn encoded_len(&self) -> usize {
        2 + self.addr.encoded_len()
    }

    #[inline]
    pub(crate) fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&[self.ton.0, self.npi.0]);
        self.addr.encode(out);
    }
}

impl<const MAX: usize> fmt::Debug for Address<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{:?}", self.ton.0, self.npi.0, self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_octet_strings_carry_their_bound() {
        assert!(COctetString::<16>::try_from("fifteen-chars-x").is_ok());
        assert_eq!(
            COctetString::<16>::try_from("sixteen-chars-xx"),
            Err(StringError::TooLong { len: 17, max: 16 })
        );
        assert_eq!(
            COctetString::<16>::try_from("a\0b"),
            Err(StringError::ContainsNul)
        );
    }

    #[test]
    fn c_octet_strings_encode_their_value_and_nul_whatever_room_is_left() {
        let s = COctetString::<21>::from_window(b"4915112345678\0garbage", 13);
        let mut roomy = BytesMut::with_capacity(64);
        s.encode(&mut roomy);
        assert_eq!(&roomy[..], b"4915112345678\0");
        let mut tight = BytesMut::new();
        s.encode(&mut tight);
        assert_eq!(&tight[..], b"4915112345678\0");
    }

    #[test]
    fn registered_delivery_says_when_a_receipt_is_wanted() {
        assert!(RegisteredDelivery(0x01).wants_receipt(true));
        assert!(!RegisteredDelivery(0x02).wants_receipt(true));
        assert!(RegisteredDelivery(0x02).wants_receipt(false));
        assert!(!RegisteredDelivery(0x10).wants_receipt(false));
    }

    #[test]
    fn esm_class_reads_receipts_and_udh() {
        assert!(EsmClass(0x04).is_delivery_receipt());
        assert!(EsmClass(0x44).has_udh());
        assert_eq!(EsmClass(0x03).with_udh(true), EsmClass(0x43));
    }
}
