//! The message as Sluice handles it: ids, the message class, and the states a message passes through.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// An [`Instant`] in eight octets rather than sixteen: signed nanoseconds from the first instant any `Stamp` was made
/// from. Exact for instants within 292 years of that one; no clock is read.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Stamp(i64);

static STAMP_BASE: OnceLock<Instant> = OnceLock::new();

impl Stamp {
    /// The stamp of `t`.
    pub fn of(t: Instant) -> Stamp {
        let base = *STAMP_BASE.get_or_init(|| t);
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        Stamp(if t >= base {
            nanos(t - base)
        } else {
            -nanos(base - t)
        })
    }

    /// The stamp with these nanoseconds from the base (what [`Stamp::nanos`] gave).
    pub fn from_nanos(nanos: i64) -> Stamp {
        Stamp(nanos)
    }

    /// Nanoseconds from the base, to store the stamp as an integer.
    pub fn nanos(self) -> i64 {
        self.0
    }

    /// The instant it stands for.
    pub fn instant(self) -> Instant {
        let base = *STAMP_BASE.get().expect("set by the stamp's making");
        let d = Duration::from_nanos(self.0.unsigned_abs());
        if self.0 >= 0 {
            base + d
        } else {
            base - d
        }
    }
}

/// Sluice's id for an accepted message, given to the client in `submit_sm_resp` and receipts.
///
/// The high 32 bits are the gateway's start time in seconds and the low 32 a counter, so ids stay unique across restarts
/// (one restart per second at most) and 4 billion messages per run. Printed as 16 upper-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016X}", self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

impl FromStr for MessageId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(MessageId)
    }
}

impl MessageId {
    /// The id as the fixed 16 octets it is sent as.
    pub fn to_ascii(self) -> [u8; 16] {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = HEX[((self.0 >> (60 - 4 * i)) & 0xF) as usize];
        }
        out
    }
}

/// Hands out message ids.
#[derive(Debug)]
pub struct MessageIds {
    next: AtomicU64,
}

impl MessageIds {
    /// Ids for a run that started at `start_unix_seconds`.
    pub fn new(start_unix_seconds: u64) -> Self {
        MessageIds {
            next: AtomicU64::new((start_unix_seconds & 0xFFFF_FFFF) << 32),
        }
    }

    /// The next id.
    pub fn next_id(&self) -> MessageId {
        MessageId(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// An account's index in the loaded configuration.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct AccountId(pub u32);

/// A carrier's index in the loaded configuration.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct CarrierId(pub u16);

/// What a message is for; decides its place in the queue and its default validity.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// One-time PIN codes: first out, short-lived.
    Otp,
    /// Transaction and loan confirmations.
    Transactional,
    /// Reminders and onboarding notes.
    Notification,
    /// Campaigns, with opt-out.
    Marketing,
}

impl Class {
    /// Every class, highest priority first.
    pub const ALL: [Class; 4] = [
        Class::Otp,
        Class::Transactional,
        Class::Notification,
        Class::Marketing,
    ];

    /// Position in [`Class::ALL`]: 0 is the highest priority.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in config, the HTTP API and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Otp => "otp",
            Class::Transactional => "transactional",
            Class::Notification => "notification",
            Class::Marketing => "marketing",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Class {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Class::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown class {s:?}: expected otp, transactional, notification or marketing"
                )
            })
    }
}

/// Where a message is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    /// Accepted and waiting in a carrier queue.
    Queued,
    /// Handed to a carrier, which acknowledged it; waiting for its receipt.
    Sent,
    /// The carrier reported delivery.
    Delivered,
    /// The carrier reported it could not be delivered.
    Undeliverable,
    /// Its validity passed before it was sent or delivered.
    Expired,
    /// Refused by a carrier or by routing after acceptance.
    Rejected,
    /// Cancelled by the client while still queued.
    Cancelled,
}

impl MessageState {
    /// The name used in the HTTP API.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Sent => "sent",
            MessageState::Delivered => "delivered",
            MessageState::Undeliverable => "undeliverable",
            MessageState::Expired => "expired",
            MessageState::Rejected => "rejected",
            MessageState::Cancelled => "cancelled",
        }
    }

    /// True once the state can no longer change.
    pub fn is_final(self) -> bool {
        !matches!(self, MessageState::Queued | MessageState::Sent)
    }

    /// The SMPP `message_state` value (SMPP 3.4 §5.2.28).
    pub fn smpp_state(self) -> u8 {
        match self {
            MessageState::Queued | MessageState::Sent => 1,
            MessageState::Delivered => 2,
            MessageState::Expired => 3,
            MessageState::Cancelled => 4,
            MessageState::Undeliverable => 5,
            MessageState::Rejected => 8,
        }
    }

    /// The `stat:` word of a delivery receipt.
    pub fn receipt_stat(self) -> &'static str {
        match self {
            MessageState::Queued | MessageState::Sent => "ENROUTE",
            MessageState::Delivered => "DELIVRD",
            MessageState::Undeliverable => "UNDELIV",
            MessageState::Expired => "EXPIRED",
            MessageState::Rejected => "REJECTD",
            MessageState::Cancelled => "DELETED",
        }
    }

    /// The state a carrier's `stat:` word or `message_state` reports.
    pub fn from_receipt(stat: &str, message_state: Option<u8>) -> MessageState {
        match message_state {
            Some(2) => return MessageState::Delivered,
            Some(3) => return MessageState::Expired,
            Some(4) => return MessageState::Cancelled,
            Some(5) => return MessageState::Undeliverable,
            Some(8) => return MessageState::Rejected,
            _ => {}
        }
        match stat.to_ascii_uppercase().as_str() {
            "DELIVRD" | "DELIVERED" => MessageState::Delivered,
            "EXPIRED" => MessageState::Expired,
            "DELETED" => MessageState::Cancelled,
            "REJECTD" | "REJECTED" => MessageState::Rejected,
            "ACCEPTD" | "ENROUTE" => MessageState::Sent,
            _ => MessageState::Undeliverable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_gives_back_its_instant_before_and_after_the_first() {
        let t = Instant::now();
        for d in [0, 1, 999_999_999, 86_400_000_000_000] {
            let later = t + Duration::from_nanos(d);
            assert_eq!(Stamp::of(later).instant(), later);
            if let Some(earlier) = t.checked_sub(Duration::from_nanos(d)) {
                assert_eq!(Stamp::of(earlier).instant(), earlier);
            }
        }
    }

    #[test]
    fn message_ids_are_sixteen_hex_digits_and_parse_back() {
        let ids = MessageIds::new(0x6560_0000);
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        assert_eq!(a.to_string(), "6560000000000000");
        assert_eq!(&a.to_ascii(), a.to_string().as_bytes());
        assert_eq!("6560000000000001".parse::<MessageId>().unwrap(), b);
    }

    #[test]
    fn classes_parse_case_insensitively_in_priority_order() {
        assert_eq!("OTP".parse::<Class>().unwrap(), Class::Otp);
        assert!(Class::Otp < Class::Marketing);
        assert!("bulk".parse::<Class>().is_err());
    }

    #[test]
    fn receipt_states_prefer_the_message_state_tlv() {
        assert_eq!(
            MessageState::from_receipt("DELIVRD", Some(5)),
            MessageState::Undeliverable
        );
        assert_eq!(
            MessageState::from_receipt("delivrd", None),
            MessageState::Delivered
        );
        assert_eq!(
            MessageState::from_receipt("UNDELIV", None),
            MessageState::Undeliverable
        );
    }
}
