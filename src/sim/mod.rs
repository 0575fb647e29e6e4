//! A built-in SMSC simulator: accepts binds, answers `submit_sm` with its own ids, and sends receipts after a delay with
//! a configurable mix of outcomes, a throughput cap, rejects and disconnects. It lets Sluice run end to end with no
//! carrier account, and it is the carrier in the test suite and the load benchmarks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use rand::Rng;
use smpp::pdu::{Body, DeliverSm, SubmitSm, SubmitSmResp};
use smpp::session::{Event, Session};
use smpp::tlv::Tlvs;
use smpp::types::{COctetString, EsmClass, OctetString};
use smpp::CommandStatus;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::config::SimBehaviour;
use crate::conn::{self, Conn};
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
    /// Receipts sent.
    pub receipts: AtomicU64,
    /// Connections dropped on purpose.
    pub disconnects: AtomicU64,
}

/// The simulator.
#[derive(Debug)]
pub struct Simulator {
    behaviour: SimBehaviour,
    throttle: Option<Throttle>,
    /// Receipts due on connections that closed, kept for the next bound connection as an SMSC stores them.
    orphans: Mutex<VecDeque<(Instant, DeliverSm)>>,
    orphan_count: AtomicUsize,
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
            orphans: Mutex::new(VecDeque::new()),
            orphan_count: AtomicUsize::new(0),
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
        let mut conn: Conn<()> =
            Conn::new(stream, Session::new(config, now), smpp::DEFAULT_MAX_PDU_LEN);
        // Receipts due, in due order: the delay is the same for every message.
        let mut due: VecDeque<(Instant, DeliverSm)> = VecDeque::new();
        let mut submits = 0u64;
        let mut bound = false;
        'conn: loop {
            let (now, _) = conn::now();
            if bound && self.orphan_count.load(Ordering::Relaxed) > 0 {
                // Receipts a closed connection owed: older than ours, so they go first.
                let mut orphans = std::mem::take(&mut *self.lock_orphans());
                self.orphan_count.store(0, Ordering::Relaxed);
                orphans.extend(due.drain(..));
                due = orphans;
            }
            while conn.session.window_available() > 0
                && due.front().is_some_and(|(at, _)| *at <= now)
            {
                let (_, receipt) = due.pop_front().expect("checked");
                if conn
                    .session
                    .send_request(Body::DeliverSm(receipt), (), now)
                    .is_ok()
                {
                    self.stats.receipts.fetch_add(1, Ordering::Relaxed);
                }
            }
            if conn.flush().await.is_err() || conn.session.wants_close() {
                break;
            }
            let next_receipt = due
                .front()
                .map(|(at, _)| *at)
                .filter(|_| conn.session.window_available() > 0);
            let wake = match (conn.session.poll_timeout(), next_receipt) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tokio::select! {
                _ = shutdown.wait() => break,
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
            while let Some(event) = conn.session.poll_event() {
                match event {
                    Event::BindRequest {
                        sequence_number,
                        bind,
                        ..
                    } => {
                        let b = &self.behaviour;
                        let ok = b.system_id.as_deref().is_none_or(|s| bind.system_id == s)
                            && b.password.as_deref().is_none_or(|p| bind.password == p);
                        if ok {
                            bound = true;
                            conn.session.accept_bind(
                                sequence_number,
                                COctetString::try_from("SLUICESIM").expect("fits"),
                                now,
                            );
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
                                if let Some(r) = receipt {
                                    due.push_back((now + self.behaviour.receipt_delay, r));
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
                    Event::Response { .. }
                    | Event::Timeout { .. }
                    | Event::Bound(_)
                    | Event::Unbound => {}
                }
            }
        }
        conn.close().await;
        // Receipts sent but unanswered are lost with the link, as with a real SMSC; those not yet sent are kept.
        if !due.is_empty() {
            let mut orphans = self.lock_orphans();
            self.orphan_count.fetch_add(due.len(), Ordering::Relaxed);
            orphans.extend(due);
        }
    }

    fn lock_orphans(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, DeliverSm)>> {
        // Every change leaves the deque consistent, so a poisoned lock is still usable.
        self.orphans.lock().unwrap_or_else(|e| e.into_inner())
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
