//! What Sluice knows about each accepted message, for `query_sm`, cancellation, receipts and the HTTP status API.

use std::collections::VecDeque;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use smpp::types::{Address, RegisteredDelivery};

use crate::message::{AccountId, CarrierId, Class, MessageId, MessageState};

/// How a message came in, which decides how its receipt goes out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    /// An SMPP submit_sm: the receipt is a deliver_sm to the account's receiver binds.
    Smpp,
    /// The HTTP API: the receipt is a webhook.
    Http {
        /// Whether the client wants to hear when the carrier takes it (Kannel's DLR event 8), not only its outcome.
        report_sent: bool,
    },
}

/// A Unix time in whole seconds, in four octets (good until 2106): a record holds three, and a million records are kept.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct UnixSecs(NonZeroU32);

impl UnixSecs {
    /// The time `unix` seconds after 1970 (clamped to what four octets hold).
    pub fn new(unix: i64) -> UnixSecs {
        let secs = unix.clamp(1, i64::from(u32::MAX)) as u32;
        UnixSecs(NonZeroU32::new(secs).unwrap_or(NonZeroU32::MIN))
    }

    /// Seconds since 1970.
    pub fn get(self) -> i64 {
        i64::from(self.0.get())
    }
}

/// One message's record. Kept small (112 octets): a million are held while a carrier is down.
#[derive(Clone, Debug)]
pub struct Record {
    /// The submitting account.
    pub account: AccountId,
    /// Its class.
    pub class: Class,
    /// How it came in.
    pub origin: Origin,
    /// Where it is now.
    pub state: MessageState,
    /// The carrier it went (or is queued) to.
    pub carrier: Option<CarrierId>,
    /// The carrier's id for it, once the carrier answered.
    pub carrier_message_id: Option<Box<str>>,
    /// The sender as the client submitted it.
    pub source: Address<21>,
    /// The recipient as the client submitted it.
    pub dest: Address<21>,
    /// The receipts the client asked for.
    pub registered_delivery: RegisteredDelivery,
    /// When accepted.
    pub submitted_at: UnixSecs,
    /// When handed to the carrier.
    pub sent_at: Option<UnixSecs>,
    /// When it reached a final state.
    pub done_at: Option<UnixSecs>,
    /// The carrier's or Sluice's error code for a failure (receipt `err:`).
    pub error: u16,
    /// Monotonic time of acceptance, for latency metrics.
    pub accepted: Instant,
}

/// Hashes message ids with one multiply. Sluice assigns the ids (a counter), so SipHash's resistance to chosen keys
/// buys nothing, and it showed in profiles (`hash_one` ~2% of the gateway's CPU). The multiplier spreads consecutive ids
/// over the high bits hashbrown tags with and DashMap picks shards by; the low bits stay a permutation of the counter's.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Final records each [`MessageStore::finish`] forgets, at most, when they are due: more than the one it adds, so the
/// store keeps up with any steady rate, and the work is spread over the messages instead of done in bulk by a sweep
/// (removing 50,000 records in one go held a worker for 17 ms, and every task queued behind it waited that long).
const EXPIRE_PER_FINISH: usize = 2;

/// All records, by message id.
#[derive(Debug)]
pub struct MessageStore {
    /// Boxed: the table holds millions of entries and grows by doubling, so each slot is 16 octets rather than a whole
    /// record, both in the spare half of the table and in what every resize copies.
    records: DashMap<MessageId, Box<Record>, BuildHasherDefault<IdHasher>>,
    /// Final records in the order they became final, so expiry visits only those due rather than every record.
    finished: Mutex<VecDeque<(Instant, MessageId)>>,
    /// How long final records are kept.
    retention: Duration,
    /// Beyond this many final records, the oldest go early.
    max_final: usize,
}

impl MessageStore {
    /// An empty store that keeps final records for `retention`, and at most `max_final` of them.
    pub fn new(retention: Duration, max_final: usize) -> Self {
        MessageStore {
            records: DashMap::default(),
            finished: Mutex::new(VecDeque::new()),
            retention,
            max_final,
        }
    }

    /// Records a newly accepted message.
    pub fn insert(&self, id: MessageId, record: Record) {
        self.records.insert(id, Box::new(record));
    }

    /// Forgets a message.
    pub fn remove(&self, id: MessageId) {
        self.records.remove(&id);
    }

    /// A copy of a message's record.
    pub fn get(&self, id: MessageId) -> Option<Record> {
        self.records.get(&id).map(|r| Record::clone(&r))
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
        let done = self
            .update(id, |r| {
                if r.state.is_final() {
                    return None;
                }
                r.state = state;
                r.error = error;
                r.done_at = Some(UnixSecs::new(now_unix));
                Some(r.clone())
            })
            .flatten()?;
        let due = {
            let mut finished = self.lock_finished();
            finished.push_back((now, id));
            self.take_due(&mut finished, now, EXPIRE_PER_FINISH)
        };
        self.forget(due);
        Some(done)
    }

    /// Takes up to `limit` ids off the front of `finished` that are past the retention or beyond the bound.
    fn take_due(
        &self,
        finished: &mut VecDeque<(Instant, MessageId)>,
        now: Instant,
        limit: usize,
    ) -> Vec<MessageId> {
        let mut due = Vec::new();
        while due.len() < limit && self.front_is_due(finished, now) {
            if let Some((_, id)) = finished.pop_front() {
                due.push(id);
            }
        }
        due
    }

    fn front_is_due(&self, finished: &VecDeque<(Instant, MessageId)>, now: Instant) -> bool {
        finished.front().is_some_and(|&(at, _)| {
            now.saturating_duration_since(at) >= self.retention || finished.len() > self.max_final
        })
    }

    fn forget(&self, due: Vec<MessageId>) {
        for id in due {
            // Only a record that is still final goes (one entry per finish; records are never un-finished).
            self.records.remove_if(&id, |_, r| r.state.is_final());
        }
    }

    fn lock_finished(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, MessageId)>> {
        // Every change leaves the deque consistent, so a poisoned lock is still usable.
        self.finished.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets up to `limit` messages that reached a final state more than the retention ago (or beyond the bound);
    /// returns true when more are due. Visits only those: at tens of thousands of messages a second the store holds
    /// millions of records, and scanning them all was the gateway's largest single cost. [`MessageStore::finish`] does
    /// this as it goes; this is for when messages stop finishing.
    pub fn expire(&self, now: Instant, limit: usize) -> bool {
        let (due, more) = {
            let mut finished = self.lock_finished();
            let due = self.take_due(&mut finished, now, limit);
            (due, self.front_is_due(&finished, now))
        };
        self.forget(due);
        more
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

    fn record(now: Instant) -> Record {
        let a = Address::default();
        Record {
            account: AccountId(0),
            class: Class::Otp,
            state: MessageState::Queued,
            carrier: None,
            carrier_message_id: None,
            origin: Origin::Smpp,
            source: a.clone(),
            dest: a,
            registered_delivery: RegisteredDelivery(1),
            submitted_at: UnixSecs::new(0),
            sent_at: None,
            done_at: None,
            error: 0,
            accepted: now,
        }
    }

    #[test]
    fn a_record_is_small() {
        assert!(std::mem::size_of::<Record>() <= 112);
    }

    #[test]
    fn expire_forgets_final_records_after_the_retention_and_keeps_the_rest() {
        let store = MessageStore::new(Duration::from_secs(60), usize::MAX);
        let t0 = Instant::now();
        for i in 0..3 {
            store.insert(MessageId(i), record(t0));
        }
        store.finish(MessageId(0), MessageState::Delivered, 0, 0, t0);
        store.finish(
            MessageId(1),
            MessageState::Delivered,
            0,
            0,
            t0 + Duration::from_secs(30),
        );
        assert!(!store.expire(t0 + Duration::from_secs(61), usize::MAX));
        assert!(store.get(MessageId(0)).is_none());
        assert!(store.get(MessageId(1)).is_some(), "final for only 31 s");
        assert!(store.get(MessageId(2)).is_some(), "never final");
        assert!(!store.expire(t0 + Duration::from_secs(91), usize::MAX));
        assert!(store.get(MessageId(1)).is_none());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn beyond_the_bound_the_oldest_final_records_go_early() {
        let store = MessageStore::new(Duration::from_secs(3600), 2);
        let t0 = Instant::now();
        for i in 0..5 {
            store.insert(MessageId(i), record(t0));
        }
        for i in 0..4 {
            store.finish(MessageId(i), MessageState::Delivered, 0, 0, t0);
        }
        let kept: Vec<u64> = (0..5)
            .filter(|&i| store.get(MessageId(i)).is_some())
            .collect();
        assert_eq!(
            kept,
            vec![2, 3, 4],
            "the two newest final records and the queued one"
        );
    }

    #[test]
    fn finishing_forgets_due_records_as_it_goes_and_expire_takes_the_rest_in_chunks() {
        let store = MessageStore::new(Duration::from_secs(60), usize::MAX);
        let t0 = Instant::now();
        for i in 0..10 {
            store.insert(MessageId(i), record(t0));
            store.finish(MessageId(i), MessageState::Delivered, 0, 0, t0);
        }
        let later = t0 + Duration::from_secs(61);
        store.insert(MessageId(10), record(t0));
        store.finish(MessageId(10), MessageState::Delivered, 0, 0, later);
        assert_eq!(store.len(), 9, "the finish forgot the two oldest");
        assert!(store.expire(later, 3), "five more are due");
        assert_eq!(store.len(), 6);
        assert!(!store.expire(later, 100));
        assert_eq!(
            store.len(),
            1,
            "only the record finished at `later` is kept"
        );
        assert!(store.get(MessageId(10)).is_some());
    }
}
