//! A FIFO that keeps its items packed, back to back, in blocks of [`BLOCK`] octets.
//!
//! A carrier that is down holds up to a million queued messages. As structs, each was an 80-octet item plus its encoded
//! submit_sm in an allocation of its own, rounded up to the allocator's size class (a 130-octet PDU took 160): 240
//! octets. Packed, an item takes its own length plus [`ENTRY_HEADER`] octets and no allocation, and the queue's memory is
//! what it holds plus at most a block at each end. Growing adds a block, so the carrier's lock is never held while a
//! whole queue is copied.
//!
//! The deque stores each item's expiry and key itself, so expiry scans and removal by key read headers only and never
//! unpack an item.

use std::collections::VecDeque;
use std::time::Instant;

use crate::message::Stamp;

/// Octets per block (an item larger than this gets a block of its own size).
pub const BLOCK: usize = 64 * 1024;

/// Octets the deque adds to each item: its length (4), expiry (8, a [`Stamp`]) and key (8).
pub const ENTRY_HEADER: usize = 20;

/// An item the deque can pack. The deque keeps the key and expiry; the item packs the rest.
pub trait Packed: Sized {
    /// What `remove` finds the item by.
    fn key(&self) -> u64;
    /// When it expires.
    fn expires_at(&self) -> Instant;
    /// Octets `pack` writes.
    fn packed_len(&self) -> usize;
    /// Writes the item (all but its key and expiry) into `out`, which is `packed_len()` octets long.
    fn pack(&self, out: &mut [u8]);
    /// The item that `pack` wrote into `bytes`, given back its key and expiry.
    fn unpack(key: u64, expires_at: Instant, bytes: &[u8]) -> Self;
}

/// Octets the item takes in the deque, header included.
pub fn entry_len<T: Packed>(item: &T) -> usize {
    ENTRY_HEADER + item.packed_len()
}

/// One block: entries occupy `buf[start..end]`. Blocks made for `push_back` fill from the front, blocks made for
/// `push_front` from the back.
#[derive(Debug)]
struct Block {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    count: usize,
}

impl Block {
    fn new(capacity: usize, at_back: bool) -> Block {
        let at = if at_back { 0 } else { capacity };
        Block {
            buf: vec![0; capacity].into_boxed_slice(),
            start: at,
            end: at,
            count: 0,
        }
    }

    /// Offsets of the entries, front to back.
    fn offsets(&self) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.start;
        std::iter::from_fn(move || {
            (at < self.end).then(|| {
                let here = at;
                at += read_len(&self.buf[here..]);
                here
            })
        })
    }
}

fn read_len(entry: &[u8]) -> usize {
    u32::from_le_bytes(entry[0..4].try_into().expect("4 octets")) as usize
}

fn read_key(entry: &[u8]) -> u64 {
    u64::from_le_bytes(entry[12..20].try_into().expect("8 octets"))
}

/// Writes `item` as an entry into `out`, which is [`entry_len`] octets long. The expiry goes in as a [`Stamp`].
fn write<T: Packed>(item: &T, out: &mut [u8]) {
    let len = u32::try_from(out.len()).expect("an item is far smaller than 4 GiB");
    out[0..4].copy_from_slice(&len.to_le_bytes());
    out[4..12].copy_from_slice(&Stamp::of(item.expires_at()).nanos().to_le_bytes());
    out[12..20].copy_from_slice(&item.key().to_le_bytes());
    item.pack(&mut out[ENTRY_HEADER..]);
}

/// A double-ended queue of packed items.
#[derive(Debug)]
pub struct PackedDeque<T> {
    blocks: VecDeque<Block>,
    len: usize,
    _items: std::marker::PhantomData<T>,
}

impl<T> Default for PackedDeque<T> {
    fn default() -> Self {
        PackedDeque {
            blocks: VecDeque::new(),
            len: 0,
            _items: std::marker::PhantomData,
        }
    }
}

impl<T: Packed> PackedDeque<T> {
    /// Items held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn expiry_of(entry: &[u8]) -> Instant {
        Stamp::from_nanos(i64::from_le_bytes(
            entry[4..12].try_into().expect("8 octets"),
        ))
        .instant()
    }

    fn read(entry: &[u8]) -> T {
        T::unpack(
            read_key(entry),
            Self::expiry_of(entry),
            &entry[ENTRY_HEADER..],
        )
    }

    /// An empty block is only ever the queue's sole block, kept by `pop_front` for reuse: set it up to be filled from
    /// the end `at_back` names, or drop it when an item of `n` octets would not fit.
    fn reuse_empty_block(&mut self, n: usize, at_back: bool) {
        let Some(b) = self.blocks.front_mut().filter(|b| b.count == 0) else {
            return;
        };
        if b.buf.len() < n {
            self.blocks.pop_front();
            return;
        }
        let at = if at_back { 0 } else { b.buf.len() };
        (b.start, b.end) = (at, at);
    }

    /// Adds an item at the back.
    pub fn push_back(&mut self, item: &T) {
        let n = entry_len(item);
        self.reuse_empty_block(n, true);
        if self.blocks.back().is_none_or(|b| b.buf.len() - b.end < n) {
            self.blocks.push_back(Block::new(BLOCK.max(n), true));
        }
        let b = self.blocks.back_mut().expect("made above");
        write(item, &mut b.buf[b.end..b.end + n]);
        b.end += n;
        b.count += 1;
        self.len += 1;
    }

    /// Adds an item at the front.
    pub fn push_front(&mut self, item: &T) {
        let n = entry_len(item);
        self.reuse_empty_block(n, false);
        if self.blocks.front().is_none_or(|b| b.start < n) {
            self.blocks.push_front(Block::new(BLOCK.max(n), false));
        }
        let b = self.blocks.front_mut().expect("made above");
        write(item, &mut b.buf[b.start - n..b.start]);
        b.start -= n;
        b.count += 1;
        self.len += 1;
    }

    /// Takes the front item.
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            // Perhaps one empty block kept for reuse, and nothing in it.
            return None;
        }
        let front = self.blocks.front()?;
        let n = read_len(&front.buf[front.start..]);
        let item = Self::read(&front.buf[front.start..front.start + n]);
        let front = self.blocks.front_mut().expect("looked at above");
        front.start += n;
        front.count -= 1;
        if front.count == 0 {
            // When the queue is empty its last block stays, for the next message (`reuse_empty_block`): a queue that
            // messages flow through empties after nearly every one, and allocating and zeroing 64 KiB each time cost
            // 4 % of the gateway's instructions (callgrind).
            if self.blocks.len() > 1 {
                self.blocks.pop_front();
            }
        }
        self.len -= 1;
        Some(item)
    }

    /// The expiry of every item, front to back (reads headers only).
    pub fn expiries(&self) -> impl Iterator<Item = Instant> + '_ {
        self.blocks
            .iter()
            .flat_map(|b| b.offsets().map(|at| Self::expiry_of(&b.buf[at..])))
    }

    /// Moves every item that expires at or before `now` to `out` (in order), keeping the rest in order.
    pub fn take_expired(&mut self, now: Instant, out: &mut Vec<T>) {
        for b in &mut self.blocks {
            let offsets: Vec<usize> = b.offsets().collect();
            if !offsets
                .iter()
                .any(|&at| Self::expiry_of(&b.buf[at..]) <= now)
            {
                continue;
            }
            // Compact the block in place: kept entries move towards its end, in order.
            let mut write = b.end;
            for &at in offsets.iter().rev() {
                let n = read_len(&b.buf[at..]);
                if Self::expiry_of(&b.buf[at..]) <= now {
                    out.push(Self::read(&b.buf[at..at + n]));
                    b.count -= 1;
                    self.len -= 1;
                } else {
                    write -= n;
                    b.buf.copy_within(at..at + n, write);
                }
            }
            b.start = write;
            // `out` got this block's expired items back to front.
            let taken = offsets.len() - b.count;
            let from = out.len() - taken;
            out[from..].reverse();
        }
        self.blocks.retain(|b| b.count > 0);
    }

    /// Removes and returns the item with this key, the first one from the front.
    pub fn remove(&mut self, key: u64) -> Option<T> {
        let (bi, at) = self.blocks.iter().enumerate().find_map(|(bi, b)| {
            b.offsets()
                .find(|&at| read_key(&b.buf[at..]) == key)
                .map(|at| (bi, at))
        })?;
        let b = &self.blocks[bi];
        let n = read_len(&b.buf[at..]);
        let item = Self::read(&b.buf[at..at + n]);
        let b = &mut self.blocks[bi];
        b.buf.copy_within(at + n..b.end, at);
        b.end -= n;
        b.count -= 1;
        if b.count == 0 {
            self.blocks.remove(bi);
        }
        self.len -= 1;
        Some(item)
    }

    /// Takes every item, front to back (the last block stays, empty, for what comes next).
    pub fn drain(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(item) = self.pop_front() {
            out.push(item);
        }
        out
    }

    /// Octets of blocks held (for tests of the memory bound).
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.blocks.iter().map(|b| b.buf.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A test item: a key, an expiry and `extra` octets of payload.
    #[derive(Debug, PartialEq, Clone)]
    struct Item {
        key: u64,
        expires_at: Instant,
        payload: Vec<u8>,
    }

    impl Packed for Item {
        fn key(&self) -> u64 {
            self.key
        }
        fn expires_at(&self) -> Instant {
            self.expires_at
        }
        fn packed_len(&self) -> usize {
            self.payload.len()
        }
        fn pack(&self, out: &mut [u8]) {
            out.copy_from_slice(&self.payload);
        }
        fn unpack(key: u64, expires_at: Instant, bytes: &[u8]) -> Self {
            Item {
                key,
                expires_at,
                payload: bytes.to_vec(),
            }
        }
    }

    fn item(key: u64, t0: Instant, secs: i64) -> Item {
        let d = Duration::from_secs(secs.unsigned_abs());
        Item {
            key,
            expires_at: if secs >= 0 { t0 + d } else { t0 - d },
            payload: vec![key as u8; (key % 200) as usize],
        }
    }

    fn keys(items: &[Item]) -> Vec<u64> {
        items.iter().map(|i| i.key).collect()
    }

    #[test]
    fn items_come_back_as_they_went_in_across_blocks_and_emptied_blocks_go() {
        let t0 = Instant::now() + Duration::from_secs(3600);
        let mut q = PackedDeque::default();
        let items: Vec<Item> = (0..2000).map(|k| item(k, t0, (k as i64) - 1000)).collect();
        for i in &items {
            q.push_back(i);
        }
        assert_eq!(q.len(), 2000);
        assert!(q.blocks.len() > 3, "{} blocks", q.blocks.len());
        let expected: usize = items.iter().map(entry_len).sum();
        assert!(
            q.capacity() < expected + BLOCK,
            "memory is what it holds plus at most a block"
        );
        assert!(q.expiries().eq(items.iter().map(|i| i.expires_at)));
        let half: Vec<Item> = (0..1000).map(|_| q.pop_front().unwrap()).collect();
        assert_eq!(half, items[..1000]);
        assert!(q.capacity() < expected / 2 + 2 * BLOCK);
        assert_eq!(q.drain(), items[1000..]);
        assert!(q.is_empty());
        assert_eq!(q.capacity(), BLOCK, "an empty queue keeps one block");
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn push_front_goes_ahead_of_everything_and_fills_the_room_pops_left() {
        let t0 = Instant::now();
        let mut q = PackedDeque::default();
        for k in 10..20 {
            q.push_back(&item(k, t0, 5));
        }
        for _ in 0..3 {
            q.pop_front();
        }
        for k in (0..3).rev() {
            q.push_front(&item(k, t0, 5));
        }
        assert_eq!(q.blocks.len(), 1, "the front of the block had room");
        for k in (3..5).rev() {
            q.push_front(&item(k + 100, t0, 5));
        }
        assert_eq!(
            keys(&q.drain()),
            vec![103, 104, 0, 1, 2, 13, 14, 15, 16, 17, 18, 19]
        );
    }

    #[test]
    fn take_expired_keeps_the_rest_in_order() {
        let t0 = Instant::now();
        let mut q = PackedDeque::default();
        for k in 0..3000 {
            q.push_back(&item(k, t0, if k % 3 == 0 { 1 } else { 10 }));
        }
        let mut out = Vec::new();
        q.take_expired(t0, &mut out);
        assert!(out.is_empty());
        q.take_expired(t0 + Duration::from_secs(1), &mut out);
        assert_eq!(keys(&out), (0..3000).step_by(3).collect::<Vec<_>>());
        assert!(out.iter().all(|i| i.payload == item(i.key, t0, 1).payload));
        assert_eq!(q.len(), 2000);
        let rest = q.drain();
        assert_eq!(
            keys(&rest),
            (0..3000).filter(|k| k % 3 != 0).collect::<Vec<_>>()
        );
        assert!(rest.iter().all(|i| i == &item(i.key, t0, 10)));
    }

    #[test]
    fn remove_takes_one_item_out_by_key() {
        let t0 = Instant::now();
        let mut q = PackedDeque::default();
        for k in 0..1000 {
            q.push_back(&item(k, t0, 5));
        }
        assert_eq!(q.remove(500), Some(item(500, t0, 5)));
        assert_eq!(q.remove(500), None);
        assert_eq!(q.remove(0), Some(item(0, t0, 5)));
        assert_eq!(q.len(), 998);
        assert_eq!(
            keys(&q.drain()),
            (1..1000).filter(|&k| k != 500).collect::<Vec<_>>()
        );
    }

    #[test]
    fn an_item_larger_than_a_block_gets_a_block_of_its_own() {
        let t0 = Instant::now();
        let mut q = PackedDeque::default();
        let big = Item {
            key: 7,
            expires_at: t0,
            payload: vec![1; BLOCK + 10],
        };
        q.push_back(&item(1, t0, 0));
        q.push_back(&big);
        q.push_front(&big);
        assert_eq!(q.drain(), vec![big.clone(), item(1, t0, 0), big]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        PushBack(u16, i8),
        PushFront(u16, i8),
        PopFront,
        Remove(u8),
        TakeExpired(i8),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        // Payload lengths up to 3,000 octets cross block boundaries within a few dozen items; 70,000 needs a block of
        // its own.
        let len = prop_oneof![20 => 0u16..3000, 1 => Just(u16::MAX)];
        prop_oneof![
            4 => (len.clone(), any::<i8>()).prop_map(|(l, e)| Op::PushBack(l, e)),
            2 => (len, any::<i8>()).prop_map(|(l, e)| Op::PushFront(l, e)),
            3 => Just(Op::PopFront),
            1 => any::<u8>().prop_map(Op::Remove),
            1 => any::<i8>().prop_map(Op::TakeExpired),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any sequence of operations leaves the deque holding what a `VecDeque` of the same items holds, in order.
        #[test]
        fn behaves_like_a_vecdeque(ops in proptest::collection::vec(op(), 1..200)) {
            let t0 = Instant::now() + Duration::from_secs(1000);
            let at = |secs: i8| {
                let d = Duration::from_secs(u64::from(secs.unsigned_abs()));
                if secs >= 0 { t0 + d } else { t0 - d }
            };
            let mut q = PackedDeque::default();
            let mut model: VecDeque<Item> = VecDeque::new();
            for (key, op) in ops.into_iter().enumerate() {
                let key = key as u64;
                let make = |len: u16, e: i8| Item {
                    key,
                    expires_at: at(e),
                    payload: (0..usize::from(len)).map(|i| (i as u64 ^ key) as u8).collect(),
                };
                match op {
                    Op::PushBack(len, e) => {
                        let i = make(len, e);
                        q.push_back(&i);
                        model.push_back(i);
                    }
                    Op::PushFront(len, e) => {
                        let i = make(len, e);
                        q.push_front(&i);
                        model.push_front(i);
                    }
                    Op::PopFront => proptest::prop_assert_eq!(q.pop_front(), model.pop_front()),
                    Op::Remove(k) => {
                        let k = u64::from(k);
                        let expected = model.iter().position(|i| i.key == k).and_then(|p| model.remove(p));
                        proptest::prop_assert_eq!(q.remove(k), expected);
                    }
                    Op::TakeExpired(e) => {
                        let mut out = Vec::new();
                        q.take_expired(at(e), &mut out);
                        let (expired, kept): (Vec<Item>, Vec<Item>) =
                            model.drain(..).partition(|i| i.expires_at <= at(e));
                        model = kept.into();
                        proptest::prop_assert_eq!(out, expired);
                    }
                }
                proptest::prop_assert_eq!(q.len(), model.len());
                let held: usize = model.iter().map(entry_len).sum();
                proptest::prop_assert!(q.capacity() >= held);
                proptest::prop_assert!(q.expiries().eq(model.iter().map(|i| i.expires_at)));
            }
            proptest::prop_assert_eq!(q.drain(), Vec::from(model));
        }
    }
}
