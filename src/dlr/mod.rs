//! Receipt correlation: the carrier's message id recorded against Sluice's, and carrier receipts matched back to it.
//!
//! Receipts can arrive before the `submit_sm_resp` that tells us the carrier's id (a receiver bind races the transmitter
//! bind). Such an early receipt is held, bounded and briefly, and matched the moment the id is recorded. Carriers also
//! disagree with themselves on id formats (hex in `submit_sm_resp`, decimal in the receipt text), so a lookup of an id
//! read from the text that misses tries the other base ([`IdForm`]). No I/O and no clock: `now` is passed in.

use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::message::{CarrierId, MessageId};

/// A carrier's id for a message, upper-cased.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct CarrierKey(CarrierId, Box<str>);

impl CarrierKey {
    fn new(carrier: CarrierId, id: &str) -> Self {
        CarrierKey(carrier, id.trim().to_ascii_uppercase().into_boxed_str())
    }

    /// The same id read in the other base: decimal digits as hex, hex digits as decimal.
    fn other_base(&self) -> Option<CarrierKey> {
        let id = &*self.1;
        let other = if id.bytes().all(|b| b.is_ascii_digit()) {
            format!("{:X}", id.parse::<u64>().ok()?)
        } else {
            u64::from_str_radix(id, 16).ok()?.to_string()
        };
        (other != id).then(|| CarrierKey(self.0, other.into_boxed_str()))
    }
}

/// Which forms of a receipt's carrier id may match a recorded one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdForm {
    /// Only the id as given: it came from the `receipted_message_id` TLV, which carries the `message_id` of the
    /// `submit_sm_resp` (SMPP 3.4 §5.3.2.12). Reading it in the other base could only find some other message.
    Exact,
    /// The id as given or read in the other base: it came from the receipt text, where carriers may write in decimal
    /// what they answered in hex.
    EitherBase,
}

/// What happened to a receipt handed to [`Correlator::match_receipt`].
#[derive(Debug, PartialEq)]
pub enum Match<R> {
    /// It belongs to this message.
    Matched(MessageId, R),
    /// No message has this carrier id yet; the receipt is held until one does, or until it is too old.
    Held,
    /// No message has this carrier id and the hold is full; the receipt is given back.
    Unmatched(R),
}

/// The correlation tables.
#[derive(Debug)]
pub struct Correlator<R> {
    ids: DashMap<CarrierKey, (MessageId, Instant)>,
    early: DashMap<CarrierKey, (R, Instant, IdForm)>,
    max_early: usize,
}

impl<R> Correlator<R> {
    /// Tables holding at most `max_early` early receipts.
    pub fn new(max_early: usize) -> Self {
        Correlator {
            ids: DashMap::new(),
            early: DashMap::new(),
            max_early,
        }
    }

    /// Records that `carrier` knows our message `ours` as `carrier_id`. Returns a receipt for it that arrived early.
    ///
    /// `record` and [`Correlator::match_receipt`] run on different sessions' tasks at once. Each publishes first (the id
    /// here, the held receipt there) and then looks for the other, so at least one of them sees the other; whichever
    /// removes the held receipt from `early` owns it, so it is matched exactly once.
    pub fn record(
        &self,
        carrier: CarrierId,
        carrier_id: &str,
        ours: MessageId,
        now: Instant,
    ) -> Option<R> {
        let key = CarrierKey::new(carrier, carrier_id);
        self.ids.insert(key.clone(), (ours, now));
        let early = self.early.remove(&key).or_else(|| {
            let alt = key.other_base()?;
            self.early
                .remove_if(&alt, |_, held| held.2 == IdForm::EitherBase)
        });
        let (_, (r, ..)) = early?;
        self.ids.remove(&key);
        Some(r)
    }

    /// Finds the message a carrier receipt is about, and forgets the mapping when `is_final`.
    pub fn match_receipt(
        &self,
        carrier: CarrierId,
        carrier_id: &str,
        form: IdForm,
        receipt: R,
        is_final: bool,
        now: Instant,
    ) -> Match<R> {
        let key = CarrierKey::new(carrier, carrier_id);
        let find = || {
            self.lookup(&key, is_final).or_else(|| {
                let alt = key.other_base().filter(|_| form == IdForm::EitherBase)?;
                self.lookup(&alt, is_final)
            })
        };
        match find() {
            Some(ours) => Match::Matched(ours, receipt),
            None if self.early.len() < self.max_early => {
                self.early.insert(key.clone(), (receipt, now, form));
                // The id may have been recorded since the lookup above (see `record`): look again, and take the
                // receipt back unless `record` already took it.
                let found = find();
                match (found, found.and_then(|_| self.early.remove(&key))) {
                    (Some(ours), Some((_, (receipt, ..)))) => Match::Matched(ours, receipt),
                    _ => Match::Held,
                }
            }
            None => Match::Unmatched(receipt),
        }
    }

    fn lookup(&self, key: &CarrierKey, remove: bool) -> Option<MessageId> {
        if remove {
            self.ids.remove(key).map(|(_, (id, _))| id)
        } else {
            self.ids.get(key).map(|e| e.0)
        }
    }

    /// Drops early receipts held longer than `hold` (returned, to be counted) and id mappings older than `keep` (whose
    /// receipt never came).
    pub fn expire(&self, now: Instant, hold: Duration, keep: Duration) -> Vec<R> {
        let mut stale_keys = Vec::new();
        for e in self.early.iter() {
            if now.duration_since(e.value().1) >= hold {
                stale_keys.push(e.key().clone());
            }
        }
        let stale = stale_keys
            .iter()
            .filter_map(|k| self.early.remove(k))
            .map(|(_, (r, ..))| r)
            .collect();
        self.ids.retain(|_, (_, at)| now.duration_since(*at) < keep);
        stale
    }

    /// Carrier ids awaiting a receipt.
    pub fn pending(&self) -> usize {
        self.ids.len()
    }

    /// Receipts held for an id not yet recorded.
    pub fn held(&self) -> usize {
        self.early.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: CarrierId = CarrierId(0);

    #[test]
    fn a_receipt_matches_the_recorded_id() {
        let t0 = Instant::now();
        let c = Correlator::new(10);
        assert_eq!(c.record(C, "1a2b", MessageId(7), t0), None);
        assert_eq!(
            c.match_receipt(C, "1A2B", IdForm::EitherBase, "r", true, t0),
            Match::Matched(MessageId(7), "r")
        );
        assert_eq!(c.pending(), 0);
    }

    #[test]
    fn an_intermediate_receipt_keeps_the_mapping_for_the_final_one() {
        let t0 = Instant::now();
        let c = Correlator::new(10);
        c.record(C, "9", MessageId(1), t0);
        assert_eq!(
            c.match_receipt(C, "9", IdForm::EitherBase, "enroute", false, t0),
            Match::Matched(MessageId(1), "enroute")
        );
        assert_eq!(
            c.match_receipt(C, "9", IdForm::EitherBase, "final", true, t0),
            Match::Matched(MessageId(1), "final")
        );
    }

    #[test]
    fn a_receipt_before_the_submit_sm_resp_is_held_and_matched_on_record() {
        let t0 = Instant::now();
        let c = Correlator::new(10);
        assert_eq!(
            c.match_receipt(C, "ABC", IdForm::EitherBase, "early", true, t0),
            Match::Held
        );
        assert_eq!(c.record(C, "abc", MessageId(3), t0), Some("early"));
        assert_eq!(c.held(), 0);
    }

    #[test]
    fn an_early_receipt_by_tlv_id_waits_for_its_own_id_not_the_same_digits_in_the_other_base() {
        // Carrier ids "A" (ten) and "10" (sixteen): the receipt for "10" comes before its submit_sm_resp.
        let t0 = Instant::now();
        let c = Correlator::new(10);
        c.record(C, "A", MessageId(10), t0);
        assert_eq!(
            c.match_receipt(C, "10", IdForm::Exact, "for 16", true, t0),
            Match::Held
        );
        assert_eq!(c.record(C, "10", MessageId(16), t0), Some("for 16"));
        assert_eq!(
            c.match_receipt(C, "A", IdForm::Exact, "for 10", true, t0),
            Match::Matched(MessageId(10), "for 10")
        );
    }

    #[test]
    fn a_held_tlv_receipt_is_not_taken_by_an_id_in_the_other_base() {
        let t0 = Instant::now();
        let c = Correlator::new(10);
        assert_eq!(
            c.match_receipt(C, "10", IdForm::Exact, "for 16", true, t0),
            Match::Held
        );
        assert_eq!(c.record(C, "A", MessageId(10), t0), None);
        assert_eq!(c.record(C, "10", MessageId(16), t0), Some("for 16"));
    }

    #[test]
    fn hex_and_decimal_forms_of_one_id_match() {
        let t0 = Instant::now();
        let c = Correlator::new(10);
        c.record(C, "FF", MessageId(5), t0);
        assert_eq!(
            c.match_receipt(C, "255", IdForm::EitherBase, "r", true, t0),
            Match::Matched(MessageId(5), "r")
        );
    }

    #[test]
    fn ids_of_different_carriers_do_not_mix() {
        let t0 = Instant::now();
        let c = Correlator::new(0);
        c.record(CarrierId(1), "1", MessageId(5), t0);
        assert_eq!(
            c.match_receipt(CarrierId(2), "1", IdForm::EitherBase, "r", true, t0),
            Match::Unmatched("r")
        );
    }

    #[test]
    fn early_receipts_are_bounded_and_expire() {
        let t0 = Instant::now();
        let c = Correlator::new(1);
        assert_eq!(
            c.match_receipt(C, "1", IdForm::EitherBase, "a", true, t0),
            Match::Held
        );
        assert_eq!(
            c.match_receipt(C, "2", IdForm::EitherBase, "b", true, t0),
            Match::Unmatched("b")
        );
        let stale = c.expire(
            t0 + Duration::from_secs(31),
            Duration::from_secs(30),
            Duration::from_secs(3600),
        );
        assert_eq!(stale, vec!["a"]);
    }

    #[test]
    fn a_receipt_racing_its_record_on_another_thread_is_matched_exactly_once() {
        // One carrier session records ids while another takes their receipts at the same moment, as when a receipt
        // comes back on a second bind before the first has read the submit_sm_resp. Every receipt must end matched,
        // either by match_receipt or handed back by record, and never both.
        const N: u64 = 20_000;
        let t0 = Instant::now();
        let c = Correlator::<u64>::new(usize::MAX);
        let barrier = std::sync::Barrier::new(2);
        let (from_record, from_match) = std::thread::scope(|s| {
            let recorder = s.spawn(|| {
                barrier.wait();
                (0..N)
                    .filter_map(|i| c.record(C, &format!("M{i}"), MessageId(i), t0))
                    .collect::<Vec<u64>>()
            });
            let receiver = s.spawn(|| {
                barrier.wait();
                (0..N)
                    .filter_map(|i| {
                        match c.match_receipt(C, &format!("M{i}"), IdForm::EitherBase, i, true, t0)
                        {
                            Match::Matched(ours, r) => {
                                assert_eq!(ours, MessageId(r));
                                Some(r)
                            }
                            Match::Held => None,
                            Match::Unmatched(r) => panic!("unbounded hold refused {r}"),
                        }
                    })
                    .collect::<Vec<u64>>()
            });
            (recorder.join().unwrap(), receiver.join().unwrap())
        });
        let mut all: Vec<u64> = from_record.into_iter().chain(from_match).collect();
        all.sort_unstable();
        assert_eq!(
            all.len() as u64,
            N,
            "{} receipts stuck unmatched",
            N - all.len() as u64
        );
        assert!(
            all.iter().copied().eq(0..N),
            "each receipt matched exactly once"
        );
        assert_eq!((c.held(), c.pending()), (0, 0));
    }
}
