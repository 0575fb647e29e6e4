//! Per-carrier priority queue: strict priority by class with a guaranteed minimum share for lower classes, expiry, and
//! bounds in messages and bytes.
//!
//! Policy only: no I/O, no clock (`now` is passed in), no locks. The gateway wraps one queue per carrier in a mutex.
//!
//! Scheduling: the highest-priority non-empty class is served, except that each lower class earns credit (its
//! `min_share`, in thousandths) on every pick it waits through, and is served as soon as it has earned a whole pick. So an
//! OTP submitted behind 10,000 queued marketing messages goes out next (or after at most the one marketing message that is
//! due), and marketing still gets at least its share while OTPs flow.

pub mod packed;

use std::time::Instant;

use packed::{Packed, PackedDeque};

use crate::message::Class;

/// What the queue needs to know about an item, besides how to pack it (its key and expiry).
pub trait Queued: Packed {
    /// Its class.
    fn class(&self) -> Class;
    /// Bytes it holds, for the byte bound: what it takes packed.
    fn size(&self) -> usize {
        packed::entry_len(self)
    }
}

/// Queue limits and class shares.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueLimits {
    /// Most messages queued.
    pub max_messages: usize,
    /// Most bytes queued.
    pub max_bytes: usize,
    /// Per class, in [`Class::ALL`] order: the least share of sends (thousandths) it gets while it waits.
    pub min_share_permille: [u32; 4],
    /// Per class, in [`Class::ALL`] order: the share of both bounds (thousandths) the class may fill. Lower classes stop
    /// short of the bounds, so a marketing flood that fills its part still leaves room for OTPs.
    pub fill_permille: [u32; 4],
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            max_messages: 1_000_000,
            max_bytes: 512 * 1024 * 1024,
            min_share_permille: [0, 200, 100, 50],
            fill_permille: [1000, 950, 900, 850],
        }
    }
}

/// The queue refused a message: it is at its bound. The item comes back so nothing is lost.
#[derive(Debug)]
pub struct QueueFull<T>(pub T);

/// A bounded queue of items in four classes.
#[derive(Debug)]
pub struct PriorityQueue<T> {
    classes: [PackedDeque<T>; 4],
    /// Per class, no later than the earliest expiry queued (`None`: nothing queued since the last look), so
    /// [`PriorityQueue::drain_expired`] visits a class only when something in it may have expired. A million queued
    /// messages took 4 ms to look through, twice a second.
    earliest: [Option<Instant>; 4],
    credit: [u32; 4],
    bytes: usize,
    limits: QueueLimits,
}

impl<T: Queued> PriorityQueue<T> {
    /// An empty queue with these limits.
    pub fn new(limits: QueueLimits) -> Self {
        PriorityQueue {
            classes: Default::default(),
            earliest: [None; 4],
            credit: [0; 4],
            bytes: 0,
            limits,
        }
    }

    /// Messages queued.
    pub fn len(&self) -> usize {
        self.classes.iter().map(PackedDeque::len).sum()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.classes.iter().all(PackedDeque::is_empty)
    }

    /// Messages queued in one class.
    pub fn len_of(&self, class: Class) -> usize {
        self.classes[class.index()].len()
    }

    /// Bytes queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when one more message of `class` and `size` bytes would not fit: the queue, counting every class, is at the
    /// part of its bounds that `class` may fill.
    pub fn is_full_for(&self, class: Class, size: usize) -> bool {
        let part = |bound: usize| {
            let permille = u64::from(self.limits.fill_permille[class.index()].min(1000));
            (bound as u64 * permille).div_ceil(1000) as usize
        };
        self.len() >= part(self.limits.max_messages)
            || self.bytes + size > part(self.limits.max_bytes)
    }

    /// Queues a new message at the back of its class, or hands it back when the queue is at its class's part of a bound.
    pub fn try_push(&mut self, item: T) -> Result<(), QueueFull<T>> {
        if self.is_full_for(item.class(), item.size()) {
            return Err(QueueFull(item));
        }
        self.bytes += item.size();
        self.note_expiry(&item);
        self.classes[item.class().index()].push_back(&item);
        Ok(())
    }

    fn note_expiry(&mut self, item: &T) {
        let e = &mut self.earliest[item.class().index()];
        *e = Some(e.map_or(item.expires_at(), |t| t.min(item.expires_at())));
    }

    /// Puts a message back at the head of its class, ahead of everything else of that class: used for messages that were
    /// in flight when a carrier failed. Never refused: it was already accepted, and losing it is not an option.
    pub fn push_front(&mut self, item: T) {
        self.bytes += item.size();
        self.note_expiry(&item);
        self.classes[item.class().index()].push_front(&item);
    }

    /// The next message to send; messages found expired on the way are moved to `expired`, never returned.
    pub fn pop(&mut self, now: Instant, expired: &mut Vec<T>) -> Option<T> {
        loop {
            let class = self.pick()?;
            let item = self.classes[class].pop_front()?;
            self.bytes -= item.size();
            if item.expires_at() <= now {
                expired.push(item);
                continue;
            }
            return Some(item);
        }
    }

    /// The next message of one class only (for a session reserved for OTPs); expired ones go to `expired`.
    pub fn pop_class(&mut self, class: Class, now: Instant, expired: &mut Vec<T>) -> Option<T> {
        while let Some(item) = self.classes[class.index()].pop_front() {
            self.bytes -= item.size();
            if item.expires_at() <= now {
                expired.push(item);
                continue;
            }
            return Some(item);
        }
        None
    }

    /// Chooses the class served next. Every non-empty class below the highest non-empty one earns its share on each pick;
    /// one that has earned a whole pick is served (the highest such first) and spends it; otherwise the highest is served.
    fn pick(&mut self) -> Option<usize> {
        let top = self.classes.iter().position(|q| !q.is_empty())?;
        for c in 0..4 {
            if c > top && !self.classes[c].is_empty() {
                self.credit[c] += self.limits.min_share_permille[c];
            } else {
                // Credit is for waiting behind a busier class, not banked while empty or on top.
                self.credit[c] = 0;
            }
        }
        match (top + 1..4).find(|&c| self.credit[c] >= 1000) {
            Some(due) => {
                self.credit[due] -= 1000;
                Some(due)
            }
            None => Some(top),
        }
    }

    /// Removes every expired message, wherever it is (so a stalled carrier's queue still reports expiry on time).
    pub fn drain_expired(&mut self, now: Instant, expired: &mut Vec<T>) {
        for (q, earliest) in self.classes.iter_mut().zip(&mut self.earliest) {
            if earliest.is_none_or(|e| e > now) {
                continue;
            }
            let from = expired.len();
            q.take_expired(now, expired);
            for m in &expired[from..] {
                self.bytes -= m.size();
            }
            *earliest = q.expiries().min();
        }
    }

    /// Removes and returns the message with this key (used by `cancel_sm`).
    pub fn remove(&mut self, key: u64) -> Option<T> {
        for q in &mut self.classes {
            if let Some(item) = q.remove(key) {
                self.bytes -= item.size();
                return Some(item);
            }
        }
        None
    }

    /// Removes every message, e.g. to move them to another carrier.
    pub fn drain_all(&mut self) -> Vec<T> {
        self.bytes = 0;
        self.classes.iter_mut().flat_map(|q| q.drain()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[derive(Debug, PartialEq)]
    struct Item {
        id: u32,
        class: Class,
        expires_at: Instant,
    }

    impl Packed for Item {
        fn key(&self) -> u64 {
            u64::from(self.id)
        }
        fn expires_at(&self) -> Instant {
            self.expires_at
        }
        fn packed_len(&self) -> usize {
            1
        }
        fn pack(&self, out: &mut [u8]) {
            out[0] = self.class.index() as u8;
        }
        fn unpack(key: u64, expires_at: Instant, bytes: &[u8]) -> Self {
            Item {
                id: key as u32,
                class: Class::ALL[usize::from(bytes[0])],
                expires_at,
            }
        }
    }

    impl Queued for Item {
        fn class(&self) -> Class {
            self.class
        }
        fn size(&self) -> usize {
            100
        }
    }

    fn item(id: u32, class: Class, t0: Instant) -> Item {
        Item {
            id,
            class,
            expires_at: t0 + Duration::from_secs(300),
        }
    }

    fn drain(q: &mut PriorityQueue<Item>, now: Instant) -> Vec<u32> {
        let mut expired = Vec::new();
        std::iter::from_fn(|| q.pop(now, &mut expired))
            .map(|i| i.id)
            .collect()
    }

    #[test]
    fn an_otp_behind_ten_thousand_marketing_messages_goes_out_within_two_picks() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits::default());
        for i in 0..10_000 {
            q.try_push(item(i, Class::Marketing, t0)).unwrap();
        }
        let mut expired = Vec::new();
        // Marketing is alone and flows; then an OTP arrives.
        for _ in 0..37 {
            q.pop(t0, &mut expired).unwrap();
        }
        q.try_push(item(99_999, Class::Otp, t0)).unwrap();
        let next_two: Vec<u32> = (0..2)
            .map(|_| q.pop(t0, &mut expired).unwrap().id)
            .collect();
        assert!(next_two.contains(&99_999), "{next_two:?}");
    }

    #[test]
    fn marketing_gets_its_share_while_otps_flow() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits::default());
        for i in 0..1000 {
            q.try_push(item(i, Class::Otp, t0)).unwrap();
            q.try_push(item(10_000 + i, Class::Marketing, t0)).unwrap();
        }
        let first_200 = &drain(&mut q, t0)[..200];
        let marketing = first_200.iter().filter(|&&id| id >= 10_000).count();
        // 5% of 200 picks.
        assert_eq!(marketing, 10);
    }

    #[test]
    fn classes_go_out_in_priority_order_when_shares_are_zero() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits {
            min_share_permille: [0; 4],
            ..QueueLimits::default()
        });
        q.try_push(item(4, Class::Marketing, t0)).unwrap();
        q.try_push(item(3, Class::Notification, t0)).unwrap();
        q.try_push(item(2, Class::Transactional, t0)).unwrap();
        q.try_push(item(1, Class::Otp, t0)).unwrap();
        assert_eq!(drain(&mut q, t0), vec![1, 2, 3, 4]);
    }

    #[test]
    fn expired_messages_are_never_popped() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits::default());
        q.try_push(Item {
            id: 1,
            class: Class::Otp,
            expires_at: t0 + Duration::from_secs(1),
        })
        .unwrap();
        q.try_push(item(2, Class::Otp, t0)).unwrap();
        let mut expired = Vec::new();
        let later = t0 + Duration::from_secs(2);
        assert_eq!(q.pop(later, &mut expired).map(|i| i.id), Some(2));
        assert_eq!(expired.iter().map(|i| i.id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn drain_expired_finds_expired_messages_anywhere() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits::default());
        q.try_push(item(1, Class::Marketing, t0)).unwrap();
        q.try_push(Item {
            id: 2,
            class: Class::Marketing,
            expires_at: t0,
        })
        .unwrap();
        let mut expired = Vec::new();
        q.drain_expired(t0, &mut expired);
        assert_eq!(expired.len(), 1);
        assert_eq!(q.len(), 1);
        assert_eq!(q.bytes(), 100);
    }

    #[test]
    fn drain_expired_finds_a_short_lived_message_behind_long_lived_ones() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits::default());
        q.try_push(item(1, Class::Marketing, t0)).unwrap();
        let mut expired = Vec::new();
        q.drain_expired(t0 + Duration::from_secs(1), &mut expired);
        assert!(expired.is_empty());
        q.try_push(Item {
            id: 2,
            class: Class::Marketing,
            expires_at: t0 + Duration::from_secs(10),
        })
        .unwrap();
        q.try_push(item(3, Class::Marketing, t0)).unwrap();
        q.drain_expired(t0 + Duration::from_secs(5), &mut expired);
        assert!(expired.is_empty());
        q.drain_expired(t0 + Duration::from_secs(11), &mut expired);
        assert_eq!(expired.iter().map(|i| i.id).collect::<Vec<_>>(), vec![2]);
        q.drain_expired(t0 + Duration::from_secs(301), &mut expired);
        assert_eq!(expired.len(), 3, "the other two expire at 300 s");
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn a_full_queue_hands_the_message_back() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits {
            max_messages: 1,
            ..QueueLimits::default()
        });
        q.try_push(item(1, Class::Otp, t0)).unwrap();
        let QueueFull(back) = q.try_push(item(2, Class::Otp, t0)).unwrap_err();
        assert_eq!(back.id, 2);
    }

    #[test]
    fn marketing_filling_its_part_leaves_room_for_otps() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits {
            max_messages: 100,
            ..QueueLimits::default()
        });
        let mut marketing = 0;
        while q.try_push(item(marketing, Class::Marketing, t0)).is_ok() {
            marketing += 1;
        }
        assert_eq!(marketing, 85);
        assert!(q.try_push(item(1000, Class::Notification, t0)).is_ok());
        for i in 0..9 {
            q.try_push(item(2000 + i, Class::Transactional, t0))
                .unwrap();
        }
        // Transactional stops at 95; the last 5 places are the OTPs'.
        assert!(q.try_push(item(3000, Class::Transactional, t0)).is_err());
        for i in 0..5 {
            q.try_push(item(4000 + i, Class::Otp, t0)).unwrap();
        }
        assert!(q.try_push(item(5000, Class::Otp, t0)).is_err());
        assert_eq!(q.len(), 100);
    }

    #[test]
    fn pop_class_takes_only_that_class_and_skips_the_expired() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits::default());
        q.try_push(item(1, Class::Marketing, t0)).unwrap();
        q.try_push(Item {
            id: 2,
            class: Class::Otp,
            expires_at: t0,
        })
        .unwrap();
        q.try_push(item(3, Class::Otp, t0)).unwrap();
        let mut expired = Vec::new();
        assert_eq!(
            q.pop_class(Class::Otp, t0, &mut expired).map(|i| i.id),
            Some(3)
        );
        assert_eq!(expired.iter().map(|i| i.id).collect::<Vec<_>>(), vec![2]);
        assert!(q.pop_class(Class::Otp, t0, &mut expired).is_none());
        assert_eq!(
            q.len(),
            1,
            "the marketing message stays for the other sessions"
        );
        assert_eq!(q.bytes(), 100);
    }

    #[test]
    fn requeued_messages_go_to_the_head_of_their_class() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits {
            max_messages: 1,
            ..QueueLimits::default()
        });
        q.try_push(item(2, Class::Otp, t0)).unwrap();
        q.push_front(item(1, Class::Otp, t0));
        assert_eq!(drain(&mut q, t0), vec![1, 2]);
    }

    #[test]
    fn remove_takes_a_cancelled_message_out() {
        let t0 = Instant::now();
        let mut q = PriorityQueue::new(QueueLimits::default());
        q.try_push(item(1, Class::Otp, t0)).unwrap();
        q.try_push(item(2, Class::Marketing, t0)).unwrap();
        assert_eq!(q.remove(2).map(|i| i.id), Some(2));
        assert_eq!(q.len(), 1);
    }
}
