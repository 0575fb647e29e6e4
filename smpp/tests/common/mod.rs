//! proptest strategies for valid PDUs of every kind, shared by the property tests and usable by fuzz targets
//! (`#[path = "../../smpp/tests/common/mod.rs"] mod common;`).
//!
//! Every strategy yields only values the codec can write and read back unchanged: strings within their bounds and free
//! of NUL, time fields empty or 16 characters, standard TLVs at a size the spec allows, broadcast_sm with its mandatory
//! TLVs, and a response whose body is left out only when its status says it failed.

// Each test crate that includes this module uses part of it.
#![allow(dead_code)]

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};

use smpp::pdu::{
    AlertNotification, Bind, BindResp, BroadcastSm, CancelBroadcastSm, CancelSm, DataSm,
    DestAddress, DestAddresses, MessageState, Outbind, QueryBroadcastSm, QuerySm, QuerySmResp,
    ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp, UnsuccessSme, UnsuccessSmes,
};
use smpp::tlv::{Tlv, TlvLength, TlvTag, Tlvs};
use smpp::types::{
    Address, COctetString, DataCoding, EsmClass, Npi, OctetString, PriorityFlag,
    RegisteredDelivery, Ton,
};
use smpp::{Body, CommandId, CommandStatus, Pdu, SequenceNumber};

/// Every `command_id` SMPP 3.4 and 5.0 define.
pub fn known_command_ids() -> Vec<CommandId> {
    (0u32..=0x113)
        .flat_map(|id| [CommandId(id), CommandId(id | CommandId::RESPONSE_BIT)])
        .filter(|id| id.name().is_some())
        .collect()
}

/// A C-Octet String of up to `MAX - 1` non-NUL octets.
pub fn c_octet<const MAX: usize>() -> impl Strategy<Value = COctetString<MAX>> {
    vec(1u8..=255, 0..MAX).prop_map(|v| COctetString::new(v).expect("within bounds, no NUL"))
}

/// A time field: empty, or 16 arbitrary non-NUL octets (the decoder checks only the length, SMPP 3.4 §7.1.1).
pub fn time_field() -> impl Strategy<Value = COctetString<17>> {
    prop_oneof![
        Just(COctetString::empty()),
        vec(1u8..=255, 16).prop_map(|v| COctetString::new(v).expect("16 octets fit")),
    ]
}

/// An Octet String of up to `MAX` octets.
pub fn octets<const MAX: usize>() -> impl Strategy<Value = OctetString<MAX>> {
    vec(any::<u8>(), 0..=MAX).prop_map(|v| OctetString::new(v).expect("within bounds"))
}

/// A TON / NPI / address triple.
pub fn address<const MAX: usize>() -> impl Strategy<Value = Address<MAX>> {
    (any::<u8>(), any::<u8>(), c_octet::<MAX>()).prop_map(|(ton, npi, addr)| Address {
        ton: Ton(ton),
        npi: Npi(npi),
        addr,
    })
}

/// Every tag the TLV table knows.
fn known_tags() -> Vec<TlvTag> {
    (0..=u16::MAX)
        .map(TlvTag)
        .filter(|t| t.name().is_some())
        .collect()
}

/// The longest value generated for a TLV; standard tags are held to their own sizes as well.
const MAX_TLV_VALUE: usize = 40;

/// A value length the spec allows for `tag`, picked by `pick`.
fn allowed_len(tag: TlvTag, pick: usize) -> usize {
    match tag.length() {
        Some(TlvLength::Fixed(n)) => n,
        Some(TlvLength::Either(a, b)) => {
            if pick % 2 == 0 {
                a
            } else {
                b
            }
        }
        Some(TlvLength::UpTo(n)) => pick % (n.min(MAX_TLV_VALUE) + 1),
        None => pick % (MAX_TLV_VALUE + 1),
    }
}

/// One TLV: a standard tag with a value of an allowed size, or an unknown tag with any value.
pub fn tlv() -> impl Strategy<Value = Tlv> {
    let tag = prop_oneof![
        prop::sample::select(known_tags()),
        any::<u16>()
            .prop_map(TlvTag)
            .prop_filter("unknown tag", |t| t.name().is_none()),
    ];
    (tag, any::<usize>(), vec(any::<u8>(), MAX_TLV_VALUE)).prop_map(|(tag, pick, pool)| {
        let len = allowed_len(tag, pick);
        Tlv {
            tag,
            value: Bytes::copy_from_slice(&pool[..len]),
        }
    })
}

/// Zero to four TLVs, duplicates allowed.
pub fn tlvs() -> impl Strategy<Value = Tlvs> {
    vec(tlv(), 0..4).prop_map(Tlvs::from_iter)
}

/// A submit_sm_resp-shaped body (also data_sm_resp, deliver_sm_resp, broadcast_sm_resp, query_broadcast_sm_resp):
/// left out, or a message id with TLVs.
pub fn submit_sm_resp() -> impl Strategy<Value = SubmitSmResp> {
    prop_oneof![
        Just(SubmitSmResp::empty()),
        (c_octet::<65>(), tlvs()).prop_map(|(id, tlvs)| SubmitSmResp {
            message_id: Some(id),
            tlvs,
        }),
    ]
}

/// A bind request body.
pub fn bind() -> impl Strategy<Value = Bind> {
    (
        c_octet::<16>(),
        c_octet::<65>(),
        c_octet::<13>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        c_octet::<41>(),
    )
        .prop_map(
            |(system_id, password, system_type, interface_version, ton, npi, address_range)| Bind {
                system_id,
                password,
                system_type,
                interface_version,
                addr_ton: Ton(ton),
                addr_npi: Npi(npi),
                address_range,
            },
        )
}

/// A bind response body: left out, or a system id with TLVs.
pub fn bind_resp() -> impl Strategy<Value = BindResp> {
    prop_oneof![
        Just(BindResp::empty()),
        (c_octet::<16>(), tlvs()).prop_map(|(id, tlvs)| BindResp {
            system_id: Some(id),
            tlvs,
        }),
    ]
}

/// An outbind body.
pub fn outbind() -> impl Strategy<Value = Outbind> {
    (c_octet::<16>(), c_octet::<65>()).prop_map(|(system_id, password)| Outbind {
        system_id,
        password,
    })
}

/// A submit_sm or deliver_sm body.
pub fn submit_sm() -> impl Strategy<Value = SubmitSm> {
    (
        (c_octet::<6>(), address::<21>(), address::<21>()),
        (any::<u8>(), any::<u8>(), any::<u8>()),
        (time_field(), time_field()),
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
        octets::<254>(),
        tlvs(),
    )
        .prop_map(
            |(
                (service_type, source_addr, dest_addr),
                (esm_class, protocol_id, priority_flag),
                (schedule_delivery_time, validity_period),
                (registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id),
                short_message,
                tlvs,
            )| SubmitSm {
                service_type,
                source_addr,
                dest_addr,
                esm_class: EsmClass(esm_class),
                protocol_id,
                priority_flag: PriorityFlag(priority_flag),
                schedule_delivery_time,
                validity_period,
                registered_delivery: RegisteredDelivery(registered_delivery),
                replace_if_present_flag,
                data_coding: DataCoding(data_coding),
                sm_default_msg_id,
                short_message,
                tlvs,
            },
        )
}

/// One submit_multi destination.
pub fn dest_address() -> impl Strategy<Value = DestAddress> {
    prop_oneof![
        address::<21>().prop_map(DestAddress::Sme),
        c_octet::<21>().prop_map(DestAddress::DistributionList),
    ]
}

/// A submit_multi body with 1 to 254 destinations (mostly few).
pub fn submit_multi() -> impl Strategy<Value = SubmitMulti> {
    let dests = prop_oneof![
        4 => vec(dest_address(), 1..5),
        1 => vec(dest_address(), 250..=254),
    ]
    .prop_map(|v| DestAddresses::new(v).expect("1-254 destinations"));
    (submit_sm(), dests).prop_map(|(sm, dest_addrs)| SubmitMulti {
        service_type: sm.service_type,
        source_addr: sm.source_addr,
        dest_addrs,
        esm_class: sm.esm_class,
        protocol_id: sm.protocol_id,
        priority_flag: sm.priority_flag,
        schedule_delivery_time: sm.schedule_delivery_time,
        validity_period: sm.validity_period,
        registered_delivery: sm.registered_delivery,
        replace_if_present_flag: sm.replace_if_present_flag,
        data_coding: sm.data_coding,
        sm_default_msg_id: sm.sm_default_msg_id,
        short_message: sm.short_message,
        tlvs: sm.tlvs,
    })
}

/// A submit_multi_resp body: left out, or a message id with 0 to 254 failed destinations.
pub fn submit_multi_resp() -> impl Strategy<Value = SubmitMultiResp> {
    let unsuccess = || {
        (address::<21>(), any::<u32>()).prop_map(|(dest_addr, code)| UnsuccessSme {
            dest_addr,
            error_status_code: CommandStatus(code),
        })
    };
    let list = prop_oneof![
        4 => vec(unsuccess(), 0..4),
        1 => vec(unsuccess(), 254),
    ]
    .prop_map(|v| UnsuccessSmes::new(v).expect("0-254 entries"));
    prop_oneof![
        Just(SubmitMultiResp::empty()),
        (c_octet::<65>(), list, tlvs()).prop_map(|(id, unsuccess_smes, tlvs)| SubmitMultiResp {
            message_id: Some(id),
            unsuccess_smes,
            tlvs,
        }),
    ]
}

/// A data_sm body.
pub fn data_sm() -> impl Strategy<Value = DataSm> {
    (
        c_octet::<6>(),
        address::<65>(),
        address::<65>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        tlvs(),
    )
        .prop_map(
            |(service_type, source_addr, dest_addr, esm, rd, dc, tlvs)| DataSm {
                service_type,
                source_addr,
                dest_addr,
                esm_class: EsmClass(esm),
                registered_delivery: RegisteredDelivery(rd),
                data_coding: DataCoding(dc),
                tlvs,
            },
        )
}

/// A query_sm body.
pub fn query_sm() -> impl Strategy<Value = QuerySm> {
    (c_octet::<65>(), address::<21>()).prop_map(|(message_id, source_addr)| QuerySm {
        message_id,
        source_addr,
    })
}

/// A query_sm_resp body: left out, or every field.
pub fn query_sm_resp() -> impl Strategy<Value = QuerySmResp> {
    prop_oneof![
        Just(QuerySmResp::empty()),
        (c_octet::<65>(), c_octet::<17>(), any::<u8>(), any::<u8>()).prop_map(
            |(id, final_date, state, error_code)| QuerySmResp {
                message_id: Some(id),
                final_date,
                message_state: MessageState(state),
                error_code,
            }
        ),
    ]
}

/// A cancel_sm body.
pub fn cancel_sm() -> impl Strategy<Value = CancelSm> {
    (
        c_octet::<6>(),
        c_octet::<65>(),
        address::<21>(),
        address::<21>(),
    )
        .prop_map(
            |(service_type, message_id, source_addr, dest_addr)| CancelSm {
                service_type,
                message_id,
                source_addr,
                dest_addr,
            },
        )
}

/// A replace_sm body.
pub fn replace_sm() -> impl Strategy<Value = ReplaceSm> {
    (
        c_octet::<65>(),
        address::<21>(),
        time_field(),
        time_field(),
        any::<u8>(),
        any::<u8>(),
        octets::<254>(),
        tlvs(),
    )
        .prop_map(
            |(message_id, source_addr, sched, validity, rd, default_id, short_message, tlvs)| {
                ReplaceSm {
                    message_id,
                    source_addr,
                    schedule_delivery_time: sched,
                    validity_period: validity,
                    registered_delivery: RegisteredDelivery(rd),
                    sm_default_msg_id: default_id,
                    short_message,
                    tlvs,
                }
            },
        )
}

/// An alert_notification body.
pub fn alert_notification() -> impl Strategy<Value = AlertNotification> {
    (address::<65>(), address::<65>(), tlvs()).prop_map(|(source_addr, esme_addr, tlvs)| {
        AlertNotification {
            source_addr,
            esme_addr,
            tlvs,
        }
    })
}

/// broadcast_sm's four mandatory TLVs (SMPP 5.0 §4.4.1.1), with valid sizes and arbitrary contents.
fn broadcast_mandatory_tlvs() -> impl Strategy<Value = Vec<Tlv>> {
    (
        vec(any::<u8>(), 0..=20),
        vec(any::<u8>(), 3),
        vec(any::<u8>(), 2),
        vec(any::<u8>(), 3),
    )
        .prop_map(|(area, content, rep, freq)| {
            [
                (TlvTag::BROADCAST_AREA_IDENTIFIER, area),
                (TlvTag::BROADCAST_CONTENT_TYPE, content),
                (TlvTag::BROADCAST_REP_NUM, rep),
                (TlvTag::BROADCAST_FREQUENCY_INTERVAL, freq),
            ]
            .into_iter()
            .map(|(tag, v)| Tlv {
                tag,
                value: Bytes::from(v),
            })
            .collect()
        })
}

/// A broadcast_sm body, its mandatory TLVs mixed with others.
pub fn broadcast_sm() -> impl Strategy<Value = BroadcastSm> {
    (
        (
            c_octet::<6>(),
            address::<21>(),
            c_octet::<65>(),
            any::<u8>(),
        ),
        (time_field(), time_field()),
        (any::<u8>(), any::<u8>(), any::<u8>()),
        vec(tlv(), 0..3),
        broadcast_mandatory_tlvs(),
    )
        .prop_map(
            |(
                (service_type, source_addr, message_id, priority),
                (schedule_delivery_time, validity_period),
                (replace_if_present_flag, data_coding, sm_default_msg_id),
                mut others,
                mandatory,
            )| {
                let at = others.len() / 2;
                others.splice(at..at, mandatory);
                BroadcastSm {
                    service_type,
                    source_addr,
                    message_id,
                    priority_flag: PriorityFlag(priority),
                    schedule_delivery_time,
                    validity_period,
                    replace_if_present_flag,
                    data_coding: DataCoding(data_coding),
                    sm_default_msg_id,
                    tlvs: others.into_iter().collect(),
                }
            },
        )
}

/// A query_broadcast_sm body.
pub fn query_broadcast_sm() -> impl Strategy<Value = QueryBroadcastSm> {
    (c_octet::<65>(), address::<21>(), tlvs()).prop_map(|(message_id, source_addr, tlvs)| {
        QueryBroadcastSm {
            message_id,
            source_addr,
            tlvs,
        }
    })
}

/// A cancel_broadcast_sm body.
pub fn cancel_broadcast_sm() -> impl Strategy<Value = CancelBroadcastSm> {
    (c_octet::<6>(), c_octet::<65>(), address::<21>(), tlvs()).prop_map(
        |(service_type, message_id, source_addr, tlvs)| CancelBroadcastSm {
            service_type,
            message_id,
            source_addr,
            tlvs,
        },
    )
}

/// A body of any kind, each kind equally likely.
pub fn body() -> impl Strategy<Value = Body> {
    let kinds: Vec<BoxedStrategy<Body>> = vec![
        bind().prop_map(Body::BindTransmitter).boxed(),
        bind_resp().prop_map(Body::BindTransmitterResp).boxed(),
        bind().prop_map(Body::BindReceiver).boxed(),
        bind_resp().prop_map(Body::BindReceiverResp).boxed(),
        bind().prop_map(Body::BindTransceiver).boxed(),
        bind_resp().prop_map(Body::BindTransceiverResp).boxed(),
        outbind().prop_map(Body::Outbind).boxed(),
        Just(Body::Unbind).boxed(),
        Just(Body::UnbindResp).boxed(),
        Just(Body::GenericNack).boxed(),
        submit_sm().prop_map(Body::SubmitSm).boxed(),
        submit_sm_resp().prop_map(Body::SubmitSmResp).boxed(),
        submit_sm().prop_map(Body::DeliverSm).boxed(),
        submit_sm_resp().prop_map(Body::DeliverSmResp).boxed(),
        submit_multi().prop_map(Body::SubmitMulti).boxed(),
        submit_multi_resp().prop_map(Body::SubmitMultiResp).boxed(),
        data_sm().prop_map(Body::DataSm).boxed(),
        submit_sm_resp().prop_map(Body::DataSmResp).boxed(),
        query_sm().prop_map(Body::QuerySm).boxed(),
        query_sm_resp().prop_map(Body::QuerySmResp).boxed(),
        cancel_sm().prop_map(Body::CancelSm).boxed(),
        Just(Body::CancelSmResp).boxed(),
        replace_sm().prop_map(Body::ReplaceSm).boxed(),
        Just(Body::ReplaceSmResp).boxed(),
        Just(Body::EnquireLink).boxed(),
        Just(Body::EnquireLinkResp).boxed(),
        alert_notification()
            .prop_map(Body::AlertNotification)
            .boxed(),
        broadcast_sm().prop_map(Body::BroadcastSm).boxed(),
        submit_sm_resp().prop_map(Body::BroadcastSmResp).boxed(),
        query_broadcast_sm()
            .prop_map(Body::QueryBroadcastSm)
            .boxed(),
        submit_sm_resp()
            .prop_map(Body::QueryBroadcastSmResp)
            .boxed(),
        cancel_broadcast_sm()
            .prop_map(Body::CancelBroadcastSm)
            .boxed(),
        Just(Body::CancelBroadcastSmResp).boxed(),
    ];
    Union::new(kinds)
}

/// True for a response whose body was left out, which only a failed response may do (SMPP 3.4 §4.1.2, §4.4.2, …).
pub fn is_left_out(body: &Body) -> bool {
    match body {
        Body::BindTransmitterResp(r) | Body::BindReceiverResp(r) | Body::BindTransceiverResp(r) => {
            r.system_id.is_none()
        }
        Body::SubmitSmResp(r)
        | Body::DeliverSmResp(r)
        | Body::DataSmResp(r)
        | Body::BroadcastSmResp(r)
        | Body::QueryBroadcastSmResp(r) => r.message_id.is_none(),
        Body::SubmitMultiResp(r) => r.message_id.is_none(),
        Body::QuerySmResp(r) => r.message_id.is_none(),
        _ => false,
    }
}

/// A whole PDU of any kind; a response whose body is left out carries an error status.
pub fn pdu() -> impl Strategy<Value = Pdu> {
    (any::<u32>(), any::<u32>(), body()).prop_map(|(seq, status, body)| {
        let status = if is_left_out(&body) && status == 0 {
            CommandStatus::ESME_RTHROTTLED
        } else {
            CommandStatus(status)
        };
        Pdu {
            sequence_number: SequenceNumber(seq),
            command_status: status,
            body,
        }
    })
}

/// A frame with a correct `command_length`, a known `command_id` and an arbitrary body: input for the decoder that
/// passes framing and reaches the body parsers.
pub fn framed_noise() -> impl Strategy<Value = Bytes> {
    (
        prop::sample::select(known_command_ids()),
        any::<u32>(),
        any::<u32>(),
        vec(any::<u8>(), 0..300),
    )
        .prop_map(|(id, status, seq, body)| {
            let mut out = Vec::with_capacity(16 + body.len());
            out.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
            out.extend_from_slice(&id.0.to_be_bytes());
            out.extend_from_slice(&status.to_be_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&body);
            Bytes::from(out)
        })
}
