//! One ESME connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use smpp::pdu::{
    Body, DataSm, DestAddress, QuerySmResp, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp,
    UnsuccessSme, UnsuccessSmes,
};
use smpp::session::{BindType, Event, Session, State};
use smpp::types::{Address, COctetString};
use smpp::{CommandStatus, SequenceNumber};
use tokio::net::TcpStream;

use super::ServerSettings;
use crate::conn::{self, Conn};
use crate::gateway::outbox::Inbound;
use crate::gateway::Gateway;
use crate::message::{AccountId, MessageId};
use crate::metrics as m;
use crate::shutdown::Shutdown;

/// The account a connection is bound as.
struct Bound {
    account: AccountId,
    bind_type: BindType,
}

/// Serves one connection until it unbinds, breaks, or shutdown; receipts in flight go back to the account's outbox.
pub async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    gw: Arc<Gateway>,
    settings: Arc<ServerSettings>,
    mut shutdown: Shutdown,
) {
    let (now, _) = conn::now();
    let mut conn: Conn<Inbound> = Conn::new(
        stream,
        Session::new(settings.session.clone(), now),
        settings.max_pdu_len,
    );
    let mut bound: Option<Bound> = None;
    let mut unbinding = false;
    loop {
        if conn.flush().await.is_err() || conn.session.wants_close() {
            break;
        }
        let receiver = bound
            .as_ref()
            .filter(|b| b.bind_type.can_receive_deliver())
            .map(|b| b.account);
        let can_deliver = receiver.is_some() && conn.session.window_available() > 0;
        let deadline = conn.session.poll_timeout();
        tokio::select! {
            _ = shutdown.wait(), if !unbinding => {
                // Unbind a bound session and let its answer arrive; anything else just closes.
                unbinding = true;
                let (now, _) = conn::now();
                if !matches!(conn.session.state(), State::Bound(_)) || conn.session.unbind(now).is_err() {
                    break;
                }
            }
            read = conn.read() => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let (now, _) = conn::now();
                        if let Err(e) = conn.process(now).await {
                            tracing::warn!(%peer, error = %e, "framing error: closing the connection");
                            break;
                        }
                    }
                }
            }
            _ = conn::sleep_until(deadline) => {
                let (now, _) = conn::now();
                conn.session.handle_timeout(now);
            }
            _ = async { gw.outbox(receiver.expect("guarded")).ready().await }, if can_deliver => {}
        }
        let (now, now_unix) = conn::now();
        if let Some(account) = receiver {
            deliver(&gw, account, &mut conn.session, now);
        }
        while let Some(event) = conn.session.poll_event() {
            handle(
                &gw,
                &settings,
                peer,
                &mut conn.session,
                &mut bound,
                event,
                now,
                now_unix,
            )
            .await;
        }
    }
    conn.close().await;
    let in_flight = conn.session.handle_close();
    if let Some(b) = bound {
        gw.outbox(b.account).requeue(in_flight);
        let account = gw.account(b.account);
        account.release();
        metrics::gauge!(m::ESME_BINDS, "account" => account.system_id.clone()).decrement(1.0);
        tracing::info!(%peer, account = %account.system_id, "unbound");
    }
}

/// Sends the account's waiting receipts and MO while the window has room.
fn deliver(gw: &Gateway, account: AccountId, session: &mut Session<Inbound>, now: Instant) {
    let outbox = gw.outbox(account);
    while session.window_available() > 0 {
        let Some(item) = outbox.pop() else { break };
        let body = Body::DeliverSm(item.deliver.clone());
        if session.send_request(body, item.clone(), now).is_err() {
            outbox.requeue(vec![item]);
            break;
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    gw: &Arc<Gateway>,
    settings: &ServerSettings,
    peer: SocketAddr,
    session: &mut Session<Inbound>,
    bound: &mut Option<Bound>,
    event: Event<Inbound>,
    now: Instant,
    now_unix: i64,
) {
    match event {
        Event::BindRequest {
            sequence_number,
            bind_type,
            bind,
        } => {
            match authenticate(
                gw,
                peer,
                bind_type,
                bind.system_id.to_str_lossy().as_ref(),
                bind.password.as_bytes(),
            )
            .await
            {
                Ok(account) => {
                    let system_id =
                        COctetString::try_from(settings.system_id.as_str()).unwrap_or_default();
                    session.accept_bind(sequence_number, system_id, now);
                    *bound = Some(Bound { account, bind_type });
                    let name = gw.account(account).system_id.clone();
                    metrics::gauge!(m::ESME_BINDS, "account" => name.clone()).increment(1.0);
                    tracing::info!(%peer, account = %name, ?bind_type, "bound");
                }
                Err(status) => {
                    tracing::info!(%peer, system_id = %bind.system_id.to_str_lossy(), %status, "bind refused");
                    session.reject_bind(sequence_number, status, now);
                }
            }
        }
        Event::Request(pdu) => {
            let Some(b) = bound.as_ref() else { return };
            answer(
                gw,
                session,
                b.account,
                pdu.sequence_number,
                pdu.body,
                now,
                now_unix,
            );
        }
        Event::Response { tag, pdu, .. } => {
            if !pdu.command_status.is_ok() {
                if pdu.command_status.is_temporary() {
                    if let Some(b) = bound.as_ref() {
                        gw.outbox(b.account).requeue(vec![tag]);
                    }
                } else {
                    tracing::warn!(%peer, status = %pdu.command_status, "client refused a receipt; dropped");
                }
            }
        }
        Event::Timeout { tag, .. } => {
            if let Some(b) = bound.as_ref() {
                gw.outbox(b.account).requeue(vec![tag]);
            }
        }
        Event::Bound(_) | Event::Unbound => {}
    }
}

/// Checks a bind's credentials: unknown system_id → ESME_RINVSYSID, wrong password → ESME_RINVPASWD, bind type,
/// network or bind count not allowed → ESME_RBINDFAIL.
async fn authenticate(
    gw: &Arc<Gateway>,
    peer: SocketAddr,
    bind_type: BindType,
    system_id: &str,
    password: &[u8],
) -> Result<AccountId, CommandStatus> {
    let account = gw
        .account_by_system_id(system_id)
        .ok_or(CommandStatus::ESME_RINVSYSID)?
        .id;
    let (gw2, password) = (gw.clone(), password.to_vec());
    // argon2 takes tens of milliseconds on purpose; keep it off the async threads.
    let ok = tokio::task::spawn_blocking(move || gw2.account(account).verify_password(&password))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(CommandStatus::ESME_RINVPASWD);
    }
    gw.account(account).admit(bind_type, peer.ip())?;
    Ok(account)
}

/// Answers one request from a bound ESME.
fn answer(
    gw: &Gateway,
    session: &mut Session<Inbound>,
    account: AccountId,
    seq: SequenceNumber,
    body: Body,
    now: Instant,
    now_unix: i64,
) {
    let (status, resp) = match body {
        Body::SubmitSm(sm) => {
            let class = gw.class_for(account, &sm.service_type.to_str_lossy(), sm.priority_flag.0);
            match gw.submit(account, sm, class, now, now_unix) {
                Ok(id) => (
                    CommandStatus::ESME_ROK,
                    Body::SubmitSmResp(SubmitSmResp::new(message_id(id))),
                ),
                Err(e) => (e.status(), Body::SubmitSmResp(SubmitSmResp::empty())),
            }
        }
        Body::DataSm(dm) => {
            let class = gw.class_for(account, &dm.service_type.to_str_lossy(), 0);
            match data_sm_as_submit(dm).and_then(|sm| {
                gw.submit(account, sm, class, now, now_unix)
                    .map_err(|e| e.status())
            }) {
                Ok(id) => (
                    CommandStatus::ESME_ROK,
                    Body::DataSmResp(SubmitSmResp::new(message_id(id))),
                ),
                Err(status) => (status, Body::DataSmResp(SubmitSmResp::empty())),
            }
        }
        Body::SubmitMulti(multi) => submit_multi(gw, account, multi, now, now_unix),
        Body::QuerySm(q) => match parse_id(&q.message_id).and_then(|id| {
            gw.query(account, id)
                .map(|r| (id, r))
                .ok_or(CommandStatus::ESME_RQUERYFAIL)
        }) {
            Ok((id, r)) => (
                CommandStatus::ESME_ROK,
                Body::QuerySmResp(QuerySmResp {
                    message_id: Some(message_id(id)),
                    final_date: r.done_at.map(|t| final_date(t.get())).unwrap_or_default(),
                    message_state: smpp::pdu::MessageState(r.state.smpp_state()),
                    error_code: u8::try_from(r.error).unwrap_or(u8::MAX),
                }),
            ),
            Err(status) => (status, Body::QuerySmResp(QuerySmResp::empty())),
        },
        Body::CancelSm(c) => {
            // Cancelling "every message from this source to this destination" (an empty message_id, SMPP 3.4 §4.9.1)
            // is not offered: Sluice cancels one message by its id.
            let result = if c.message_id.is_empty() {
                Err(CommandStatus::ESME_RCANCELFAIL)
            } else {
                parse_id(&c.message_id).and_then(|id| gw.cancel(account, id, now, now_unix))
            };
            match result {
                Ok(()) => (CommandStatus::ESME_ROK, Body::CancelSmResp),
                Err(status) => (status, Body::CancelSmResp),
            }
        }
        // Messages are not replaced once accepted; the spec's own status for that is RREPLACEFAIL.
        Body::ReplaceSm(_) => (CommandStatus::ESME_RREPLACEFAIL, Body::ReplaceSmResp),
        other => {
            let id = other.command_id();
            let resp = Body::error_response_to(id).unwrap_or(Body::GenericNack);
            (CommandStatus::ESME_RINVCMDID, resp)
        }
    };
    let _ = session.send_response(seq, status, resp, now);
}

/// A `data_sm` as the `submit_sm` it amounts to: same addresses (which must fit submit_sm's 20 octets), esm_class,
/// registered_delivery, data_coding and TLVs (the text is in `message_payload`). Its validity is the class default.
fn data_sm_as_submit(dm: DataSm) -> Result<SubmitSm, CommandStatus> {
    fn narrow(a: Address<65>, status: CommandStatus) -> Result<Address<21>, CommandStatus> {
        let addr = COctetString::new(a.addr.to_bytes()).map_err(|_| status)?;
        Ok(Address {
            ton: a.ton,
            npi: a.npi,
            addr,
        })
    }
    Ok(SubmitSm {
        service_type: dm.service_type,
        source_addr: narrow(dm.source_addr, CommandStatus::ESME_RINVSRCADR)?,
        dest_addr: narrow(dm.dest_addr, CommandStatus::ESME_RINVDSTADR)?,
        esm_class: dm.esm_class,
        registered_delivery: dm.registered_delivery,
        data_coding: dm.data_coding,
        tlvs: dm.tlvs,
        ..SubmitSm::default()
    })
}

/// `submit_multi`: one Sluice message per SME destination, each validated on its own; the ones refused are listed in
/// `unsuccess_sme`. The response's message_id is the first accepted message's id; receipts carry each destination's
/// own id and address. Sluice keeps no distribution lists, so a PDU naming one is refused whole before anything is queued.
fn submit_multi(
    gw: &Gateway,
    account: AccountId,
    multi: SubmitMulti,
    now: Instant,
    now_unix: i64,
) -> (CommandStatus, Body) {
    let refuse = |status| (status, Body::SubmitMultiResp(SubmitMultiResp::default()));
    let dests = multi.dest_addrs.as_slice();
    if dests
        .iter()
        .any(|d| matches!(d, DestAddress::DistributionList(_)))
    {
        return refuse(CommandStatus::ESME_RINVDLNAME);
    }
    let class = gw.class_for(
        account,
        &multi.service_type.to_str_lossy(),
        multi.priority_flag.0,
    );
    let mut first = None;
    let mut failed = Vec::new();
    for d in dests {
        let DestAddress::Sme(dest) = d else {
            unreachable!("distribution lists refused above")
        };
        let sm = SubmitSm {
            service_type: multi.service_type.clone(),
            source_addr: multi.source_addr.clone(),
            dest_addr: dest.clone(),
            esm_class: multi.esm_class,
            protocol_id: multi.protocol_id,
            priority_flag: multi.priority_flag,
            schedule_delivery_time: multi.schedule_delivery_time.clone(),
            validity_period: multi.validity_period.clone(),
            registered_delivery: multi.registered_delivery,
            replace_if_present_flag: multi.replace_if_present_flag,
            data_coding: multi.data_coding,
            sm_default_msg_id: multi.sm_default_msg_id,
            short_message: multi.short_message.clone(),
            tlvs: multi.tlvs.clone(),
        };
        match gw.submit(account, sm, class, now, now_unix) {
            Ok(id) => {
                first.get_or_insert(id);
            }
            Err(e) => failed.push(UnsuccessSme {
                dest_addr: dest.clone(),
                error_status_code: e.status(),
            }),
        }
    }
    let Some(id) = first else {
        // Nothing was accepted: the first destination's reason answers for the PDU.
        let status = failed
            .first()
            .map_or(CommandStatus::ESME_RSUBMITFAIL, |u| u.error_status_code);
        return refuse(status);
    };
    let mut resp = SubmitMultiResp::new(message_id(id));
    resp.unsuccess_smes = UnsuccessSmes::new(failed).expect("at most 254 destinations, as parsed");
    (CommandStatus::ESME_ROK, Body::SubmitMultiResp(resp))
}

/// A client's message_id (Sluice's 16 hex digits) as an id.
fn parse_id(id: &COctetString<65>) -> Result<MessageId, CommandStatus> {
    std::str::from_utf8(id.as_bytes())
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(CommandStatus::ESME_RINVMSGID)
}

/// Unix seconds as an absolute SMPP time in UTC (`YYMMDDhhmmss000+`).
fn final_date(unix_seconds: i64) -> COctetString<17> {
    let t = smpp::time::SmppTime::Absolute {
        unix_seconds,
        tenths: 0,
    };
    t.format()
        .ok()
        .and_then(|b| COctetString::new(bytes::Bytes::copy_from_slice(&b)).ok())
        .unwrap_or_default()
}

fn message_id(id: MessageId) -> COctetString<65> {
    COctetString::new(bytes::Bytes::copy_from_slice(&id.to_ascii())).expect("16 hex digits fit")
}
