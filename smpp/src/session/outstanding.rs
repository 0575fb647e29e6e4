//! The requests we sent that still await a response: found by sequence number, expired by deadline (SMPP 3.4 §2.8,
//! §7.2 `response_timer`).
//!
//! A `HashMap` by sequence number makes matching a response O(1); a min-heap of deadlines makes the next expiry O(1) to
//! read and O(log n) to pop. A request answered before its deadline leaves its heap entry behind (lazy deletion): stale
//! entries are popped as soon as they reach the top, and the heap is rebuilt from the map whenever stale entries
//! outnumber live ones, so its size stays bounded by the window rather than by the traffic.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use crate::{CommandId, SequenceNumber};

/// Who is waiting for a response.
#[derive(Debug)]
pub(super) enum Owner<T> {
    /// The caller, with the tag to hand back.
    Caller(T),
    /// The session itself (`enquire_link`, `unbind`); not counted against the caller's window.
    Session,
}

/// One request awaiting its response.
#[derive(Debug)]
pub(super) struct Entry<T> {
    pub(super) owner: Owner<T>,
    pub(super) request: CommandId,
    /// Tells this entry from an older one that had the same sequence number, so a stale heap entry is never taken
    /// for a live one.
    serial: u64,
}

/// The requests we sent that await a response.
#[derive(Debug)]
pub(super) struct Outstanding<T> {
    by_sequence: HashMap<SequenceNumber, Entry<T>>,
    deadlines: BinaryHeap<Reverse<(Instant, u64, SequenceNumber)>>,
    next_serial: u64,
    callers: usize,
}

impl<T> Outstanding<T> {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Outstanding {
            by_sequence: HashMap::with_capacity(capacity),
            deadlines: BinaryHeap::with_capacity(capacity),
            next_serial: 0,
            callers: 0,
        }
    }

    /// Requests the caller sent that await a response.
    pub(super) fn callers(&self) -> usize {
        self.callers
    }

    pub(super) fn contains(&self, sequence_number: SequenceNumber) -> bool {
        self.by_sequence.contains_key(&sequence_number)
    }

    pub(super) fn request(&self, sequence_number: SequenceNumber) -> Option<CommandId> {
        self.by_sequence.get(&sequence_number).map(|e| e.request)
    }

    /// Records a request; `sequence_number` must not be outstanding already.
    pub(super) fn insert(
        &mut self,
        sequence_number: SequenceNumber,
        owner: Owner<T>,
        request: CommandId,
        deadline: Instant,
    ) {
        let serial = self.next_serial;
        self.next_serial += 1;
        if matches!(owner, Owner::Caller(_)) {
            self.callers += 1;
        }
        self.deadlines
            .push(Reverse((deadline, serial, sequence_number)));
        let old = self.by_sequence.insert(
            sequence_number,
            Entry {
                owner,
                request,
                serial,
            },
        );
        debug_assert!(old.is_none(), "sequence number {sequence_number} reused");
    }

    /// Takes the request with this sequence number out, answered.
    pub(super) fn remove(&mut self, sequence_number: SequenceNumber) -> Option<Entry<T>> {
        let entry = self.by_sequence.remove(&sequence_number)?;
        if matches!(entry.owner, Owner::Caller(_)) {
            self.callers -= 1;
        }
        self.prune();
        Some(entry)
    }

    /// The earliest deadline of a request still outstanding.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Takes out one request whose deadline is at or before `now`.
    pub(super) fn pop_expired(&mut self, now: Instant) -> Option<(SequenceNumber, Entry<T>)> {
        let &Reverse((at, _, sequence_number)) = self.deadlines.peek()?;
        if at > now {
            return None;
        }
        // `prune` keeps the top live, so the top is this entry's.
        self.deadlines.pop();
        let entry = self.by_sequence.remove(&sequence_number)?;
        if matches!(entry.owner, Owner::Caller(_)) {
            self.callers -= 1;
        }
        self.prune();
        Some((sequence_number, entry))
    }

    /// Empties the table; returns the caller's tags in the order the requests were sent.
    pub(super) fn drain_callers(&mut self) -> Vec<T> {
        let mut entries: Vec<Entry<T>> = self.by_sequence.drain().map(|(_, e)| e).collect();
        entries.sort_unstable_by_key(|e| e.serial);
        self.deadlines.clear();
        self.callers = 0;
        entries
            .into_iter()
            .filter_map(|e| match e.owner {
                Owner::Caller(tag) => Some(tag),
                Owner::Session => None,
            })
            .collect()
    }

    fn is_live(&self, serial: u64, sequence_number: SequenceNumber) -> bool {
        self.by_sequence
            .get(&sequence_number)
            .is_some_and(|e| e.serial == serial)
    }

    /// Drops stale deadlines from the top, and rebuilds the heap once stale entries outnumber live ones.
    fn prune(&mut self) {
        while let Some(&Reverse((_, serial, sequence_number))) = self.deadlines.peek() {
            if self.is_live(serial, sequence_number) {
                break;
            }
            self.deadlines.pop();
        }
        if self.deadlines.len() > 2 * self.by_sequence.len() + 16 {
            let by_sequence = &self.by_sequence;
            self.deadlines.retain(|Reverse((_, serial, seq))| {
                by_sequence.get(seq).is_some_and(|e| e.serial == *serial)
            });
        }
    }

    #[cfg(test)]
    pub(super) fn heap_len(&self) -> usize {
        self.deadlines.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn expires_in_deadline_order_and_skips_answered_requests() {
        let t0 = Instant::now();
        let mut o = Outstanding::with_capacity(4);
        o.insert(
            SequenceNumber(1),
            Owner::Caller('a'),
            CommandId::SUBMIT_SM,
            t0 + Duration::from_secs(3),
        );
        o.insert(
            SequenceNumber(2),
            Owner::Caller('b'),
            CommandId::SUBMIT_SM,
            t0 + Duration::from_secs(1),
        );
        o.insert(
            SequenceNumber(3),
            Owner::Session,
            CommandId::ENQUIRE_LINK,
            t0 + Duration::from_secs(2),
        );
        assert_eq!(o.callers(), 2);
        assert!(o.remove(SequenceNumber(2)).is_some());
        assert_eq!(o.next_deadline(), Some(t0 + Duration::from_secs(2)));
        assert!(o.pop_expired(t0 + Duration::from_secs(1)).is_none());
        let (seq, e) = o.pop_expired(t0 + Duration::from_secs(5)).unwrap();
        assert_eq!(
            (seq, e.request),
            (SequenceNumber(3), CommandId::ENQUIRE_LINK)
        );
        let (seq, _) = o.pop_expired(t0 + Duration::from_secs(5)).unwrap();
        assert_eq!(seq, SequenceNumber(1));
        assert!(o.pop_expired(t0 + Duration::from_secs(5)).is_none());
        assert_eq!(o.callers(), 0);
    }

    #[test]
    fn stays_bounded_when_requests_are_answered_out_of_deadline_order() {
        let t0 = Instant::now();
        let mut o = Outstanding::with_capacity(4);
        // One long-lived request pins the top of the heap while thousands of others are answered behind it.
        o.insert(
            SequenceNumber(1),
            Owner::Caller(0),
            CommandId::SUBMIT_SM,
            t0,
        );
        for n in 2..10_000 {
            let seq = SequenceNumber(n);
            o.insert(
                seq,
                Owner::Caller(n),
                CommandId::SUBMIT_SM,
                t0 + Duration::from_millis(u64::from(n)),
            );
            o.remove(seq);
        }
        // One live entry: the heap never holds more than twice the live entries plus the slack of 16.
        assert!(o.heap_len() <= 2 + 16, "{}", o.heap_len());
        assert_eq!(o.drain_callers(), vec![0]);
    }

    #[test]
    fn a_reused_sequence_number_is_not_expired_by_its_predecessors_deadline() {
        let t0 = Instant::now();
        let mut o = Outstanding::with_capacity(4);
        o.insert(
            SequenceNumber(7),
            Owner::Caller(1),
            CommandId::SUBMIT_SM,
            t0 + Duration::from_secs(5),
        );
        o.insert(
            SequenceNumber(8),
            Owner::Caller(2),
            CommandId::SUBMIT_SM,
            t0 + Duration::from_secs(1),
        );
        o.remove(SequenceNumber(7));
        o.insert(
            SequenceNumber(7),
            Owner::Caller(3),
            CommandId::SUBMIT_SM,
            t0 + Duration::from_secs(9),
        );
        assert_eq!(
            o.pop_expired(t0 + Duration::from_secs(6)).map(|(s, _)| s),
            Some(SequenceNumber(8))
        );
        assert!(o.pop_expired(t0 + Duration::from_secs(6)).is_none());
        assert_eq!(o.next_deadline(), Some(t0 + Duration::from_secs(9)));
    }
}
