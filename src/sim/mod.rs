//! A built-in SMSC simulator: accepts binds, answers `submit_sm` with its own ids, and sends receipts after a delay with
//! a configurable mix of outcomes, a throughput cap, rejects and disconnects. It lets Sluice run end to end with no
//! carrier account, and it is the carrier in the test suite and the load benchmarks.
//!
//! Receipts are kept per `system_id`, not per connection, as an SMSC stores them: when a link drops, the receipts due on
//! it (and those sent but not acknowledged) go out on the next receiver or transceiver bind of that `system_id`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use rand::Rng;
use smpp::pdu::{Body, DeliverSm, SubmitSm, SubmitSmResp};
use smpp::session::{Event, Session};
use smpp::tlv::Tlvs;
use smpp::types::{COctetString, EsmClass, OctetString};
use smpp::CommandStatus;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::config::SimBehaviour;
use crate::conn::{self, Conn};
use crate::load::report::Latency;
use crate::probe;
use crate::routing::throttle::Throttle;
use crate::shutdown::Shutdown;

/// Counters shared by the simulator's connections.
#[derive(Debug, Default)]
pub struct SimStats {
    next_id: AtomicU64,
    /// submit_sm accepted.
    pub accepted: AtomicU64,
    /// submit_sm refused (throttled or rejected).
    pub refused: AtomicU64,
    /// Receipts sent (a receipt sent again after a dropped link counts again).
    pub receipts: AtomicU64,
    /// Connections dropped on purpose.
    pub disconnects: AtomicU64,
    /// Per load stream: submit (its [`probe`] stamp) → read here, for submits that carry a stamp.
    arrivals: Mutex<Vec<Latency>>,
}

impl SimStats {
    fn record_arrival(&self, stream: u8, micros: u64) {
        let mut a = self.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        let i = usize::from(stream);
        if a.len() <= i {
            a.resize_with(i + 1, Latency::default);
        }
        a[i].record_micros(micros);
    }

    /// Submit → read by the simulator, per load stream index, from the stamps seen so far.
    pub fn arrivals(&self) -> Vec<Latency> {
        self.arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Most receipts kept for one `system_id` (one that binds as a transmitter only would otherwise pile them up); more
/// are not generated.
const MAX_PENDING_RECEIPTS: usize = 1_000_000;

/// Receipts not yet acknowledged, per bound `system_id`, in due order (the delay is the same for every message).
type Pending = HashMap<String, VecDeque<(Instant, DeliverSm)>>;

/// The simulator.
#[derive(Debug)]
pub struct Simulator {
    behaviour: SimBehaviour,
    throttle: Option<Throttle>,
    pending: Mutex<Pending>,
    /// Woken when receipts are queued or handed back by a closed connection.
    receipts_queued: Notify,
    /// Its counters.
    pub stats: SimStats,
}

impl Simulator {
    /// A simulator that behaves as configured.
    pub fn new(behaviour: SimBehaviour) -> Arc<Simulator> {
        let throttle = behaviour
            .max_rate
            .map(|r| Throttle::new(f64::from(r), (r / 10).max(1)));
        Arc::new(Simulator {
            behaviour,
            throttle,
            pending: Mutex::new(HashMap::new()),
            receipts_queued: Notify::new(),
            stats: SimStats::default(),
        })
    }

    /// Accepts connections until shutdown.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, mut shutdown: Shutdown) {
        let mut tasks = JoinSet::new();
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tasks.spawn(self.clone().connection(stream, shutdown.clone()));
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn connection(self: Arc<Self>, stream: TcpStream, mut shutdown: Shutdown) {
        let (now, _) = conn::now();
        let config = smpp::session::Config {
            window: 100,
            inbound_window: 10_000,
            ..smpp::session::Config::smsc()
        };
        // Each receipt in flight is the request's tag, so a dropped link hands it back.
        let mut conn: Conn<DeliverSm> =
            Conn::new(stream, Session::new(config, now), smpp::DEFAULT_MAX_PDU_LEN);
        // The bound system_id, and whether this bind may receive receipts.
        let mut bound: Option<(String, bool)> = None;
        let mut submits = 0u64;
        'conn: loop {
            let receipts_queued = self.receipts_queued.notified();
            tokio::pin!(receipts_queued);
            receipts_queued.as_mut().enable();
            let (now, _) = conn::now();
            let receiver = bound
                .as_ref()
                .filter(|(_, rx)| *rx)
                .map(|(id, _)| id.as_str());
            let next_receipt = receiver.and_then(|id| self.send_due(id, &mut conn.session, now));
            if conn.flush().await.is_err() || conn.session.wants_close() {
                break;
            }
            let wake = match (conn.session.poll_timeout(), next_receipt) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = receipts_queued, if receiver.is_some() => {}
                read = conn.read() => match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let (now, _) = conn::now();
                        if conn.process(now).await.is_err() {
                            break;
                        }
                    }
                },
                _ = conn::sleep_until(wake) => {
                    let (now, _) = conn::now();
                    conn.session.handle_timeout(now);
                }
            }
            let (now, now_unix) = conn::now();
            let mut queued = false;
            while let Some(event) = conn.session.poll_event() {
                match event {
                    Event::BindRequest {
                        sequence_number,
                        bind,
                        bind_type,
                    } => {
                        let b = &self.behaviour;
                        let ok = b.system_id.as_deref().is_none_or(|s| bind.system_id == s)
                            && b.password.as_deref().is_none_or(|p| bind.password == p);
                        if ok {
                            conn.session.accept_bind(
                                sequence_number,
                                COctetString::try_from("SLUICESIM").expect("fits"),
                                now,
                            );
                            bound = Some((
                                bind.system_id.to_str_lossy().into_owned(),
                                bind_type.can_receive_deliver(),
                            ));
                        } else {
                            conn.session.reject_bind(
                                sequence_number,
                                CommandStatus::ESME_RBINDFAIL,
                                now,
                            );
                        }
                    }
                    Event::Request(pdu) => {
                        let seq = pdu.sequence_number;
                        let Body::SubmitSm(sm) = pdu.body else {
                            let resp = Body::error_response_to(pdu.command_id())
                                .unwrap_or(Body::GenericNack);
                            let _ = conn.session.send_response(
                                seq,
                                CommandStatus::ESME_RINVCMDID,
                                resp,
                                now,
                            );
                            continue;
                        };
                        submits += 1;
                        if let Some((stream, us)) = probe::elapsed_micros(&sm.tlvs, SystemTime::now)
                        {
                            self.stats.record_arrival(stream, us);
                        }
                        if self
                            .behaviour
                            .disconnect_every
                            .is_some_and(|n| n > 0 && submits % n == 0)
                        {
                            // Drop the link with this submit unanswered, as a failing carrier does.
                            self.stats.disconnects.fetch_add(1, Ordering::Relaxed);
                            break 'conn;
                        }
                        match self.answer(&sm, now, now_unix) {
                            Ok((id, receipt)) => {
                                let _ = conn.session.send_response(
                                    seq,
                                    CommandStatus::ESME_ROK,
                                    Body::SubmitSmResp(SubmitSmResp::new(id)),
                                    now,
                                );
                                if let (Some(r), Some((id, _))) = (receipt, &bound) {
                                    let mut pending = self.lock_pending();
                                    if !pending.contains_key(id) {
                                        pending.insert(id.clone(), VecDeque::new());
                                    }
                                    let due = pending.get_mut(id).expect("inserted above");
                                    if due.len() < MAX_PENDING_RECEIPTS {
                                        // Binds waiting on a receipt already due sooner need no wake: only the
                                        // first receipt of an empty queue changes when they must look next.
                                        queued |= due.is_empty();
                                        due.push_back((now + self.behaviour.receipt_delay, r));
                                    }
                                }
                            }
                            Err(status) => {
                                let _ = conn.session.send_response(
                                    seq,
                                    status,
                                    Body::SubmitSmResp(SubmitSmResp::empty()),
                                    now,
                                );
                            }
                        }
                    }
                    Event::Timeout { tag, .. } => {
                        // Unanswered: try again (a refused receipt is dropped; resending it would only be refused).
                        if let Some((id, _)) = &bound {
                            self.hand_back(id, vec![tag], now);
                            queued = true;
                        }
                    }
                    Event::Response { .. } | Event::Bound(_) | Event::Unbound => {}
                }
            }
            if queued {
                // Another bind of the same system_id may be the one that receives.
                self.receipts_queued.notify_waiters();
            }
        }
        conn.close().await;
        let unacknowledged = conn.session.handle_close();
        if let Some((id, _)) = &bound {
            let (now, _) = conn::now();
            self.hand_back(id, unacknowledged, now);
            self.receipts_queued.notify_waiters();
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `system_id`'s due receipts while the window has room; returns when the next one is due.
    fn send_due(
        &self,
        system_id: &str,
        session: &mut Session<DeliverSm>,
        now: Instant,
    ) -> Option<Instant> {
        let mut pending = self.lock_pending();
        let due = pending.get_mut(system_id)?;
        while session.window_available() > 0 && due.front().is_some_and(|(at, _)| *at <= now) {
            let (at, receipt) = due.pop_front().expect("checked");
            let body = Body::DeliverSm(receipt.clone());
            if session.send_request(body, receipt.clone(), now).is_err() {
                due.push_front((at, receipt));
                break;
            }
            self.stats.receipts.fetch_add(1, Ordering::Relaxed);
        }
        due.front()
            .map(|(at, _)| *at)
            .filter(|_| session.window_available() > 0)
    }

    /// Puts receipts that were sent but not acknowledged back at the head of `system_id`'s queue, due now.
    fn hand_back(&self, system_id: &str, receipts: Vec<DeliverSm>, now: Instant) {
        if receipts.is_empty() {
            return;
        }
        let mut pending = self.lock_pending();
        let due = pending.entry(system_id.to_string()).or_default();
        for r in receipts.into_iter().rev() {
            due.push_front((now, r));
        }
    }

    /// Decides a submit's fate: an id and maybe a receipt, or a refusal.
    fn answer(
        &self,
        sm: &SubmitSm,
        now: Instant,
        now_unix: i64,
    ) -> Result<(COctetString<65>, Option<DeliverSm>), CommandStatus> {
        let _ = now;
        if self
            .throttle
            .as_ref()
            .is_some_and(|t| t.try_acquire().is_err())
        {
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
            return Err(CommandStatus::ESME_RTHROTTLED);
        }
        let mut rng = rand::rng();
        let b = &self.behaviour;
        if b.reject > 0.0 && rng.random::<f64>() < b.reject {
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
            return Err(CommandStatus::ESME_RSUBMITFAIL);
        }
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let n = self.stats.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("{n:X}");
        if !sm.registered_delivery.wants_receipt(true)
            && !sm.registered_delivery.wants_receipt(false)
        {
            return Ok((COctetString::try_from(id.as_str()).expect("hex fits"), None));
        }
        let roll: f64 = rng.random();
        let (stat, state, err, dlvrd) = if roll < b.undeliverable {
            ("UNDELIV", 5, "001", "000")
        } else if roll < b.undeliverable + b.expired {
            ("EXPIRED", 3, "000", "000")
        } else {
            ("DELIVRD", 2, "000", "001")
        };
        let delivered = state == 2;
        if !sm.registered_delivery.wants_receipt(delivered) {
            return Ok((COctetString::try_from(id.as_str()).expect("hex fits"), None));
        }
        let date = smpp::time::format_receipt_date(now_unix);
        let date = std::str::from_utf8(&date).unwrap_or("0000000000");
        let text = format!("id:{id} sub:001 dlvrd:{dlvrd} submit date:{date} done date:{date} stat:{stat} err:{err} text:");
        let mut tlvs = Tlvs::new();
        let _ = tlvs.set_receipted_message_id(id.as_bytes());
        tlvs.set_message_state(state);
        let receipt = DeliverSm {
            source_addr: sm.dest_addr.clone(),
            dest_addr: sm.source_addr.clone(),
            esm_class: EsmClass::DELIVERY_RECEIPT,
            short_message: OctetString::new(Bytes::from(text)).unwrap_or_default(),
            tlvs,
            ..DeliverSm::default()
        };
        Ok((
            COctetString::try_from(id.as_str()).expect("hex fits"),
            Some(receipt),
        ))
    }
}
