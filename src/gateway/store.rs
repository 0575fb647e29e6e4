//! What Sluice knows about each accepted message, for `query_sm`, cancellation, receipts and the HTTP status API.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use smpp::types::{Address, COctetString, Npi, RegisteredDelivery, Ton};

use crate::message::{AccountId, CarrierId, Class, MessageId, MessageState};

/// One message's record.
#[derive(Clone, Debug)]
pub struct Record {
    /// The submitting account.
    pub account: AccountId,
    /// Its class.
    pub class: Class,
    /// Where it is now.
    pub state: MessageState,
    /// The carrier it went (or is queued) to.
    pub carrier: Option<CarrierId>,
    /// The carrier's id for it, once the carrier answered.
    pub carrier_message_id: Option<Box<str>>,
    /// The sender as the client submitted it.
    pub source: StoredAddress,
    /// The recipient as the client submitted it.
    pub dest: StoredAddress,
    /// The receipts the client asked for.
    pub registered_delivery: RegisteredDelivery,
    /// Unix seconds when accepted.
    pub submitted_at: i64,
    /// Unix seconds when handed to the carrier.
    pub sent_at: Option<i64>,
    /// Unix seconds when it reached a final state.
    pub done_at: Option<i64>,
    /// The carrier's or Sluice's error code for a failure (receipt `err:`).
    pub error: u16,
    /// Monotonic time of acceptance, for latency metrics.
    pub accepted: Instant,
    /// Monotonic time of the final state, for retention.
    pub finished: Option<Instant>,
}

/// An SMPP address kept inline: no allocation, and no `Bytes` pointing into (and so keeping alive) the read buffer
/// of the connection it came from, for as long as the record lives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StoredAddress {
    ton: Ton,
    npi: Npi,
    len: u8,
    // An `Address<21>` holds at most 20 octets before its NUL (SMPP 3.4 §5.2.8).
    octets: [u8; 20],
}

impl StoredAddress {
    /// A copy of `a`.
    pub fn new(a: &Address<21>) -> StoredAddress {
        let bytes = a.addr.as_bytes();
        let len = bytes.len().min(20);
        let mut octets = [0; 20];
        octets[..len].copy_from_slice(&bytes[..len]);
        StoredAddress {
            ton: a.ton,
            npi: a.npi,
            len: len as u8,
            octets,
        }
    }

    /// The address.
    pub fn to_address(&self) -> Address<21> {
        Address {
            ton: self.ton,
            npi: self.npi,
            addr: COctetString::new(bytes::Bytes::copy_from_slice(
                &self.octets[..usize::from(self.len)],
            ))
            .expect("at most 20 octets"),
        }
    }
}

impl std::fmt::Debug for StoredAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_address().fmt(f)
    }
}

/// All records, by message id.
#[derive(Debug, Default)]
pub struct MessageStore {
    records: DashMap<MessageId, Record>,
}

impl MessageStore {
    /// Records a newly accepted message.
    pub fn insert(&self, id: MessageId, record: Record) {
        self.records.insert(id, record);
    }

    /// Forgets a message.
    pub fn remove(&self, id: MessageId) {
        self.records.remove(&id);
    }

    /// A copy of a message's record.
    pub fn get(&self, id: MessageId) -> Option<Record> {
        self.records.get(&id).map(|r| r.clone())
    }

    /// Changes a record in place; returns what `f` returned, or `None` for an unknown id.
    pub fn update<R>(&self, id: MessageId, f: impl FnOnce(&mut Record) -> R) -> Option<R> {
        self.records.get_mut(&id).map(|mut r| f(&mut r))
    }

    /// Moves a message to a final state unless it already has one; returns the record as it now is when it changed.
    pub fn finish(
        &self,
        id: MessageId,
        state: MessageState,
        error: u16,
        now_unix: i64,
        now: Instant,
    ) -> Option<Record> {
        self.update(id, |r| {
            if r.state.is_final() {
                return None;
            }
            r.state = state;
            r.error = error;
            r.done_at = Some(now_unix);
            r.finished = Some(now);
            Some(r.clone())
        })
        .flatten()
    }

    /// Forgets messages that reached a final state more than `retention` ago.
    pub fn expire(&self, now: Instant, retention: Duration) {
        self.records
            .retain(|_, r| r.finished.is_none_or(|f| now.duration_since(f) < retention));
    }

    /// Records kept.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when no records are kept.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_address_gives_back_the_address() {
        for a in [
            Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ACME").unwrap(),
            Address::new(Ton::INTERNATIONAL, Npi::ISDN, "12345678901234567890").unwrap(),
            Address::default(),
        ] {
            assert_eq!(StoredAddress::new(&a).to_address(), a);
        }
    }
}
