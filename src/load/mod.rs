//! `sluice load`: an SMPP load generator. It binds transceivers as an ESME, submits each stream's traffic at its rate
//! (or as fast as the window allows), answers and matches the receipts, and reports throughput and latency per stream.
//!
//! What each latency measures:
//! - submit → submit_sm_resp: from just before our submit_sm is written to when its response has been read, on the
//!   load generator's clock. It includes the gateway's validation, routing and queueing, not the carrier.
//! - submit → receipt: from the same instant to when the receipt `deliver_sm` for that message has been read, so it
//!   includes the carrier leg and the simulator's receipt delay.
//! - accept → carrier resp (in-process runs only): the gateway's own `sluice_submit_to_carrier_seconds` per class, from
//!   when it accepted the submit to when the carrier's submit_sm_resp was read. The load generator cannot see the
//!   carrier leg itself, so this is the gateway's figure, read through a `metrics` recorder.

pub mod recorder;
pub mod report;
pub mod scenario;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use rand::Rng;
use smpp::encoding::{split, ConcatMethod, TextEncoding};
use smpp::pdu::{Bind, Body, SubmitSm, SubmitSmResp};
use smpp::session::{BindType, Event, Role, Session};
use smpp::types::{
    Address, COctetString, DataCoding, EsmClass, Npi, OctetString, PriorityFlag,
    RegisteredDelivery, Ton,
};
use smpp::CommandStatus;
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::config::Config;
use crate::conn::{self, Conn};
use crate::shutdown::{self, Shutdown};
use recorder::GatewayHistograms;
use report::{Report, StreamLatency, StreamReport};
use scenario::{Login, Mix, Scenario, Stream};

/// Why a load run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A connection to the gateway failed.
    #[error("connecting to the gateway at {addr}: {source}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// What went wrong.
        source: io::Error,
    },
    /// The gateway refused or did not answer a bind.
    #[error("bind as {system_id} failed: {reason}")]
    Bind {
        /// The account.
        system_id: String,
        /// What the gateway said.
        reason: String,
    },
    /// The in-process gateway did not start.
    #[error("starting the gateway: {0}")]
    Gateway(io::Error),
}

impl Shared {
    fn new(streams: usize, start: Instant) -> Shared {
        Shared {
            pending: DashMap::new(),
            early_receipts: AtomicU64::new(0),
            unmatched: AtomicU64::new(0),
            counters: (0..streams).map(|_| Counters::default()).collect(),
            last_receipt: AtomicU64::new(0),
            start,
        }
    }

    /// Accepted messages whose receipt has not come yet (the two counts are read apart, so this may be off by one
    /// for a moment while binds match).
    fn awaiting_receipt(&self) -> usize {
        self.pending
            .len()
            .saturating_sub(self.early_receipts.load(Ordering::Relaxed) as usize)
    }

    /// Receipts that matched nothing: no id, a second receipt for an id, or a receipt whose resp never came.
    fn unmatched_receipts(&self) -> u64 {
        self.unmatched.load(Ordering::Relaxed) + self.early_receipts.load(Ordering::Relaxed)
    }

    /// A submit_sm_resp gave the gateway's `id` for a message of `stream` submitted at `sent`.
    fn resp_read(&self, latency: &mut [StreamLatency], id: u64, stream: u8, sent: Instant) {
        let early = match self.pending.entry(id) {
            Entry::Occupied(mut e) => match *e.get() {
                Pending::Resp { receipt_at } => {
                    e.remove();
                    self.early_receipts.fetch_sub(1, Ordering::Relaxed);
                    Some(receipt_at)
                }
                // The gateway gave one id twice: the later resp stands.
                Pending::Receipt { .. } => {
                    e.insert(Pending::Receipt { sent, stream });
                    None
                }
            },
            Entry::Vacant(v) => {
                v.insert(Pending::Receipt { sent, stream });
                None
            }
        };
        if let Some(receipt_at) = early {
            self.receipted(latency, stream, sent, receipt_at);
        }
    }

    /// A receipt for the gateway's `id` (`None`: it named none we can read) was read at `now`.
    fn receipt_read(&self, latency: &mut [StreamLatency], id: Option<u64>, now: Instant) {
        let Some(id) = id else {
            self.unmatched.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let matched = match self.pending.entry(id) {
            Entry::Occupied(e) => match *e.get() {
                Pending::Receipt { sent, stream } => {
                    e.remove();
                    Some((sent, stream))
                }
                // A second receipt before the resp: the first one waits, this one is extra.
                Pending::Resp { .. } => {
                    self.unmatched.fetch_add(1, Ordering::Relaxed);
                    None
                }
            },
            Entry::Vacant(v) => {
                v.insert(Pending::Resp { receipt_at: now });
                self.early_receipts.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        if let Some((sent, stream)) = matched {
            self.receipted(latency, stream, sent, now);
        }
    }

    /// Counts a receipt matched to its message: submitted at `sent`, receipt read at `at`.
    fn receipted(&self, latency: &mut [StreamLatency], stream: u8, sent: Instant, at: Instant) {
        latency[usize::from(stream)]
            .submit_to_receipt
            .record(at.saturating_duration_since(sent));
        self.counters[usize::from(stream)]
            .receipts
            .fetch_add(1, Ordering::Relaxed);
        let since_start = at.saturating_duration_since(self.start).as_nanos() as u64;
        self.last_receipt.fetch_max(since_start, Ordering::Relaxed);
    }
}

/// Counters one stream shares across its binds, read by the progress line.
#[derive(Debug, Default)]
struct Counters {
    submitted: AtomicU64,
    accepted: AtomicU64,
    throttled: AtomicU64,
    refused: AtomicU64,
    timed_out: AtomicU64,
    receipts: AtomicU64,
}

impl Counters {
    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    fn answered(&self) -> u64 {
        Self::get(&self.accepted)
            + Self::get(&self.throttled)
            + Self::get(&self.refused)
            + Self::get(&self.timed_out)
    }
}

/// One gateway id seen from one side only so far.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// Accepted (its submit_sm_resp read), waiting for its receipt: when it was submitted, and its stream.
    Receipt { sent: Instant, stream: u8 },
    /// Its receipt came first: it arrived on another bind of the account before this bind read the submit_sm_resp
    /// that names the id (seen on a slowed machine, under valgrind). Matched when that resp is read.
    Resp { receipt_at: Instant },
}

/// State every bind of a run shares: receipts for one stream's messages may arrive on any transceiver of the account.
#[derive(Debug)]
struct Shared {
    /// Ids waiting for their other half, by gateway id. One map for both orders, so matching a resp and a receipt that
    /// arrive at once on two binds happens under one shard lock.
    pending: DashMap<u64, Pending>,
    /// How many `pending` entries are receipts waiting for their resp.
    early_receipts: AtomicU64,
    /// Receipts that match nothing and never will: no id, or a second receipt for one id.
    unmatched: AtomicU64,
    counters: Vec<Counters>,
    /// Nanoseconds from the start to the last receipt.
    last_receipt: AtomicU64,
    start: Instant,
}

/// One stream's message templates.
struct Messages {
    service_type: COctetString<6>,
    priority_flag: PriorityFlag,
    source: Address<21>,
    gsm: Bytes,
    ucs2: Bytes,
    long: Vec<Bytes>,
    /// Cumulative weights of gsm, ucs2, long.
    cumulative: [f64; 3],
}

const GSM_TEXT: &str =
    "Your ACME verification code is 482913. It expires in 5 minutes. Do not share it.";
const UCS2_TEXT: &str = "Ваш код подтверждения ACME: 482913. Действует 5 минут.";

impl Messages {
    fn new(stream: &Stream) -> Messages {
        let long_text = "ACME spring sale: every order this week ships free and the first 500 customers get a voucher \
            for their next visit. Reply STOP to opt out of these messages. "
            .repeat(2);
        let long = split(
            &long_text,
            TextEncoding::Gsm7,
            ConcatMethod::Udh8 { reference: 0 },
        )
        .expect("the text is GSM 7-bit")
        .into_iter()
        .map(|s| s.payload)
        .collect::<Vec<_>>();
        let gsm = split(
            GSM_TEXT,
            TextEncoding::Gsm7,
            ConcatMethod::Udh8 { reference: 0 },
        )
        .expect("the text is GSM 7-bit")
        .remove(0)
        .payload;
        let Mix {
            gsm: g,
            ucs2: u,
            long: l,
        } = stream.mix;
        let total = g + u + l;
        Messages {
            service_type: COctetString::try_from(stream.service_type.as_str()).unwrap_or_default(),
            priority_flag: PriorityFlag(stream.priority_flag),
            source: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ACME").expect("fits"),
            gsm,
            ucs2: Bytes::from(smpp::encoding::ucs2::encode(UCS2_TEXT)),
            long,
            cumulative: [g / total, (g + u) / total, 1.0],
        }
    }

    fn submit(&self, dest: &Address<21>, coding: DataCoding, udh: bool, text: Bytes) -> SubmitSm {
        SubmitSm {
            service_type: self.service_type.clone(),
            source_addr: self.source.clone(),
            dest_addr: dest.clone(),
            esm_class: EsmClass::default().with_udh(udh),
            priority_flag: self.priority_flag,
            registered_delivery: RegisteredDelivery(0x01),
            data_coding: coding,
            short_message: OctetString::new(text).expect("a segment fits"),
            ..SubmitSm::default()
        }
    }

    /// The next message's submits: one, or every segment of a long message (`reference` distinguishes it).
    fn next(&self, dest: &Address<21>, reference: u8, out: &mut Vec<SubmitSm>) {
        let roll: f64 = rand::rng().random();
        if roll < self.cumulative[0] {
            out.push(self.submit(dest, DataCoding::default(), false, self.gsm.clone()));
        } else if roll < self.cumulative[1] {
            out.push(self.submit(dest, DataCoding::UCS2, false, self.ucs2.clone()));
        } else {
            // Each segment's UDH is 05 00 03 ref total seq (3GPP TS 23.040 §9.2.3.24.1); set its reference.
            for seg in self.long.iter().rev() {
                let mut b = BytesMut::with_capacity(seg.len());
                b.put_slice(seg);
                b[3] = reference;
                out.push(self.submit(dest, DataCoding::default(), true, b.freeze()));
            }
        }
    }
}

/// Destination numbers the binds cycle through (German mobile numbers).
fn destinations(n: usize) -> Vec<Address<21>> {
    (0..n)
        .map(|i| {
            Address::new(
                Ton::INTERNATIONAL,
                Npi::ISDN,
                &format!("49176{:08}", i * 7919 % 100_000_000),
            )
            .expect("13 digits fit")
        })
        .collect()
}

/// What one bind does.
struct BindPlan {
    addr: SocketAddr,
    login: Arc<Login>,
    stream: u8,
    /// Stamp submits with their send time ([`crate::probe`]).
    probe: bool,
    messages: Arc<Messages>,
    destinations: Arc<Vec<Address<21>>>,
    window: usize,
    /// Submits per second for this bind, or as fast as the window allows.
    rate: Option<f64>,
    /// Pause after a throttling answer.
    throttle_backoff: Duration,
    duration: Duration,
}

fn session_config(window: usize) -> smpp::session::Config {
    smpp::session::Config {
        role: Role::Esme,
        window,
        inbound_window: 10_000,
        response_timeout: Duration::from_secs(30),
        enquire_link_interval: Duration::from_secs(30),
        inactivity_timeout: None,
        bind_timeout: Duration::from_secs(10),
    }
}

/// Connects and binds a transceiver; returns once the bind completed.
async fn connect(plan: &BindPlan) -> Result<Conn<Option<Instant>>, LoadError> {
    let stream = TcpStream::connect(plan.addr)
        .await
        .map_err(|source| LoadError::Connect {
            addr: plan.addr,
            source,
        })?;
    let (now, _) = conn::now();
    let mut c = Conn::new(
        stream,
        Session::new(session_config(plan.window), now),
        smpp::DEFAULT_MAX_PDU_LEN,
    );
    let bind = Bind {
        system_id: COctetString::try_from(plan.login.system_id.as_str()).unwrap_or_default(),
        password: COctetString::try_from(plan.login.password.as_str()).unwrap_or_default(),
        system_type: COctetString::empty(),
        interface_version: 0x34,
        addr_ton: Ton::UNKNOWN,
        addr_npi: Npi::UNKNOWN,
        address_range: COctetString::empty(),
    };
    let fail = |reason: String| LoadError::Bind {
        system_id: plan.login.system_id.clone(),
        reason,
    };
    c.session
        .bind(BindType::Transceiver, bind, None, now)
        .map_err(|e| fail(e.to_string()))?;
    loop {
        c.flush().await.map_err(|e| fail(e.to_string()))?;
        let deadline = c.session.poll_timeout();
        tokio::select! {
            read = c.read() => match read {
                Ok(0) => return Err(fail("the gateway closed the connection".into())),
                Err(e) => return Err(fail(e.to_string())),
                Ok(_) => {
                    let (now, _) = conn::now();
                    c.process(now).await.map_err(|e| fail(e.to_string()))?;
                }
            },
            _ = conn::sleep_until(deadline) => {
                let (now, _) = conn::now();
                c.session.handle_timeout(now);
            }
        }
        while let Some(event) = c.session.poll_event() {
            match event {
                Event::Bound(_) => return Ok(c),
                Event::Response { pdu, .. } if !pdu.command_status.is_ok() => {
                    return Err(fail(pdu.command_status.to_string()))
                }
                Event::Timeout { .. } | Event::Unbound => return Err(fail("no answer".into())),
                _ => {}
            }
        }
    }
}

/// Submits for the plan's duration from `start`, answers receipts until `done`, unbinds; returns the latencies it saw,
/// per stream.
async fn drive(
    mut c: Conn<Option<Instant>>,
    plan: BindPlan,
    shared: Arc<Shared>,
    streams: usize,
    mut start: watch::Receiver<Option<Instant>>,
    mut done: Shutdown,
) -> Vec<StreamLatency> {
    let mut latency = vec![StreamLatency::default(); streams];
    let Ok(t0) = start
        .wait_for(Option::is_some)
        .await
        .map(|t| t.expect("waited for"))
    else {
        return latency;
    };
    let submit_until = t0 + plan.duration;
    let interval = plan.rate.map(|r| Duration::from_secs_f64(1.0 / r));
    let mut next_send = t0;
    let counters = &shared.counters[usize::from(plan.stream)];
    let mut batch: Vec<SubmitSm> = Vec::new();
    let mut dest_index = usize::from(plan.stream) * 7;
    let mut reference = 0u8;
    let mut unbinding = false;
    let mut held_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let submitting = !unbinding && now < submit_until;
        if held_until.is_some_and(|h| h <= now) {
            held_until = None;
        }
        if submitting && held_until.is_none() {
            if interval.is_some() {
                // Catch up after a stall, but by at most one second's worth.
                next_send = next_send.max(now.checked_sub(Duration::from_secs(1)).unwrap_or(now));
            }
            while c.session.window_available() > 0 {
                if let Some(iv) = interval {
                    if next_send > now {
                        break;
                    }
                    next_send += iv;
                }
                if batch.is_empty() {
                    dest_index = (dest_index + 1) % plan.destinations.len();
                    reference = reference.wrapping_add(1);
                    plan.messages
                        .next(&plan.destinations[dest_index], reference, &mut batch);
                }
                let mut sm = batch.pop().expect("filled above");
                if plan.probe {
                    let stamp = crate::probe::stamp(plan.stream, std::time::SystemTime::now());
                    sm.tlvs
                        .set(crate::probe::SENT_AT, stamp)
                        .expect("9 octets fit a TLV");
                }
                if c.session
                    .send_request(Body::SubmitSm(sm), Some(now), now)
                    .is_err()
                {
                    break;
                }
                counters.submitted.fetch_add(1, Ordering::Relaxed);
            }
        }
        if c.flush().await.is_err() || c.session.wants_close() {
            break;
        }
        let mut wake = c.session.poll_timeout();
        if let Some(h) = held_until.filter(|_| submitting) {
            wake = Some(wake.map_or(h, |w| w.min(h)));
        } else if submitting {
            let next = if interval.is_some() && c.session.window_available() > 0 {
                next_send.min(submit_until)
            } else {
                submit_until
            };
            wake = Some(wake.map_or(next, |w| w.min(next)));
        }
        tokio::select! {
            _ = done.wait(), if !unbinding => {
                unbinding = true;
                let (now, _) = conn::now();
                if c.session.unbind(now).is_err() {
                    break;
                }
            }
            read = c.read() => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let (now, _) = conn::now();
                    if c.process(now).await.is_err() {
                        break;
                    }
                }
            },
            _ = conn::sleep_until(wake) => {
                let (now, _) = conn::now();
                c.session.handle_timeout(now);
            }
        }
        let now = Instant::now();
        while let Some(event) = c.session.poll_event() {
            match event {
                Event::Response {
                    tag: Some(sent),
                    pdu,
                    ..
                } => match (pdu.command_status, pdu.body) {
                    (CommandStatus::ESME_ROK, Body::SubmitSmResp(resp)) => {
                        latency[usize::from(plan.stream)]
                            .submit_to_resp
                            .record(now.saturating_duration_since(sent));
                        let id = resp
                            .message_id
                            .as_ref()
                            .and_then(|id| std::str::from_utf8(id.as_bytes()).ok())
                            .and_then(|id| u64::from_str_radix(id, 16).ok());
                        if let Some(id) = id {
                            shared.resp_read(&mut latency, id, plan.stream, sent);
                        }
                        counters.accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    (CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL, _) => {
                        counters.throttled.fetch_add(1, Ordering::Relaxed);
                        if !plan.throttle_backoff.is_zero() {
                            held_until = Some(now + plan.throttle_backoff);
                        }
                    }
                    _ => {
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                    }
                },
                Event::Timeout { tag: Some(_), .. } => {
                    counters.timed_out.fetch_add(1, Ordering::Relaxed);
                }
                Event::Request(pdu) => {
                    let seq = pdu.sequence_number;
                    let (status, resp) = match pdu.body {
                        Body::DeliverSm(d) => {
                            let id = d
                                .tlvs
                                .receipted_message_id()
                                .and_then(|id| std::str::from_utf8(id).ok())
                                .and_then(|id| u64::from_str_radix(id, 16).ok());
                            shared.receipt_read(&mut latency, id, now);
                            (
                                CommandStatus::ESME_ROK,
                                Body::DeliverSmResp(SubmitSmResp::new(COctetString::empty())),
                            )
                        }
                        other => (
                            CommandStatus::ESME_RINVCMDID,
                            Body::error_response_to(other.command_id())
                                .unwrap_or(Body::GenericNack),
                        ),
                    };
                    let _ = c.session.send_response(seq, status, resp, now);
                }
                _ => {}
            }
        }
    }
    c.close().await;
    latency
}

/// Runs a scenario against a gateway at `addr`. `classes` names each stream's class (when the gateway config is
/// known); `gateway` adds the in-process gateway's histograms and a progress hook.
pub async fn run(
    scenario: &Scenario,
    name: &str,
    addr: SocketAddr,
    classes: Vec<Option<&'static str>>,
    histograms: Option<&GatewayHistograms>,
    progress: Option<&(dyn Fn() -> String + Sync)>,
) -> Result<Report, LoadError> {
    let streams = scenario.streams.len();
    let login = Arc::new(Login {
        system_id: scenario.login.system_id.clone(),
        password: scenario.login.password.clone(),
    });
    let destinations = Arc::new(destinations(10_000));
    let (start_tx, start_rx) = watch::channel(None);
    let (done_trigger, done) = shutdown::channel();
    let mut plans = Vec::new();
    for (i, s) in scenario.streams.iter().enumerate() {
        let messages = Arc::new(Messages::new(s));
        for _ in 0..s.sessions {
            plans.push(BindPlan {
                addr,
                login: login.clone(),
                stream: i as u8,
                probe: s.probe,
                messages: messages.clone(),
                destinations: destinations.clone(),
                window: s.window,
                rate: s.rate.map(|r| r / s.sessions as f64),
                throttle_backoff: scenario.throttle_backoff,
                duration: scenario.duration,
            });
        }
    }
    // Bind everything first, so the clock starts with every bind ready.
    let mut conns = Vec::new();
    for plan in &plans {
        conns.push(connect(plan).await?);
    }
    let start = Instant::now();
    let shared = Arc::new(Shared::new(streams, start));
    let mut tasks = tokio::task::JoinSet::new();
    for (c, plan) in conns.into_iter().zip(plans) {
        tasks.spawn(drive(
            c,
            plan,
            shared.clone(),
            streams,
            start_rx.clone(),
            done.clone(),
        ));
    }
    let _ = start_tx.send(Some(start));

    // Progress each second while submitting, then drain until every accepted message has its receipt.
    let submit_until = start + scenario.duration;
    let drain_until = submit_until + scenario.drain;
    let mut tick = tokio::time::interval_at(
        (start + Duration::from_secs(1)).into(),
        Duration::from_secs(1),
    );
    let (mut last_accepted, mut last_receipts) = (0u64, 0u64);
    let drained = AtomicBool::new(false);
    loop {
        tick.tick().await;
        let now = Instant::now();
        let sum = |f: fn(&Counters) -> u64| shared.counters.iter().map(f).sum::<u64>();
        let accepted = sum(|c| Counters::get(&c.accepted));
        let receipts = sum(|c| Counters::get(&c.receipts));
        let submitted = sum(|c| Counters::get(&c.submitted));
        let answered = sum(Counters::answered);
        let extra = progress.map(|p| p()).unwrap_or_default();
        eprintln!(
            "[{:>4}s] accepted {:>7}/s  receipts {:>7}/s  submitted {submitted}  awaiting resp {}  awaiting receipt {}{}{extra}",
            now.duration_since(start).as_secs(),
            accepted - last_accepted,
            receipts - last_receipts,
            submitted - answered,
            shared.awaiting_receipt(),
            if extra.is_empty() { "" } else { "  " },
        );
        (last_accepted, last_receipts) = (accepted, receipts);
        if now >= submit_until && submitted == answered && shared.awaiting_receipt() == 0 {
            drained.store(true, Ordering::Relaxed);
            break;
        }
        if now >= drain_until {
            break;
        }
    }
    let end = Instant::now();
    done_trigger.trigger();
    let mut latency = vec![StreamLatency::default(); streams];
    while let Some(Ok(l)) = tasks.join_next().await {
        for (into, from) in latency.iter_mut().zip(&l) {
            into.merge(from);
        }
    }
    let last_receipt = Duration::from_nanos(shared.last_receipt.load(Ordering::Relaxed));
    let total = if drained.load(Ordering::Relaxed) && !last_receipt.is_zero() {
        last_receipt.max(scenario.duration)
    } else {
        end.duration_since(start)
    };
    let reports = scenario
        .streams
        .iter()
        .zip(latency)
        .zip(classes)
        .enumerate()
        .map(|(i, ((s, latency), class))| {
            let c = &shared.counters[i];
            StreamReport {
                name: s.name.clone(),
                class,
                submitted: Counters::get(&c.submitted),
                accepted: Counters::get(&c.accepted),
                throttled: Counters::get(&c.throttled),
                refused: Counters::get(&c.refused),
                timed_out: Counters::get(&c.timed_out),
                receipts: Counters::get(&c.receipts),
                latency,
            }
        })
        .collect();
    Ok(Report {
        scenario: name.to_string(),
        submit_window: scenario.duration,
        total,
        streams: reports,
        // Counted once every bind has stopped: an early receipt still waiting now never got its resp.
        unmatched_receipts: shared.unmatched_receipts(),
        gateway: histograms
            .map(GatewayHistograms::snapshot)
            .unwrap_or_default(),
        notes: Vec::new(),
    })
}

/// Starts a fresh gateway and simulator from `config` (with the scenario's overrides, on free ports) in this process,
/// runs the scenario against it, and adds the gateway's histograms, the simulator's counters and the process's memory.
pub async fn run_in_process(
    scenario: &Scenario,
    name: &str,
    mut config: Config,
    histograms: Option<GatewayHistograms>,
) -> Result<Report, LoadError> {
    scenario
        .gateway
        .apply(&mut config, &scenario.login.system_id);
    let classes = scenario
        .streams
        .iter()
        .map(|s| scenario::class_of(s, &config, &scenario.login.system_id).map(|c| c.as_str()))
        .collect();
    let cpu_before = cpu_seconds();
    let running = crate::app::start(&config)
        .await
        .map_err(LoadError::Gateway)?;
    let gw = running.gateway.clone();
    let sim = running.simulator.clone();
    let progress = move || {
        let queued: usize = gw.carriers().map(|(_, c)| c.queue.len()).sum();
        let mut s = format!(
            "queued {queued}  rss {} MiB",
            vm_kib("VmRSS").unwrap_or(0) / 1024
        );
        if let Some(sim) = &sim {
            s += &format!(
                "  carrier disconnects {}",
                sim.stats.disconnects.load(Ordering::Relaxed)
            );
        }
        s
    };
    let result = run(
        scenario,
        name,
        running.smpp_addr,
        classes,
        histograms.as_ref(),
        Some(&progress),
    )
    .await;
    let mut report = match result {
        Ok(r) => r,
        Err(e) => {
            running.shutdown(Duration::from_secs(5)).await;
            return Err(e);
        }
    };
    let gw = &running.gateway;
    let queued: usize = gw.carriers().map(|(_, c)| c.queue.len()).sum();
    report
        .notes
        .push(("gateway_queued_at_end".into(), queued.into()));
    if let Some(sim) = &running.simulator {
        let st = &sim.stats;
        for (stream, arrivals) in report.streams.iter_mut().zip(st.arrivals()) {
            stream.latency.submit_to_carrier.merge(&arrivals);
        }
        for (k, v) in [
            ("simulator_accepted", &st.accepted),
            ("simulator_refused", &st.refused),
            ("simulator_receipts", &st.receipts),
            ("simulator_disconnects", &st.disconnects),
        ] {
            report
                .notes
                .push((k.into(), v.load(Ordering::Relaxed).into()));
        }
    }
    // CPU time is steadier than throughput on a shared machine: other builders take wall time, not our CPU time.
    if let (Some(before), Some(after)) = (cpu_before, cpu_seconds()) {
        let cpu = after - before;
        let receipts: u64 = report.streams.iter().map(|s| s.receipts).sum();
        report.notes.push((
            "process_cpu_s".into(),
            ((cpu * 100.0).round() / 100.0).into(),
        ));
        if receipts > 0 {
            let per = cpu * 1e6 / receipts as f64;
            report.notes.push((
                "process_cpu_us_per_receipted_message".into(),
                ((per * 100.0).round() / 100.0).into(),
            ));
        }
    }
    for (field, note) in [
        ("VmRSS", "process_rss_mib"),
        ("VmHWM", "process_peak_rss_mib"),
    ] {
        if let Some(kib) = vm_kib(field) {
            report
                .notes
                .push((note.into(), (kib as f64 / 1024.0).round().into()));
        }
    }
    running.shutdown(Duration::from_secs(10)).await;
    Ok(report)
}

/// User plus system CPU seconds this process has used (Linux only; /proc/self/stat counts in clock ticks, 100 a second).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split(' ').skip(11);
    let utime: f64 = f.next()?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A `Vm*` line of /proc/self/status in KiB (Linux only).
pub fn vm_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{Shared, StreamLatency};

    fn receipts(shared: &Shared) -> u64 {
        shared.counters[0]
            .receipts
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn a_receipt_is_matched_whichever_of_it_and_the_resp_is_read_first() {
        let t0 = Instant::now();
        let shared = Shared::new(1, t0);
        let mut latency = vec![StreamLatency::default(); 1];
        // In order: the resp, then the receipt.
        shared.resp_read(&mut latency, 1, 0, t0);
        assert_eq!(shared.awaiting_receipt(), 1);
        shared.receipt_read(&mut latency, Some(1), t0 + Duration::from_millis(100));
        // The receipt first, read on another bind before this one read the resp naming its id.
        shared.receipt_read(&mut latency, Some(2), t0 + Duration::from_millis(50));
        assert_eq!(
            shared.awaiting_receipt(),
            0,
            "an early receipt awaits its resp, not a receipt"
        );
        assert_eq!(shared.unmatched_receipts(), 1, "until its resp comes");
        shared.resp_read(&mut latency, 2, 0, t0 + Duration::from_millis(10));
        assert_eq!(receipts(&shared), 2);
        assert_eq!(shared.unmatched_receipts(), 0);
        assert_eq!(shared.pending.len(), 0);
        // 100 ms for the first; 40 ms for the second (resp sent at 10 ms, receipt read at 50 ms).
        let l = latency[0].submit_to_receipt.to_json();
        assert_eq!(l["count"], 2);
        assert!((l["p50_ms"].as_f64().unwrap() - 40.0).abs() < 0.1, "{l}");
        assert!((l["max_ms"].as_f64().unwrap() - 100.0).abs() < 0.1, "{l}");
    }

    #[test]
    fn receipts_without_an_id_or_twice_for_one_id_are_unmatched() {
        let t0 = Instant::now();
        let shared = Shared::new(1, t0);
        let mut latency = vec![StreamLatency::default(); 1];
        shared.receipt_read(&mut latency, None, t0);
        shared.receipt_read(&mut latency, Some(7), t0);
        shared.receipt_read(&mut latency, Some(7), t0);
        assert_eq!(shared.unmatched_receipts(), 3);
        shared.resp_read(&mut latency, 7, 0, t0);
        assert_eq!(receipts(&shared), 1);
        assert_eq!(shared.unmatched_receipts(), 2);
        shared.receipt_read(&mut latency, Some(7), t0);
        assert_eq!(
            shared.unmatched_receipts(),
            3,
            "a third receipt after the match waits for a resp that never comes"
        );
        assert_eq!(shared.awaiting_receipt(), 0);
    }
}
