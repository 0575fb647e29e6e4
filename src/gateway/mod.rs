//! The gateway's shared state and the decisions that cross connections: accept a submit (validate, route, queue), record
//! what carriers answer, match receipts, expire, cancel, and hand receipts and MO to the client's binds.
//!
//! Every method takes the time as arguments (`now` monotonic, `now_unix` wall clock), so tests drive it deterministically.

pub mod accounts;
pub mod outbox;
pub mod store;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;
use smpp::encoding::udh::Udh;
use smpp::pdu::{DeliverSm, SubmitSm};
use smpp::tlv::{NetworkErrorCode, Tlvs};
use smpp::types::{
    Address, COctetString, DataCoding, EsmClass, Npi, OctetString, RegisteredDelivery, Ton,
};
use smpp::CommandStatus;

use crate::config::{ClassesConfig, Config};
use crate::dlr::{Correlator, IdForm, Match};
use crate::message::{AccountId, CarrierId, Class, MessageId, MessageIds, MessageState, Stamp};
use crate::metrics as m;
use crate::queue::QueueLimits;
use crate::routing::e164::{self, NumberError};
use crate::routing::senders::{SenderDecision, SenderError, SenderRegistry};
use crate::routing::{Route, RouteCarrier, RouteTable};

use accounts::Account;
use outbox::{AccountOutbox, Candidates, CarrierQueue, Inbound, Outgoing};
use store::{MessageStore, Origin, Record, Strings, UnixSecs};

/// Why a submit was refused; each maps to the `command_status` an ESME sees (and an HTTP status later).
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The destination is not a routable number.
    #[error("invalid destination: {0}")]
    Destination(#[from] NumberError),
    /// The sender may not be used.
    #[error("invalid sender: {0}")]
    Sender(#[from] SenderError),
    /// No route covers the destination.
    #[error("no route to this destination")]
    NoRoute,
    /// Routes exist, but no carrier on them accepts this sender ID.
    #[error("no carrier on the route accepts sender {0:?}")]
    SenderNotCarried(String),
    /// The message body is malformed or too long.
    #[error("invalid message: {0}")]
    Message(&'static str),
    /// The validity period is malformed or already over.
    #[error("invalid validity_period: {0}")]
    Validity(String),
    /// Scheduled delivery is not offered on SMPP.
    #[error("schedule_delivery_time is not supported; submit when the message should go")]
    Scheduled,
    /// Over the account's rate.
    #[error("over the account's submit rate")]
    Throttled,
    /// The carrier's queue is full.
    #[error("queue full")]
    QueueFull,
}

impl SubmitError {
    /// The status an ESME gets.
    pub fn status(&self) -> CommandStatus {
        match self {
            SubmitError::Destination(_) | SubmitError::NoRoute => CommandStatus::ESME_RINVDSTADR,
            SubmitError::Sender(_) | SubmitError::SenderNotCarried(_) => {
                CommandStatus::ESME_RINVSRCADR
            }
            SubmitError::Message(_) => CommandStatus::ESME_RINVMSGLEN,
            SubmitError::Validity(_) => CommandStatus::ESME_RINVEXPIRY,
            SubmitError::Scheduled => CommandStatus::ESME_RINVSCHED,
            SubmitError::Throttled => CommandStatus::ESME_RTHROTTLED,
            SubmitError::QueueFull => CommandStatus::ESME_RMSGQFUL,
        }
    }

    /// A short reason for metric labels.
    pub fn reason(&self) -> &'static str {
        match self {
            SubmitError::Destination(_) => "destination",
            SubmitError::Sender(_) => "sender",
            SubmitError::NoRoute => "no_route",
            SubmitError::SenderNotCarried(_) => "sender_not_carried",
            SubmitError::Message(_) => "message",
            SubmitError::Validity(_) => "validity",
            SubmitError::Scheduled => "scheduled",
            SubmitError::Throttled => "throttled",
            SubmitError::QueueFull => "queue_full",
        }
    }
}

/// A carrier's name and queue.
#[derive(Debug)]
pub struct Carrier {
    /// Its name in config.
    pub name: String,
    /// Its queue.
    pub queue: CarrierQueue,
}

/// What a carrier receipt said, kept while it waits to be matched.
#[derive(Debug, Clone, PartialEq)]
pub struct CarrierReceipt {
    /// The state it reports.
    pub state: MessageState,
    /// The error code it gives.
    pub error: u16,
}

/// Something the HTTP side (webhooks) must hear about.
#[derive(Debug)]
pub enum Notice {
    /// A carrier acknowledged a part of a message submitted over HTTP (Kannel's DLR event 8).
    Sent(MessageId),
    /// A message submitted over HTTP reached a final state.
    Finished(MessageId),
    /// A mobile-originated message for an account whose MO goes to its callback URL.
    Mo {
        /// The account that owns the destination number.
        account: AccountId,
        /// The carrier's deliver_sm (boxed: MO is rare beside receipts).
        deliver: Box<DeliverSm>,
    },
}

/// The bounded hand-off of [`Notice`]s from the gateway to the webhook dispatcher.
#[derive(Debug)]
struct Notices {
    tx: tokio::sync::mpsc::Sender<Notice>,
    rx: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<Notice>>>,
}

/// The shared state.
#[derive(Debug)]
pub struct Gateway {
    accounts: Vec<Account>,
    by_system_id: HashMap<String, AccountId>,
    outboxes: Vec<AccountOutbox>,
    carriers: Vec<Carrier>,
    routes: RouteTable,
    senders: SenderRegistry,
    classes: ClassesConfig,
    mo_owners: HashMap<String, AccountId>,
    store: MessageStore,
    correlator: Correlator<CarrierReceipt>,
    ids: MessageIds,
    /// Long messages: (account, destination, concatenation reference) → the carrier their first part went to.
    sticky: DashMap<(AccountId, Box<str>, u16), (CarrierId, Instant)>,
    by_api_key: HashMap<[u8; 32], AccountId>,
    notices: Notices,
    /// Sweeps since start, to do the rarer chores every so many.
    sweeps: AtomicU64,
    /// Metric handles recorded for every message.
    hot: HotMetrics,
}

/// The metrics every message records, by account, carrier and class index.
#[derive(Debug, Default)]
struct HotMetrics {
    accepted: m::PerMessage<(AccountId, Class)>,
    sent: m::PerMessage<(AccountId, CarrierId, Class)>,
    finished: m::PerMessage<(AccountId, Option<CarrierId>, Class, &'static str)>,
    submit_to_carrier: m::PerClass,
    submit_to_receipt: m::PerClass,
}

impl Gateway {
    /// Builds the state from a validated config; `start_unix` seeds message ids.
    pub fn new(config: &Config, start_unix: u64) -> Gateway {
        let f = &config.file;
        let accounts: Vec<Account> = f
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| Account::new(AccountId(i as u32), a))
            .collect();
        let by_system_id = accounts
            .iter()
            .map(|a| (a.system_id.clone(), a.id))
            .collect::<HashMap<_, _>>();
        let limits = QueueLimits {
            max_messages: f.queue.max_messages,
            max_bytes: f.queue.max_bytes,
            min_share_permille: Class::ALL
                .map(|c| (f.classes.get(c).min_share * 1000.0).round() as u32),
            fill_permille: Class::ALL.map(|c| {
                let step = (f.queue.headroom.get_ref() * 1000.0).round() as u32;
                1000u32.saturating_sub(step * c.index() as u32)
            }),
        };
        let carriers: Vec<Carrier> = f
            .carriers
            .iter()
            .map(|c| Carrier {
                name: c.name.get_ref().clone(),
                queue: CarrierQueue::new(limits.clone()),
            })
            .collect();
        let carrier_id = |name: &str| {
            CarrierId(
                carriers
                    .iter()
                    .position(|c| c.name == name)
                    .expect("validated") as u16,
            )
        };
        let routes = RouteTable::new(
            f.routes
                .iter()
                .map(|r| Route {
                    prefix: r.prefix.get_ref().clone(),
                    accounts: r
                        .accounts
                        .iter()
                        .map(|a| by_system_id[a.get_ref()])
                        .collect(),
                    classes: r.classes.clone(),
                    carriers: r
                        .carriers
                        .iter()
                        .map(|rc| RouteCarrier {
                            carrier: carrier_id(rc.carrier.get_ref()),
                            cost: rc.cost,
                            weight: rc.weight,
                        })
                        .collect(),
                })
                .collect(),
        );
        let mut senders =
            SenderRegistry::new(f.senders.default.map(|p| Config::alpha_policy(p, None)));
        for c in &f.senders.countries {
            senders.set_country(
                c.country_code.get_ref(),
                Config::alpha_policy(c.alphanumeric, c.replacement.as_deref()),
            );
        }
        for (i, a) in f.accounts.iter().enumerate() {
            senders.set_owned(AccountId(i as u32), a.sender_ids.iter().cloned());
        }
        for (i, c) in f.carriers.iter().enumerate() {
            senders.set_carrier_accepts(CarrierId(i as u16), c.sender_ids.iter().cloned());
        }
        let mut mo_owners = HashMap::new();
        for (i, a) in f.accounts.iter().enumerate() {
            for n in &a.numbers {
                mo_owners.insert(n.trim_start_matches('+').to_string(), AccountId(i as u32));
            }
        }
        let by_api_key = accounts
            .iter()
            .flat_map(|a| a.api_key_hashes.iter().map(|h| (*h, a.id)))
            .collect();
        let (tx, rx) = tokio::sync::mpsc::channel(f.webhooks.queue);
        Gateway {
            by_api_key,
            notices: Notices {
                tx,
                rx: std::sync::Mutex::new(Some(rx)),
            },
            outboxes: accounts
                .iter()
                .map(|_| AccountOutbox::new(f.server.receipt_backlog))
                .collect(),
            accounts,
            by_system_id,
            carriers,
            routes,
            senders,
            classes: ClassesConfig {
                otp: f.classes.otp.clone(),
                transactional: f.classes.transactional.clone(),
                notification: f.classes.notification.clone(),
                marketing: f.classes.marketing.clone(),
                rules: f.classes.rules.clone(),
            },
            mo_owners,
            store: MessageStore::new(f.server.record_retention, f.server.max_final_records),
            correlator: Correlator::new(100_000),
            ids: MessageIds::new(start_unix),
            sticky: DashMap::new(),
            sweeps: AtomicU64::new(0),
            hot: HotMetrics::default(),
        }
    }

    /// The account with this `system_id`.
    pub fn account_by_system_id(&self, system_id: &str) -> Option<&Account> {
        self.by_system_id
            .get(system_id)
            .map(|id| &self.accounts[id.0 as usize])
    }

    /// The account an HTTP API key belongs to. The lookup is by the key's SHA-256 digest, so how long it takes can tell
    /// an attacker about digests, never about keys.
    pub fn account_by_api_key(&self, key: &str) -> Option<&Account> {
        self.by_api_key
            .get(&accounts::api_key_digest(key))
            .map(|id| &self.accounts[id.0 as usize])
    }

    /// Every account, by id.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter()
    }

    /// Takes the receiving end of the notices for the webhook dispatcher; `None` after the first call.
    pub fn take_notices(&self) -> Option<tokio::sync::mpsc::Receiver<Notice>> {
        self.notices
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Hands a notice to the webhook dispatcher; when its queue is full, or the dispatcher has stopped (shutdown), the
    /// notice is dropped, counted and logged.
    fn notify(&self, account: AccountId, notice: Notice) {
        use tokio::sync::mpsc::error::TrySendError;
        let (reason, notice) = match self.notices.tx.try_send(notice) {
            Ok(()) => return,
            Err(TrySendError::Full(n)) => ("queue_full", n),
            Err(TrySendError::Closed(n)) => ("shutdown", n),
        };
        let name = self.account(account).system_id.clone();
        metrics::counter!(m::WEBHOOKS_DROPPED, "account" => name.clone(), "reason" => reason)
            .increment(1);
        match notice {
            Notice::Finished(id) => {
                tracing::error!(account = %name, %id, reason, "webhook not queued: receipt dropped")
            }
            Notice::Sent(id) => {
                tracing::warn!(account = %name, %id, reason, "webhook not queued: sent report dropped")
            }
            Notice::Mo { .. } => {
                tracing::error!(account = %name, reason, "webhook not queued: MO dropped")
            }
        }
    }

    /// The prefixes of routes none of whose carriers has a bound session (empty when every route can send).
    pub fn routes_without_carrier(&self) -> Vec<String> {
        self.routes
            .routes()
            .iter()
            .filter(|r| {
                !r.carriers
                    .iter()
                    .any(|c| self.carrier(c.carrier).queue.is_up())
            })
            .map(|r| r.prefix.clone())
            .collect()
    }

    /// An account.
    pub fn account(&self, id: AccountId) -> &Account {
        &self.accounts[id.0 as usize]
    }

    /// An account's outbox of receipts and MO.
    pub fn outbox(&self, id: AccountId) -> &AccountOutbox {
        &self.outboxes[id.0 as usize]
    }

    /// A carrier.
    pub fn carrier(&self, id: CarrierId) -> &Carrier {
        &self.carriers[id.0 as usize]
    }

    /// Every carrier, by id.
    pub fn carriers(&self) -> impl Iterator<Item = (CarrierId, &Carrier)> {
        self.carriers
            .iter()
            .enumerate()
            .map(|(i, c)| (CarrierId(i as u16), c))
    }

    /// The message records.
    pub fn store(&self) -> &MessageStore {
        &self.store
    }

    /// The class an SMPP message gets: the config's rules, or the account's default.
    pub fn class_for(&self, account: AccountId, service_type: &str, priority_flag: u8) -> Class {
        self.classes
            .class_for(service_type, priority_flag)
            .unwrap_or(self.account(account).default_class)
    }

    /// Validates, routes and queues an SMPP `submit_sm`; returns Sluice's id. Nothing is queued unless the answer is `Ok`.
    pub fn submit(
        &self,
        account: AccountId,
        sm: SubmitSm,
        class: Class,
        now: Instant,
        now_unix: i64,
    ) -> Result<MessageId, SubmitError> {
        self.submit_parts(
            account,
            vec![sm],
            class,
            Origin::Smpp,
            now,
            now_unix,
            |_| {},
        )
        .map(|ids| ids[0])
    }

    /// Validates, routes and queues the parts of one message (all to the same destination from the same sender) as a
    /// whole: every part is queued on the same carrier, or none is. Returns Sluice's id for each part, in order.
    ///
    /// `register` is called with the ids once the message passed every check and before any part is queued, so a
    /// caller can record them before a receipt can come back (the simulator answers within a millisecond). When the
    /// answer is nonetheless an error (a full queue), nothing was queued and the ids are never used.
    #[allow(clippy::too_many_arguments)]
    pub fn submit_parts(
        &self,
        account: AccountId,
        parts: Vec<SubmitSm>,
        class: Class,
        origin: Origin,
        now: Instant,
        now_unix: i64,
        register: impl FnOnce(&[MessageId]),
    ) -> Result<Vec<MessageId>, SubmitError> {
        let n = parts.len() as u64;
        let result = self.try_submit(account, parts, class, origin, now, now_unix, register);
        let name = || self.account(account).system_id.clone();
        match &result {
            Ok(_) => self.hot.accepted.increment((account, class), n, || {
                metrics::counter!(m::ACCEPTED, "account" => name(), "class" => class.as_str())
            }),
            Err(e) => metrics::counter!(m::REJECTED, "account" => name(), "class" => class.as_str(), "reason" => e.reason())
                .increment(n),
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn try_submit(
        &self,
        account: AccountId,
        parts: Vec<SubmitSm>,
        class: Class,
        origin: Origin,
        now: Instant,
        now_unix: i64,
        register: impl FnOnce(&[MessageId]),
    ) -> Result<Vec<MessageId>, SubmitError> {
        let acct = self.account(account);
        let Some(sm) = parts.first() else {
            return Err(SubmitError::Message("the message has no text"));
        };
        let dest_text = std::str::from_utf8(sm.dest_addr.addr.as_bytes())
            .map_err(|_| NumberError::NotDigits(sm.dest_addr.addr.to_str_lossy().into_owned()))?;
        let dest = e164::normalise(dest_text, sm.dest_addr.ton, acct.default_country.as_deref())?;
        let sender = sm.source_addr.addr.to_str_lossy().into_owned();
        let decision = self.senders.check(account, &sender, &dest)?;
        let mut concat_ref = None;
        for part in &parts {
            let r = check_body(part)?;
            concat_ref = concat_ref.or(r);
        }
        if !sm.schedule_delivery_time.is_empty() {
            return Err(SubmitError::Scheduled);
        }
        let expires_at = match smpp::time::SmppTime::parse_field(sm.validity_period.as_bytes()) {
            Err(e) => return Err(SubmitError::Validity(e.to_string())),
            Ok(Some(t)) => {
                let left = t.expires_at(now_unix) - now_unix;
                if left <= 0 {
                    return Err(SubmitError::Validity(
                        "the validity period is already over".into(),
                    ));
                }
                now + Duration::from_secs(left as u64)
            }
            Ok(None) => now + self.classes.get(class).validity,
        };
        let routes = self
            .routes
            .carriers_for(&dest, account, class)
            .ok_or(SubmitError::NoRoute)?;
        let mut candidates: Vec<CarrierId> = routes
            .iter()
            .map(|rc| rc.carrier)
            .filter(|&c| self.senders.carrier_can_carry(c, &sender, &decision))
            .collect();
        if candidates.is_empty() {
            return Err(SubmitError::SenderNotCarried(sender));
        }
        // All parts of a long message go to the carrier that took the first, so the handset can put them together.
        let sticky_key = concat_ref.map(|r| (account, dest.clone().into_boxed_str(), r));
        let sticky = sticky_key
            .as_ref()
            .and_then(|k| self.sticky.get(k).map(|e| e.0));
        let first = match sticky.filter(|c| candidates.contains(c)) {
            Some(c) => c,
            None => candidates
                .iter()
                .copied()
                .find(|&c| self.carrier(c).queue.is_up())
                .unwrap_or(candidates[0]),
        };
        if let Some(pos) = candidates.iter().position(|&c| c == first) {
            candidates[..=pos].rotate_right(1);
        }
        if !acct.try_submit(parts.len()) {
            return Err(SubmitError::Throttled);
        }

        let dest_addr = Address {
            ton: Ton::INTERNATIONAL,
            npi: Npi::ISDN,
            addr: COctetString::try_from(dest.as_str()).expect("E.164 fits 21"),
        };
        let candidates = Candidates::new(&candidates);
        let replacement = match &decision {
            SenderDecision::Replace(number) => Some(
                Address::new(Ton::INTERNATIONAL, Npi::ISDN, number).map_err(|_| {
                    SenderError::Invalid {
                        sender: number.clone(),
                    }
                })?,
            ),
            SenderDecision::Keep { .. } => None,
        };
        let ids: Vec<MessageId> = parts.iter().map(|_| self.ids.next_id()).collect();
        register(&ids);
        for (i, (mut sm, &id)) in parts.into_iter().zip(&ids).enumerate() {
            let client_source = sm.source_addr.clone();
            let client_dest = sm.dest_addr.clone();
            let registered_delivery = sm.registered_delivery;
            sm.dest_addr = dest_addr.clone();
            sm.source_addr = match &decision {
                SenderDecision::Replace(_) => replacement.clone().expect("made above"),
                SenderDecision::Keep {
                    alphanumeric: true, ..
                } => Address {
                    ton: Ton::ALPHANUMERIC,
                    npi: Npi::UNKNOWN,
                    addr: sm.source_addr.addr,
                },
                SenderDecision::Keep {
                    alphanumeric: false,
                    ..
                } => sm.source_addr,
            };
            // Sluice always asks the carrier for a receipt: it needs the final state even when the client does not.
            sm.registered_delivery = RegisteredDelivery(0x01);
            self.store.insert(
                id,
                Record {
                    account,
                    class,
                    origin,
                    state: MessageState::Queued,
                    carrier: Some(first).into(),
                    strings: Strings::new(&client_source, &client_dest),
                    registered_delivery,
                    submitted_at: UnixSecs::new(now_unix),
                    sent_at: None,
                    done_at: None,
                    error: 0,
                    accepted: Stamp::of(now),
                },
            );
            let out = Outgoing::new(id, account, class, expires_at, candidates, sm);
            if self.carrier(first).queue.try_push(out).is_err() {
                // None or all: take back the parts already queued. The client gets ESME_RMSGQFUL and never sees these
                // ids, so no record of them is kept (one marked Rejected but never finished would be kept for ever).
                for &queued in &ids[..i] {
                    self.carrier(first).queue.remove(queued);
                }
                for &id in &ids[..=i] {
                    self.store.remove(id);
                }
                return Err(SubmitError::QueueFull);
            }
        }
        if let Some(k) = sticky_key {
            self.sticky.entry(k).or_insert((first, now));
        }
        Ok(ids)
    }

    /// A carrier acknowledged a message with its own id.
    pub fn on_sent(
        &self,
        carrier: CarrierId,
        m: &Outgoing,
        carrier_message_id: &str,
        now: Instant,
        now_unix: i64,
    ) {
        self.hot.sent.increment((m.account, carrier, m.class), 1, || {
            metrics::counter!(m::SENT, "account" => self.account(m.account).system_id.clone(), "carrier" => self.carrier(carrier).name.clone(), "class" => m.class.as_str())
        });
        let updated = self.store.update(m.id, |r| {
            if !r.state.is_final() {
                r.state = MessageState::Sent;
            }
            r.carrier = Some(carrier).into();
            r.strings.set_carrier_message_id(carrier_message_id);
            r.sent_at = Some(UnixSecs::new(now_unix));
            (r.origin, r.accepted)
        });
        if let Some((_, accepted)) = updated {
            let elapsed = now
                .saturating_duration_since(accepted.instant())
                .as_secs_f64();
            self.hot.submit_to_carrier.record(
                m.class,
                elapsed,
                || metrics::histogram!(m::SUBMIT_TO_CARRIER, "class" => m.class.as_str()),
            );
        }
        // Only a Kannel dlr-url with mask 8 wants this event.
        let report_sent = matches!(updated, Some((Origin::Http { report_sent: true }, _)));
        if report_sent {
            self.notify(m.account, Notice::Sent(m.id));
        }
        if let Some(early) = self
            .correlator
            .record(carrier, carrier_message_id, m.id, now)
        {
            self.finish(m.id, early.state, early.error, now, now_unix);
        }
    }

    /// A carrier refused a message. Temporary errors move it to the next carrier that is up (or back to the head of this
    /// one's queue); permanent errors end it as REJECTD.
    pub fn on_refused(
        &self,
        carrier: CarrierId,
        m: Outgoing,
        status: CommandStatus,
        now: Instant,
        now_unix: i64,
    ) {
        let name = self.carrier(carrier).name.clone();
        if status.is_temporary() {
            metrics::counter!(m::REQUEUED, "carrier" => name, "reason" => "temporary_error")
                .increment(1);
            self.fail_over(carrier, vec![m]);
        } else {
            self.finish(
                m.id,
                MessageState::Rejected,
                (status.0 & 0xFFFF) as u16,
                now,
                now_unix,
            );
        }
    }

    /// Puts messages back: on the next candidate carrier that is up, or at the head of `from`'s queue.
    pub fn fail_over(&self, from: CarrierId, ms: Vec<Outgoing>) {
        let mut stay = Vec::new();
        for m in ms {
            let next = m
                .candidates
                .iter()
                .skip_while(|&&c| c != from)
                .skip(1)
                .chain(m.candidates.iter().take_while(|&&c| c != from))
                .copied()
                .find(|&c| self.carrier(c).queue.is_up());
            match next {
                Some(c) => {
                    self.store.update(m.id, |r| r.carrier = Some(c).into());
                    self.carrier(c).queue.requeue(vec![m]);
                }
                None => stay.push(m),
            }
        }
        self.carrier(from).queue.requeue(stay);
    }

    /// A carrier's receipt `deliver_sm`: matched to our message, or held if the carrier's id is not known yet.
    pub fn on_carrier_receipt(
        &self,
        carrier: CarrierId,
        deliver: &DeliverSm,
        now: Instant,
        now_unix: i64,
    ) {
        let text = smpp::receipt::parse(deliver.payload()).ok();
        let (carrier_id, form) = match (deliver.tlvs.receipted_message_id(), &text) {
            (Some(id), _) if !id.is_empty() => {
                (String::from_utf8_lossy(id).into_owned(), IdForm::Exact)
            }
            (_, Some(r)) => (r.id.clone(), IdForm::EitherBase),
            _ => {
                metrics::counter!(m::RECEIPTS_UNMATCHED, "carrier" => self.carrier(carrier).name.clone()).increment(1);
                tracing::warn!(carrier = %self.carrier(carrier).name, "receipt without an id");
                return;
            }
        };
        let stat = text
            .as_ref()
            .map(|r| r.stat.as_str().to_string())
            .unwrap_or_default();
        let state = MessageState::from_receipt(&stat, deliver.tlvs.message_state());
        let error = deliver
            .tlvs
            .network_error_code()
            .map(|e| e.code)
            .or_else(|| {
                text.as_ref()
                    .and_then(|r| r.err.as_deref())
                    .and_then(|e| e.parse().ok())
            })
            .unwrap_or(0);
        let receipt = CarrierReceipt { state, error };
        match self.correlator.match_receipt(
            carrier,
            &carrier_id,
            form,
            receipt,
            state.is_final(),
            now,
        ) {
            Match::Matched(ours, r) => {
                if r.state.is_final() {
                    self.finish(ours, r.state, r.error, now, now_unix);
                }
            }
            Match::Held => {}
            Match::Unmatched(_) => {
                metrics::counter!(m::RECEIPTS_UNMATCHED, "carrier" => self.carrier(carrier).name.clone()).increment(1);
                tracing::warn!(carrier = %self.carrier(carrier).name, carrier_id, "receipt for an unknown message");
            }
        }
    }

    /// A mobile-originated message from a carrier: handed to the account that owns the destination number.
    pub fn on_mo(&self, deliver: DeliverSm) -> Result<(), CommandStatus> {
        let dest = deliver.dest_addr.addr.to_str_lossy();
        let owner = self
            .mo_owners
            .get(dest.trim_start_matches('+'))
            .copied()
            .ok_or(CommandStatus::ESME_RINVDSTADR)?;
        if self.account(owner).callback_url.is_some() {
            let notice = Notice::Mo {
                account: owner,
                deliver: Box::new(deliver),
            };
            // The carrier still holds the MO: a temporary error makes it send it again later rather than lose it.
            return self.notices.tx.try_send(notice).map_err(|_| {
                tracing::warn!(account = %self.account(owner).system_id, "webhook queue full: MO refused for the carrier to retry");
                CommandStatus::ESME_RMSGQFUL
            });
        }
        self.push_inbound(
            owner,
            Inbound {
                deliver,
                about: None,
            },
        );
        Ok(())
    }

    /// Ends a message in a final state (once), and queues the client's receipt if it asked for one.
    pub fn finish(
        &self,
        id: MessageId,
        state: MessageState,
        error: u16,
        now: Instant,
        now_unix: i64,
    ) {
        let Some(r) = self.store.finish(id, state, error, now_unix, now) else {
            return;
        };
        let stat = r.state.receipt_stat();
        self.hot
            .finished
            .increment((r.account, r.carrier.get(), r.class, stat), 1, || {
                let account = self.account(r.account).system_id.clone();
                let carrier = r
                    .carrier
                    .get()
                    .map_or_else(|| "none".to_string(), |c| self.carrier(c).name.clone());
                metrics::counter!(m::FINISHED, "account" => account, "carrier" => carrier, "class" => r.class.as_str(), "state" => stat)
            });
        self.hot.submit_to_receipt.record(
            r.class,
            now.saturating_duration_since(r.accepted.instant())
                .as_secs_f64(),
            || metrics::histogram!(m::SUBMIT_TO_RECEIPT, "class" => r.class.as_str()),
        );
        if matches!(r.origin, Origin::Http { .. }) {
            self.notify(r.account, Notice::Finished(id));
        } else if r
            .registered_delivery
            .wants_receipt(state == MessageState::Delivered)
        {
            self.push_inbound(
                r.account,
                Inbound {
                    deliver: client_receipt(id, &r),
                    about: Some(id),
                },
            );
        }
    }

    fn push_inbound(&self, account: AccountId, item: Inbound) {
        if !self.outbox(account).push(item) {
            metrics::counter!(m::OUTBOX_DROPPED, "account" => self.account(account).system_id.clone()).increment(1);
            tracing::warn!(account = %self.account(account).system_id, "outbox full: dropped the oldest receipt");
        }
    }

    /// Cancels a message that is still queued (`cancel_sm`, HTTP DELETE).
    pub fn cancel(
        &self,
        account: AccountId,
        id: MessageId,
        now: Instant,
        now_unix: i64,
    ) -> Result<(), CommandStatus> {
        let r = self
            .store
            .get(id)
            .filter(|r| r.account == account)
            .ok_or(CommandStatus::ESME_RINVMSGID)?;
        if r.state != MessageState::Queued {
            return Err(CommandStatus::ESME_RCANCELFAIL);
        }
        let carrier = r.carrier.get().ok_or(CommandStatus::ESME_RCANCELFAIL)?;
        self.carrier(carrier)
            .queue
            .remove(id)
            .ok_or(CommandStatus::ESME_RCANCELFAIL)?;
        self.finish(id, MessageState::Cancelled, 0, now, now_unix);
        Ok(())
    }

    /// A message's record, if it belongs to `account`.
    pub fn query(&self, account: AccountId, id: MessageId) -> Option<Record> {
        self.store.get(id).filter(|r| r.account == account)
    }

    /// Periodic housekeeping: expire queued messages whose validity passed, drop stale correlation entries and records.
    /// Each step is short (a worker busy here holds up every task queued behind it); final records are forgotten as
    /// messages finish, and [`Gateway::expire_records`] takes what is left in chunks.
    pub fn sweep(&self, now: Instant, now_unix: i64) {
        let mut expired = Vec::new();
        for c in &self.carriers {
            c.queue.drain_expired(now, &mut expired);
        }
        self.expire(expired, now, now_unix);
        for _ in
            self.correlator
                .expire(now, Duration::from_secs(60), Duration::from_secs(72 * 3600))
        {
            metrics::counter!(m::RECEIPTS_UNMATCHED, "carrier" => "unknown").increment(1);
        }
        // Visiting every long message's entry took 2 ms at 140,000 entries; once in 20 sweeps is often enough for an
        // hour's retention.
        if self.sweeps.fetch_add(1, Ordering::Relaxed) % 20 == 0 {
            self.sticky
                .retain(|_, (_, at)| now.duration_since(*at) < Duration::from_secs(3600));
        }
    }

    /// Forgets up to `limit` final records past their retention (or beyond the bound); true when more are due.
    pub fn expire_records(&self, now: Instant, limit: usize) -> bool {
        self.store.expire(now, limit)
    }

    /// Ends expired messages with EXPIRED receipts.
    pub fn expire(&self, expired: Vec<Outgoing>, now: Instant, now_unix: i64) {
        for m in expired {
            self.finish(m.id, MessageState::Expired, 0, now, now_unix);
        }
    }
}

/// Checks the message body: UDH well-formed, UCS-2 of even length, not both short_message and message_payload. Returns
/// the concatenation reference of a long message's part.
fn check_body(sm: &SubmitSm) -> Result<Option<u16>, SubmitError> {
    if !sm.short_message.is_empty() && sm.tlvs.message_payload().is_some() {
        return Err(SubmitError::Message(
            "short_message and message_payload are both set (SMPP 3.4 §5.3.2.32)",
        ));
    }
    let payload = sm.payload();
    let (concat, text) = if sm.esm_class.has_udh() {
        let (udh, text) = Udh::parse(payload)
            .map_err(|_| SubmitError::Message("the user data header is malformed"))?;
        (udh.concat().map(|c| c.reference), text)
    } else {
        (sm.tlvs.sar_msg_ref_num(), payload)
    };
    if sm.data_coding == DataCoding::UCS2 && text.len() % 2 != 0 {
        return Err(SubmitError::Message(
            "UCS-2 text has an odd number of octets",
        ));
    }
    Ok(concat)
}

/// The receipt `deliver_sm` for a client: Sluice's id, the client's own addresses (swapped, as an SMSC sends them), the
/// de-facto text (SMPP 3.4 Appendix B) and the receipted_message_id / message_state TLVs.
pub fn client_receipt(id: MessageId, r: &Record) -> DeliverSm {
    let delivered = r.state == MessageState::Delivered;
    let submit = smpp::time::format_receipt_date(r.submitted_at.get());
    let done = smpp::time::format_receipt_date(r.done_at.unwrap_or(r.submitted_at).get());
    let text = format!(
        "id:{id} sub:001 dlvrd:{} submit date:{} done date:{} stat:{} err:{:03} text:",
        if delivered { "001" } else { "000" },
        String::from_utf8_lossy(&submit),
        String::from_utf8_lossy(&done),
        r.state.receipt_stat(),
        r.error.min(999),
    );
    let mut tlvs = Tlvs::new();
    tlvs.set_receipted_message_id(&id.to_ascii())
        .expect("16 octets fit");
    tlvs.set_message_state(r.state.smpp_state());
    if r.error != 0 {
        tlvs.set_network_error_code(NetworkErrorCode {
            network_type: 3,
            code: r.error,
        });
    }
    let (client_source, client_dest) = r.addresses();
    DeliverSm {
        source_addr: client_dest,
        dest_addr: client_source,
        esm_class: EsmClass::DELIVERY_RECEIPT,
        short_message: OctetString::new(Bytes::from(text))
            .expect("receipt text is under 254 octets"),
        tlvs,
        ..DeliverSm::default()
    }
}

/// Shared handle to the gateway.
pub type SharedGateway = Arc<Gateway>;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn gateway(max_messages: usize) -> Gateway {
        let text = format!(
            r#"
[server]
smpp_listen = "127.0.0.1:0"
[queue]
max_messages = {max_messages}
[[account]]
system_id = "demo"
password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$4w2HkTEcsUZ6D0lWvCAs2GDkRFDaPnYlbCRFr1n7ZR8"
sender_ids = ["ACME"]
rate = 1000
[[carrier]]
name = "c"
host = "127.0.0.1"
port = 1
system_id = "s"
password = "p"
[[route]]
prefix = ""
carriers = [{{ carrier = "c" }}]
"#
        );
        Gateway::new(&Config::parse(Path::new("t.toml"), &text).unwrap(), 0)
    }

    fn submit_sm() -> SubmitSm {
        SubmitSm {
            source_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ACME").unwrap(),
            dest_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4917612345678").unwrap(),
            short_message: OctetString::new(Bytes::from_static(b"hello")).unwrap(),
            ..SubmitSm::default()
        }
    }

    #[test]
    fn keeps_no_record_of_a_message_the_full_queue_refused() {
        let gw = gateway(1);
        let (now, unix) = (Instant::now(), 1_700_000_000);
        gw.submit(AccountId(0), submit_sm(), Class::Transactional, now, unix)
            .unwrap();
        let refused = gw.submit(AccountId(0), submit_sm(), Class::Transactional, now, unix);
        assert!(matches!(refused, Err(SubmitError::QueueFull)));
        assert_eq!(gw.store().len(), 1);
    }
}
