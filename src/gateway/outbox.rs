//! The two hand-offs between tasks: a carrier's priority queue (filled by client connections, drained by the carrier's
//! sessions) and an account's outbox of receipts and MO (filled by carrier sessions, drained by the account's receiver
//! binds). Both are bounded, and both wake one waiting consumer per item.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use smpp::pdu::{Body, DeliverSm, Pdu, SubmitSm};
use smpp::{CommandId, CommandStatus, Header, SequenceNumber, HEADER_LEN};
use tokio::sync::Notify;

use crate::message::{AccountId, CarrierId, Class, MessageId};
use crate::queue::packed::Packed;
use crate::queue::{PriorityQueue, QueueFull, QueueLimits, Queued};

/// The carriers a message may go to, in the order to try them; at most [`Candidates::MAX`], held inline. A shared list
/// cost an allocation per queued message (32 octets of a million when a carrier is down); failing over beyond the
/// seventh carrier is not a real need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidates {
    len: u8,
    ids: [CarrierId; Candidates::MAX],
}

impl Candidates {
    /// The most carriers kept.
    pub const MAX: usize = 7;

    /// The first [`Candidates::MAX`] of `ids`.
    pub fn new(ids: &[CarrierId]) -> Candidates {
        let mut c = Candidates {
            len: 0,
            ids: [CarrierId(0); Candidates::MAX],
        };
        for (slot, &id) in c.ids.iter_mut().zip(ids) {
            *slot = id;
            c.len += 1;
        }
        c
    }
}

impl std::ops::Deref for Candidates {
    type Target = [CarrierId];

    fn deref(&self) -> &[CarrierId] {
        &self.ids[..usize::from(self.len)]
    }
}

/// A message waiting for a carrier.
///
/// The submit_sm is kept encoded rather than as a parsed [`SubmitSm`]: a parsed one is 240 octets of fields whose
/// `Bytes` point into the client connection's read buffer, so every queued message kept a whole 16 KiB read chunk
/// alive. In a carrier's queue it is packed ([`Packed`]): the queue holds its body (the PDU without its 16-octet header)
/// and the few fields below, back to back with the other messages, in no allocation of its own. It is decoded again
/// (no copy: the fields point into `frame`) when a session sends it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Sluice's id.
    pub id: MessageId,
    /// The submitting account.
    pub account: AccountId,
    /// Its class.
    pub class: Class,
    /// Not sent after this.
    pub expires_at: Instant,
    /// Carriers that may take it, in the order to try them.
    pub candidates: Candidates,
    /// The submit_sm to send (addresses normalised, asking the carrier for a receipt), encoded as a whole PDU.
    frame: Bytes,
}

impl Outgoing {
    /// A message to queue; `submit` is encoded into a buffer of its own.
    pub fn new(
        id: MessageId,
        account: AccountId,
        class: Class,
        expires_at: Instant,
        candidates: Candidates,
        submit: SubmitSm,
    ) -> Outgoing {
        let frame = Pdu::new(SequenceNumber(0), Body::SubmitSm(submit)).to_bytes();
        Outgoing {
            id,
            account,
            class,
            expires_at,
            candidates,
            frame,
        }
    }

    /// The submit_sm to send.
    pub fn submit(&self) -> SubmitSm {
        match Pdu::decode(self.frame.clone()) {
            Ok(Pdu {
                body: Body::SubmitSm(sm),
                ..
            }) => sm,
            // The frame was encoded from a valid SubmitSm by `new` (or rebuilt by `unpack` from what `pack` kept of
            // one), and decode accepts everything encode writes.
            other => unreachable!("a queued submit_sm did not decode: {other:?}"),
        }
    }
}

/// Octets [`Outgoing::pack`] writes before the candidates: account (4), class (1), number of candidates (1).
const PACKED_FIELDS: usize = 6;

impl Packed for Outgoing {
    fn key(&self) -> u64 {
        self.id.0
    }

    fn expires_at(&self) -> Instant {
        self.expires_at
    }

    fn packed_len(&self) -> usize {
        PACKED_FIELDS + 2 * self.candidates.len() + self.frame.len() - HEADER_LEN
    }

    fn pack(&self, out: &mut [u8]) {
        let (fields, rest) = out.split_at_mut(PACKED_FIELDS);
        fields[0..4].copy_from_slice(&self.account.0.to_le_bytes());
        fields[4] = self.class.index() as u8;
        fields[5] = self.candidates.len() as u8;
        let (ids, body) = rest.split_at_mut(2 * self.candidates.len());
        for (slot, c) in ids.chunks_exact_mut(2).zip(self.candidates.iter()) {
            slot.copy_from_slice(&c.0.to_le_bytes());
        }
        body.copy_from_slice(&self.frame[HEADER_LEN..]);
    }

    fn unpack(key: u64, expires_at: Instant, bytes: &[u8]) -> Self {
        let account = AccountId(u32::from_le_bytes(
            bytes[0..4].try_into().expect("4 octets"),
        ));
        let class = Class::ALL[usize::from(bytes[4])];
        let n = usize::from(bytes[5]);
        let (ids, body) = bytes[PACKED_FIELDS..].split_at(2 * n);
        let mut carriers = [CarrierId(0); Candidates::MAX];
        for (slot, c) in carriers.iter_mut().zip(ids.chunks_exact(2)) {
            *slot = CarrierId(u16::from_le_bytes([c[0], c[1]]));
        }
        let mut frame = BytesMut::with_capacity(HEADER_LEN + body.len());
        Header {
            command_length: u32::try_from(HEADER_LEN + body.len()).expect("a PDU's length fits"),
            command_id: CommandId::SUBMIT_SM,
            command_status: CommandStatus::ESME_ROK,
            sequence_number: SequenceNumber(0),
        }
        .encode(&mut frame);
        frame.put_slice(body);
        Outgoing {
            id: MessageId(key),
            account,
            class,
            expires_at,
            candidates: Candidates::new(&carriers[..n.min(Candidates::MAX)]),
            frame: frame.freeze(),
        }
    }
}

impl Queued for Outgoing {
    fn class(&self) -> Class {
        self.class
    }
}

/// One carrier's queue and its state.
#[derive(Debug)]
pub struct CarrierQueue {
    queue: Mutex<PriorityQueue<Outgoing>>,
    notify: Notify,
    /// Wakes the sessions reserved for OTPs, which `notify` must not (they would take its permit and leave the
    /// message to no one).
    notify_otp: Notify,
    bound: AtomicUsize,
}

impl CarrierQueue {
    /// An empty queue.
    pub fn new(limits: QueueLimits) -> Self {
        CarrierQueue {
            queue: Mutex::new(PriorityQueue::new(limits)),
            notify: Notify::new(),
            notify_otp: Notify::new(),
            bound: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PriorityQueue<Outgoing>> {
        // A panic while holding the lock leaves the queue consistent (every method finishes its bookkeeping before it
        // can panic), so a poisoned lock is still usable.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a new message, or hands it back when the queue is full.
    pub fn try_push(&self, m: Outgoing) -> Result<(), Box<Outgoing>> {
        let otp = m.class == Class::Otp;
        self.lock()
            .try_push(m)
            .map_err(|QueueFull(m)| Box::new(m))?;
        if otp {
            self.notify_otp.notify_one();
        }
        self.notify.notify_one();
        Ok(())
    }

    /// Puts messages that were in flight back at the head, oldest first.
    pub fn requeue(&self, mut ms: Vec<Outgoing>) {
        if ms.is_empty() {
            return;
        }
        ms.sort_by_key(|m| std::cmp::Reverse(m.id));
        let otp = ms.iter().any(|m| m.class == Class::Otp);
        let mut q = self.lock();
        for m in ms {
            q.push_front(m);
        }
        drop(q);
        if otp {
            self.notify_otp.notify_one();
        }
        self.notify.notify_one();
    }

    /// The next message to send, if any; expired ones met on the way go to `expired`.
    pub fn pop(&self, now: Instant, expired: &mut Vec<Outgoing>) -> Option<Outgoing> {
        let m = self.lock().pop(now, expired);
        // Another session of this carrier may have room too.
        if m.is_some() {
            self.notify.notify_one();
        }
        m
    }

    /// Waits until a message may be there.
    pub async fn ready(&self) {
        self.notify.notified().await
    }

    /// The next OTP, if any (for a session reserved for OTPs); expired ones met on the way go to `expired`.
    pub fn pop_otp(&self, now: Instant, expired: &mut Vec<Outgoing>) -> Option<Outgoing> {
        let m = self.lock().pop_class(Class::Otp, now, expired);
        if m.is_some() {
            self.notify_otp.notify_one();
        }
        m
    }

    /// True when an OTP is queued.
    pub fn has_otp(&self) -> bool {
        self.lock().len_of(Class::Otp) > 0
    }

    /// Waits until an OTP may be there.
    pub async fn otp_ready(&self) {
        self.notify_otp.notified().await
    }

    /// Takes every expired message out.
    pub fn drain_expired(&self, now: Instant, expired: &mut Vec<Outgoing>) {
        self.lock().drain_expired(now, expired);
    }

    /// Cancels a queued message.
    pub fn remove(&self, id: MessageId) -> Option<Outgoing> {
        self.lock().remove(id.0)
    }

    /// Messages queued, per class.
    pub fn depth(&self) -> [usize; 4] {
        let q = self.lock();
        Class::ALL.map(|c| q.len_of(c))
    }

    /// Messages queued.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts a session that bound (`true`) or went down.
    pub fn set_session_bound(&self, up: bool) {
        if up {
            self.bound.fetch_add(1, Ordering::Relaxed);
        } else {
            self.bound.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// True while at least one session is bound.
    pub fn is_up(&self) -> bool {
        self.bound.load(Ordering::Relaxed) > 0
    }
}

/// A receipt or MO message on its way to a client bind.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The deliver_sm to send.
    pub deliver: DeliverSm,
    /// The message a receipt is about (for logs and metrics); `None` for MO.
    pub about: Option<MessageId>,
}

/// One account's undelivered receipts and MO, drained by its receiver binds.
#[derive(Debug)]
pub struct AccountOutbox {
    items: Mutex<VecDeque<Inbound>>,
    notify: Notify,
    max: usize,
    dropped: AtomicU64,
}

impl AccountOutbox {
    /// An outbox holding at most `max` items.
    pub fn new(max: usize) -> Self {
        AccountOutbox {
            items: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            max,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Inbound>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an item; when full, the oldest is dropped (and counted) to make room: the newest receipt says most.
    pub fn push(&self, item: Inbound) -> bool {
        let mut q = self.lock();
        let mut kept = true;
        if q.len() >= self.max {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
            kept = false;
        }
        q.push_back(item);
        drop(q);
        self.notify.notify_one();
        kept
    }

    /// Puts items that were in flight to a bind that went away back at the head.
    pub fn requeue(&self, items: Vec<Inbound>) {
        if items.is_empty() {
            return;
        }
        let mut q = self.lock();
        for item in items.into_iter().rev() {
            q.push_front(item);
        }
        drop(q);
        self.notify.notify_one();
    }

    /// The next item, if any.
    pub fn pop(&self) -> Option<Inbound> {
        let item = self.lock().pop_front();
        if item.is_some() {
            self.notify.notify_one();
        }
        item
    }

    /// Waits until an item may be there.
    pub async fn ready(&self) {
        self.notify.notified().await
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items dropped because the outbox was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// An MO or receipt text as octets, for building `deliver_sm`.
pub fn octets(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use bytes::Bytes;
    use smpp::pdu::SubmitSm;
    use smpp::types::{Address, Npi, OctetString, Ton};

    use super::{Candidates, Outgoing};
    use crate::message::{AccountId, CarrierId, Class, MessageId};
    use crate::queue::packed::Packed;
    use crate::queue::Queued;

    fn submit(text: &'static [u8]) -> SubmitSm {
        SubmitSm {
            source_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ACME").unwrap(),
            dest_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4917612345678").unwrap(),
            short_message: OctetString::new(Bytes::from_static(text)).unwrap(),
            ..SubmitSm::default()
        }
    }

    #[test]
    fn a_queued_message_gives_back_the_submit_it_was_made_from() {
        let sm = submit(b"hello");
        let now = Instant::now();
        let m = Outgoing::new(
            MessageId(1),
            AccountId(0),
            Class::Otp,
            now,
            Candidates::new(&[CarrierId(0)]),
            sm.clone(),
        );
        assert_eq!(m.submit(), sm);
    }

    #[test]
    fn a_packed_message_unpacks_to_the_same_submit_and_fields() {
        let sm = submit(b"your code is 1234");
        let now = Instant::now();
        let m = Outgoing::new(
            MessageId(u64::MAX - 3),
            AccountId(70_000),
            Class::Marketing,
            now,
            Candidates::new(&[CarrierId(3), CarrierId(600), CarrierId(1)]),
            sm.clone(),
        );
        let mut packed = vec![0; m.packed_len()];
        m.pack(&mut packed);
        let back = Outgoing::unpack(m.key(), now, &packed);
        assert_eq!(back.submit(), sm);
        assert_eq!(back.frame, m.frame);
        assert_eq!(
            (
                back.id,
                back.account,
                back.class,
                back.expires_at,
                back.candidates
            ),
            (m.id, m.account, m.class, m.expires_at, m.candidates)
        );
    }

    #[test]
    fn a_queued_message_is_small() {
        // A million of them are queued when a carrier is down (the 300 MiB memory target of issue #5): packed, a
        // message takes its submit_sm without the PDU header, and 28 octets more with one candidate carrier.
        let sm = SubmitSm {
            short_message: OctetString::new(Bytes::from_static(&[b'x'; 80])).unwrap(),
            ..SubmitSm::default()
        };
        let m = Outgoing::new(
            MessageId(1),
            AccountId(0),
            Class::Otp,
            Instant::now(),
            Candidates::new(&[CarrierId(0)]),
            sm,
        );
        assert_eq!(m.size(), m.frame.len() - 16 + 28);
    }

    #[test]
    fn candidates_keep_the_first_seven_in_order() {
        let ids: Vec<CarrierId> = (0..9).map(CarrierId).collect();
        assert_eq!(&*Candidates::new(&ids), &ids[..7]);
        assert_eq!(&*Candidates::new(&ids[..2]), &ids[..2]);
        assert!(Candidates::new(&[]).is_empty());
    }
}
