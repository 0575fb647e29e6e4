//! What Sluice knows about each accepted message, for `query_sm`, cancellation, receipts and the HTTP status API.

use std::collections::VecDeque;
use std::hash::Hasher;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hashbrown::HashTable;
use smpp::types::{Address, COctetString, Npi, RegisteredDelivery, Ton};

use crate::message::{AccountId, CarrierId, Class, MessageId, MessageState, Stamp};

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

/// One message's record. Kept small (48 octets, 56 with its id in the store, and its [`Strings`]): a million are held
/// while a carrier is down.
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
    pub carrier: CarrierSlot,
    /// The addresses as the client submitted them, and the carrier's id for it once the carrier answered.
    pub strings: Strings,
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
    pub accepted: Stamp,
}

impl Record {
    /// The sender and the recipient as the client submitted them.
    pub fn addresses(&self) -> (Address<21>, Address<21>) {
        self.strings.addresses()
    }

    /// The carrier's id for it, once the carrier answered.
    pub fn carrier_message_id(&self) -> Option<&str> {
        self.strings.carrier_message_id()
    }
}

/// A carrier or none, in two octets (`Option<CarrierId>` takes four, which made a record 56 octets rather than 48).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CarrierSlot(u16);

impl CarrierSlot {
    /// No carrier.
    pub const NONE: CarrierSlot = CarrierSlot(u16::MAX);

    /// The carrier, if any.
    pub fn get(self) -> Option<CarrierId> {
        (self != CarrierSlot::NONE).then_some(CarrierId(self.0))
    }
}

impl From<Option<CarrierId>> for CarrierSlot {
    fn from(c: Option<CarrierId>) -> CarrierSlot {
        // The configuration has far fewer than 65,535 carriers, so the last index is free to mean none.
        c.map_or(CarrierSlot::NONE, |c| CarrierSlot(c.0))
    }
}

impl std::fmt::Debug for CarrierSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// A message's client addresses and carrier id, in one allocation of exactly their size: `[ton, npi, len, octets]` for
/// the source, then the same for the destination, then, once the carrier answered, `1` and its id. Two `Address<21>`
/// and a boxed id took 64 octets of the record for what is usually 25.
#[derive(Clone, PartialEq, Eq)]
pub struct Strings(Box<[u8]>);

impl Strings {
    /// The client's addresses, no carrier id yet.
    pub fn new(source: &Address<21>, dest: &Address<21>) -> Strings {
        let mut v =
            Vec::with_capacity(6 + source.addr.as_bytes().len() + dest.addr.as_bytes().len());
        for a in [source, dest] {
            let octets = a.addr.as_bytes();
            v.extend_from_slice(&[a.ton.0, a.npi.0, octets.len() as u8]);
            v.extend_from_slice(octets);
        }
        Strings(v.into_boxed_slice())
    }

    /// The address at `at`, and where the next field starts.
    fn address_at(&self, at: usize) -> (Address<21>, usize) {
        let b = &self.0;
        let len = usize::from(b[at + 2]);
        let octets = &b[at + 3..at + 3 + len];
        let address = Address {
            ton: Ton(b[at]),
            npi: Npi(b[at + 1]),
            // Written by `new` from an `Address<21>`, so it fits.
            addr: COctetString::from_slice(octets).unwrap_or_default(),
        };
        (address, at + 3 + len)
    }

    fn end_of_addresses(&self) -> usize {
        let (_, after_source) = self.address_at(0);
        self.address_at(after_source).1
    }

    /// The sender and the recipient as the client submitted them.
    pub fn addresses(&self) -> (Address<21>, Address<21>) {
        let (source, after_source) = self.address_at(0);
        (source, self.address_at(after_source).0)
    }

    /// The carrier's id, once set.
    pub fn carrier_message_id(&self) -> Option<&str> {
        let rest = &self.0[self.end_of_addresses()..];
        // Written by `set_carrier_message_id` from a `&str`.
        rest.split_first()
            .map(|(_, id)| std::str::from_utf8(id).unwrap_or_default())
    }

    /// Sets (or replaces) the carrier's id.
    pub fn set_carrier_message_id(&mut self, id: &str) {
        let end = self.end_of_addresses();
        let mut v = Vec::with_capacity(end + 1 + id.len());
        v.extend_from_slice(&self.0[..end]);
        v.push(1);
        v.extend_from_slice(id.as_bytes());
        self.0 = v.into_boxed_slice();
    }
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Strings")
            .field("addresses", &self.addresses())
            .field("carrier_message_id", &self.carrier_message_id())
            .finish()
    }
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

/// Shards of the store: each has its own lock and table, so client connections and carrier sessions on different
/// workers rarely wait for each other, and a table's growth copies a sixty-fourth of the records.
const SHARDS: usize = 64;

/// A record with its id, in one allocation of 56 octets (a size class of the allocator).
#[derive(Debug)]
struct Entry {
    id: MessageId,
    record: Record,
}

type Shard = Mutex<HashTable<Box<Entry>>>;

/// All records, by message id.
///
/// Each shard is a hashbrown table of boxed entries that carry their own id, so a slot is one pointer (8 octets). A
/// table grows by doubling and is between 44 and 88 % full, so its slots cost 9 to 18 octets a record; a map of id to
/// box (DashMap's) took twice that, 37 octets a record at a million.
#[derive(Debug)]
pub struct MessageStore {
    shards: Box<[Shard]>,
    /// Final records in the order they became final, so expiry visits only those due rather than every record.
    finished: Mutex<VecDeque<(Instant, MessageId)>>,
    /// How long final records are kept.
    retention: Duration,
    /// Beyond this many final records, the oldest go early.
    max_final: usize,
}

fn hash_of(id: MessageId) -> u64 {
    let mut h = IdHasher::default();
    h.write_u64(id.0);
    h.finish()
}

impl MessageStore {
    /// An empty store that keeps final records for `retention`, and at most `max_final` of them.
    pub fn new(retention: Duration, max_final: usize) -> Self {
        MessageStore {
            shards: (0..SHARDS).map(|_| Mutex::new(HashTable::new())).collect(),
            finished: Mutex::new(VecDeque::new()),
            retention,
            max_final,
        }
    }

    /// The shard holding `id`, locked, and the id's hash. The shard is chosen by the hash's bits below the top seven,
    /// which hashbrown keeps for its control bytes (as DashMap does), so entries in a shard still differ there.
    fn shard(&self, id: MessageId) -> (std::sync::MutexGuard<'_, HashTable<Box<Entry>>>, u64) {
        let hash = hash_of(id);
        let index = ((hash << 7) >> (64 - SHARDS.trailing_zeros())) as usize;
        // Every change leaves the table consistent, so a poisoned lock is still usable.
        let shard = self.shards[index].lock().unwrap_or_else(|e| e.into_inner());
        (shard, hash)
    }

    /// Records a newly accepted message.
    pub fn insert(&self, id: MessageId, record: Record) {
        let (mut shard, hash) = self.shard(id);
        // One probe finds the id or where it goes (ids come from a counter, so it is new but for a bug).
        match shard.entry(hash, |e| e.id == id, |e| hash_of(e.id)) {
            hashbrown::hash_table::Entry::Occupied(mut e) => e.get_mut().record = record,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Box::new(Entry { id, record }));
            }
        }
    }

    /// Forgets a message.
    pub fn remove(&self, id: MessageId) {
        self.remove_if(id, |_| true);
    }

    /// Forgets a message if `pred` says so.
    fn remove_if(&self, id: MessageId, pred: impl FnOnce(&Record) -> bool) {
        let (mut shard, hash) = self.shard(id);
        if let Ok(e) = shard.find_entry(hash, |e| e.id == id) {
            if pred(&e.get().record) {
                e.remove();
            }
        }
    }

    /// A copy of a message's record.
    pub fn get(&self, id: MessageId) -> Option<Record> {
        let (shard, hash) = self.shard(id);
        shard.find(hash, |e| e.id == id).map(|e| e.record.clone())
    }

    /// Changes a record in place; returns what `f` returned, or `None` for an unknown id.
    pub fn update<R>(&self, id: MessageId, f: impl FnOnce(&mut Record) -> R) -> Option<R> {
        let (mut shard, hash) = self.shard(id);
        shard
            .find_mut(hash, |e| e.id == id)
            .map(|e| f(&mut e.record))
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
            self.remove_if(id, |r| r.state.is_final());
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
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    /// True when no records are kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
            carrier: CarrierSlot::NONE,
            origin: Origin::Smpp,
            strings: Strings::new(&a, &a),
            registered_delivery: RegisteredDelivery(1),
            submitted_at: UnixSecs::new(0),
            sent_at: None,
            done_at: None,
            error: 0,
            accepted: Stamp::of(now),
        }
    }

    #[test]
    fn a_record_is_small() {
        // A million are kept while a carrier is down (the 300 MiB memory target of issue #5); 56 is an allocator size
        // class.
        assert!(std::mem::size_of::<Entry>() <= 56);
    }

    #[test]
    fn a_carrier_slot_gives_back_its_carrier() {
        for c in [
            None,
            Some(CarrierId(0)),
            Some(CarrierId(7)),
            Some(CarrierId(65_534)),
        ] {
            assert_eq!(CarrierSlot::from(c).get(), c);
        }
    }

    #[test]
    fn strings_give_back_the_addresses_and_the_carrier_id() {
        let source = Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ACME Bank").unwrap();
        let dest = Address::new(Ton::INTERNATIONAL, Npi::ISDN, "491761234567890123").unwrap();
        let mut s = Strings::new(&source, &dest);
        assert_eq!(
            (s.addresses(), s.carrier_message_id()),
            ((source.clone(), dest.clone()), None)
        );
        s.set_carrier_message_id("");
        assert_eq!(s.carrier_message_id(), Some(""));
        s.set_carrier_message_id("c0ffee-0042");
        assert_eq!(
            (s.addresses(), s.carrier_message_id()),
            ((source, dest), Some("c0ffee-0042"))
        );
        let empty = Address::default();
        let s = Strings::new(&empty, &empty);
        assert_eq!(s.addresses(), (empty.clone(), empty));
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
