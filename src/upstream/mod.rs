//! The carrier-facing side, where Sluice is the ESME: per carrier, a number of sessions that connect, bind, and send
//! from the carrier's priority queue within their window and rate; record the carrier's ids; take receipts and MO; and
//! on any failure put what was in flight back at the head of the queue.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use smpp::pdu::{Bind, Body, SubmitSmResp};
use smpp::session::{BindType, Event, Session};
use smpp::types::{COctetString, Npi, Ton};
use smpp::CommandStatus;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::config::{BindTypeName, CarrierConfig};
use crate::conn::{self, Conn};
use crate::gateway::outbox::Outgoing;
use crate::gateway::Gateway;
use crate::message::CarrierId;
use crate::metrics as m;
use crate::routing::throttle::Throttle;
use crate::shutdown::Shutdown;

/// How to reach and use one carrier.
#[derive(Debug)]
pub struct CarrierSettings {
    /// Its id.
    pub id: CarrierId,
    /// Its name.
    pub name: String,
    /// Where its SMSC listens.
    pub addr: SocketAddr,
    /// The bind we send.
    pub bind: Bind,
    /// The bind type.
    pub bind_type: BindType,
    /// Sessions to keep bound.
    pub sessions: usize,
    /// The first `otp_sessions` sessions send only OTPs.
    pub otp_sessions: usize,
    /// Session timers and window.
    pub session: smpp::session::Config,
    /// Rate across sessions.
    pub rate: Option<Throttle>,
    /// Rate per session, messages per second.
    pub session_rate: Option<f64>,
    /// Reconnect backoff bounds.
    pub reconnect: (Duration, Duration),
    /// Hold-off after ESME_RTHROTTLED.
    pub throttle_backoff: Duration,
    /// Largest PDU accepted.
    pub max_pdu_len: usize,
}

impl CarrierSettings {
    /// Settings from a `[[carrier]]` entry; `addr` is resolved by the caller (the simulator's, for simulated carriers).
    pub fn from_config(id: CarrierId, c: &CarrierConfig, addr: SocketAddr) -> Self {
        let bind_type = match c.bind_type {
            BindTypeName::Transmitter => BindType::Transmitter,
            BindTypeName::Receiver => BindType::Receiver,
            BindTypeName::Transceiver => BindType::Transceiver,
        };
        let bind = Bind {
            system_id: COctetString::try_from(c.system_id.as_str()).unwrap_or_default(),
            password: COctetString::try_from(c.password.as_str()).unwrap_or_default(),
            system_type: COctetString::try_from(c.system_type.as_str()).unwrap_or_default(),
            interface_version: 0x34,
            addr_ton: Ton::UNKNOWN,
            addr_npi: Npi::UNKNOWN,
            address_range: COctetString::empty(),
        };
        CarrierSettings {
            id,
            name: c.name.get_ref().clone(),
            addr,
            bind,
            bind_type,
            sessions: c.sessions,
            otp_sessions: c.otp_sessions,
            session: smpp::session::Config {
                role: smpp::session::Role::Esme,
                window: c.window,
                inbound_window: 1000,
                response_timeout: c.response_timeout,
                enquire_link_interval: c.enquire_link_interval,
                inactivity_timeout: None,
                bind_timeout: c.response_timeout,
            },
            rate: c
                .rate
                .map(|r| Throttle::new(r, (r / 10.0).ceil().max(1.0) as u32)),
            session_rate: c.session_rate,
            reconnect: (c.reconnect_min, c.reconnect_max),
            throttle_backoff: c.throttle_backoff,
            max_pdu_len: smpp::DEFAULT_MAX_PDU_LEN,
        }
    }
}

/// Runs a carrier's sessions until shutdown.
pub async fn run(gw: Arc<Gateway>, settings: Arc<CarrierSettings>, shutdown: Shutdown) {
    let mut tasks = JoinSet::new();
    for index in 0..settings.sessions {
        tasks.spawn(keep_bound(
            gw.clone(),
            settings.clone(),
            index,
            shutdown.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
}

/// Connects and binds, again and again, with exponential backoff and jitter between failures.
async fn keep_bound(
    gw: Arc<Gateway>,
    settings: Arc<CarrierSettings>,
    index: usize,
    mut shutdown: Shutdown,
) {
    let (min, max) = settings.reconnect;
    let mut backoff = min;
    while !shutdown.is_triggered() {
        let connected = tokio::select! {
            _ = shutdown.wait() => break,
            r = tokio::time::timeout(settings.session.response_timeout, TcpStream::connect(settings.addr)) => r,
        };
        match connected {
            // Connecting to a port nobody listens on, in the ephemeral range, can pick that very port as the source:
            // TCP's simultaneous open then connects the socket to itself (it would bind to itself, and hold the port
            // the carrier needs). Treat it as a refused connection.
            Ok(Ok(stream)) if stream.local_addr().ok() == stream.peer_addr().ok() => {
                tracing::warn!(carrier = %settings.name, index, "connected to itself (nothing listens); retrying")
            }
            Ok(Ok(stream)) => {
                let was_bound = session(&gw, &settings, index, stream, shutdown.clone()).await;
                if was_bound {
                    backoff = min;
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(carrier = %settings.name, index, error = %e, "connect failed")
            }
            Err(_) => tracing::warn!(carrier = %settings.name, index, "connect timed out"),
        }
        if shutdown.is_triggered() {
            break;
        }
        let jitter = rand::rng().random_range(0.5..1.0);
        let delay = backoff.mul_f64(jitter);
        tokio::select! {
            _ = shutdown.wait() => break,
            _ = tokio::time::sleep(delay) => {}
        }
        backoff = (backoff * 2).min(max);
    }
}

/// One bound session; returns whether it got bound.
async fn session(
    gw: &Gateway,
    settings: &CarrierSettings,
    index: usize,
    stream: TcpStream,
    mut shutdown: Shutdown,
) -> bool {
    let (now, _) = conn::now();
    let mut conn: Conn<Option<Outgoing>> = Conn::new(
        stream,
        Session::new(settings.session.clone(), now),
        settings.max_pdu_len,
    );
    let queue = &gw.carrier(settings.id).queue;
    let session_rate = settings
        .session_rate
        .map(|r| Throttle::new(r, (r / 10.0).ceil().max(1.0) as u32));
    if conn
        .session
        .bind(settings.bind_type, settings.bind.clone(), None, now)
        .is_err()
    {
        return false;
    }
    let mut bound = false;
    let mut unbinding = false;
    let mut paused_until: Option<Instant> = None;
    // One handle for the session's life: setting it is then a store, not a registry lookup per loop.
    let window_in_use = metrics::gauge!(m::CARRIER_WINDOW_IN_USE, "carrier" => settings.name.clone(), "session" => index.to_string());
    let mut expired = Vec::new();
    let otp_only = index < settings.otp_sessions;
    loop {
        if conn.flush().await.is_err() || conn.session.wants_close() {
            break;
        }
        let (now, now_unix) = conn::now();
        if paused_until.is_some_and(|p| p <= now) {
            paused_until = None;
        }
        let can_send = bound
            && !unbinding
            && paused_until.is_none()
            && conn.session.window_available() > 0
            && settings.bind_type.can_send_submit();
        if can_send {
            paused_until = send_from_queue(
                gw,
                settings,
                session_rate.as_ref(),
                &mut conn.session,
                otp_only,
                &mut expired,
                now,
            );
            gw.expire(std::mem::take(&mut expired), now, now_unix);
            if conn.flush().await.is_err() {
                break;
            }
        }
        window_in_use.set(
            settings
                .session
                .window
                .saturating_sub(conn.session.window_available()) as f64,
        );
        let wake = match (conn.session.poll_timeout(), paused_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let wait_for_queue =
            bound && !unbinding && paused_until.is_none() && conn.session.window_available() > 0;
        tokio::select! {
            _ = shutdown.wait(), if !unbinding => {
                unbinding = true;
                let (now, _) = conn::now();
                if !bound || conn.session.unbind(now).is_err() {
                    break;
                }
            }
            read = conn.read() => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let (now, _) = conn::now();
                        if let Err(e) = conn.process(now).await {
                            tracing::warn!(carrier = %settings.name, error = %e, "framing error from carrier");
                            break;
                        }
                    }
                }
            }
            _ = conn::sleep_until(wake) => {
                let (now, _) = conn::now();
                conn.session.handle_timeout(now);
            }
            _ = queue.ready(), if wait_for_queue && !otp_only => {}
            _ = queue.otp_ready(), if wait_for_queue && otp_only => {}
        }
        let (now, now_unix) = conn::now();
        while let Some(event) = conn.session.poll_event() {
            match event {
                Event::Bound(_) => {
                    bound = true;
                    queue.set_session_bound(true);
                    metrics::gauge!(m::CARRIER_BINDS, "carrier" => settings.name.clone())
                        .increment(1.0);
                    tracing::info!(carrier = %settings.name, index, "bound to carrier");
                }
                Event::Response { tag: None, pdu, .. } => {
                    if !pdu.command_status.is_ok() {
                        tracing::warn!(carrier = %settings.name, index, status = %pdu.command_status, "carrier refused the bind");
                    }
                }
                Event::Response {
                    tag: Some(msg),
                    pdu,
                    ..
                } => {
                    on_submit_resp(gw, settings, msg, pdu, &mut paused_until, now, now_unix);
                }
                Event::Timeout { tag: Some(msg), .. } => {
                    metrics::counter!(m::REQUEUED, "carrier" => settings.name.clone(), "reason" => "timeout").increment(1);
                    queue.requeue(vec![msg]);
                }
                Event::Timeout { tag: None, .. } => {
                    tracing::warn!(carrier = %settings.name, index, "carrier did not answer the bind");
                }
                Event::Request(pdu) => {
                    let (seq, command_id) = (pdu.sequence_number, pdu.command_id());
                    let status = match pdu.body {
                        Body::DeliverSm(d)
                            if d.esm_class.is_delivery_receipt()
                                || d.tlvs.receipted_message_id().is_some() =>
                        {
                            gw.on_carrier_receipt(settings.id, &d, now, now_unix);
                            CommandStatus::ESME_ROK
                        }
                        Body::DeliverSm(d) => gw.on_mo(d).err().unwrap_or(CommandStatus::ESME_ROK),
                        _ => CommandStatus::ESME_RINVCMDID,
                    };
                    let resp = Body::error_response_to(command_id).unwrap_or(Body::GenericNack);
                    let resp = match resp {
                        Body::DeliverSmResp(_) if status.is_ok() => {
                            Body::DeliverSmResp(SubmitSmResp::new(COctetString::empty()))
                        }
                        other => other,
                    };
                    let _ = conn.session.send_response(seq, status, resp, now);
                }
                Event::BindRequest { .. } | Event::Unbound => {}
            }
        }
    }
    conn.close().await;
    window_in_use.set(0.0);
    let in_flight: Vec<Outgoing> = conn.session.handle_close().into_iter().flatten().collect();
    if !in_flight.is_empty() {
        metrics::counter!(m::REQUEUED, "carrier" => settings.name.clone(), "reason" => "connection_lost").increment(in_flight.len() as u64);
        gw.fail_over(settings.id, in_flight);
    }
    if bound {
        queue.set_session_bound(false);
        metrics::gauge!(m::CARRIER_BINDS, "carrier" => settings.name.clone()).decrement(1.0);
        tracing::warn!(carrier = %settings.name, index, "carrier session closed");
    }
    bound
}

/// Sends queued messages while the window and the rates allow; returns when to try again if a rate said wait.
fn send_from_queue(
    gw: &Gateway,
    settings: &CarrierSettings,
    session_rate: Option<&Throttle>,
    session: &mut Session<Option<Outgoing>>,
    otp_only: bool,
    expired: &mut Vec<Outgoing>,
    now: Instant,
) -> Option<Instant> {
    let queue = &gw.carrier(settings.id).queue;
    let has_work = || {
        if otp_only {
            queue.has_otp()
        } else {
            !queue.is_empty()
        }
    };
    while session.window_available() > 0 && has_work() {
        for limit in [settings.rate.as_ref(), session_rate].into_iter().flatten() {
            if let Err(wait) = limit.try_acquire() {
                return Some(now + wait);
            }
        }
        let next = if otp_only {
            queue.pop_otp(now, expired)
        } else {
            queue.pop(now, expired)
        };
        let Some(msg) = next else {
            break;
        };
        let body = Body::SubmitSm(msg.submit());
        if let Err(e) = session.send_request(body, Some(msg.clone()), now) {
            tracing::debug!(carrier = %settings.name, error = %e, "could not send; message back to the queue");
            queue.requeue(vec![msg]);
            break;
        }
    }
    None
}

fn on_submit_resp(
    gw: &Gateway,
    settings: &CarrierSettings,
    msg: Outgoing,
    pdu: smpp::Pdu,
    paused_until: &mut Option<Instant>,
    now: Instant,
    now_unix: i64,
) {
    let status = pdu.command_status;
    match (status, pdu.body) {
        (CommandStatus::ESME_ROK, Body::SubmitSmResp(resp)) => {
            let carrier_id = resp
                .message_id
                .map(|id| id.to_str_lossy().into_owned())
                .unwrap_or_default();
            gw.on_sent(settings.id, &msg, &carrier_id, now, now_unix);
        }
        (CommandStatus::ESME_RTHROTTLED, _) => {
            metrics::counter!(m::CARRIER_THROTTLED, "carrier" => settings.name.clone())
                .increment(1);
            *paused_until = Some(now + settings.throttle_backoff);
            gw.carrier(settings.id).queue.requeue(vec![msg]);
        }
        (status, _) if status.is_ok() => {
            // A success answered with some other body (generic_nack with status 0): the outcome is unknown; the
            // message is not sent twice, and it ends without a carrier id.
            tracing::warn!(carrier = %settings.name, "carrier acknowledged a submit with an unexpected PDU");
            gw.on_sent(settings.id, &msg, "", now, now_unix);
        }
        (status, _) => gw.on_refused(settings.id, msg, status, now, now_unix),
    }
}
