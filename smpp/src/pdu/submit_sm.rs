//! submit_sm and deliver_sm (SMPP 3.4 §4.4, §4.6), which share one layout, and their responses.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, c_octet, octets_raw, take_address, take_c_octet, u8_run, PResult};
use crate::tlv::Tlvs;
use crate::types::{
    Address, COctetString, DataCoding, EsmClass, OctetString, PriorityFlag, RegisteredDelivery,
};
use crate::{CommandStatus, HEADER_LEN};

/// The most octets `short_message` may hold (SMPP 3.4 §4.4.1); longer texts go in `message_payload`.
pub const MAX_SHORT_MESSAGE: usize = 254;

/// The body of `submit_sm` (SMPP 3.4 §4.4.1) and `deliver_sm` (§4.6.1), which has the same fields.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubmitSm {
    /// The service this message belongs to (empty for the SMSC default); Sluice maps it to a message class.
    pub service_type: COctetString<6>,
    /// The sender.
    pub source_addr: Address<21>,
    /// The recipient.
    pub dest_addr: Address<21>,
    /// Messaging mode, message type (receipt) and UDH indicator.
    pub esm_class: EsmClass,
    /// GSM TP-Protocol-Identifier.
    pub protocol_id: u8,
    /// 0 (lowest) to 3.
    pub priority_flag: PriorityFlag,
    /// Empty for immediate delivery, or an absolute or relative SMPP time (§7.1.1).
    pub schedule_delivery_time: COctetString<17>,
    /// Empty for the SMSC default, or an absolute or relative SMPP time.
    pub validity_period: COctetString<17>,
    /// Which receipts are wanted.
    pub registered_delivery: RegisteredDelivery,
    /// 1 asks the SMSC to replace a queued message with the same source, destination and service type.
    pub replace_if_present_flag: u8,
    /// The alphabet of `short_message`.
    pub data_coding: DataCoding,
    /// A canned message's id (0 for none).
    pub sm_default_msg_id: u8,
    /// The message octets (with its UDH when `esm_class` says so); empty when `message_payload` carries the text.
    pub short_message: OctetString<MAX_SHORT_MESSAGE>,
    /// Optional parameters.
    pub tlvs: Tlvs,
}

/// `deliver_sm` has `submit_sm`'s layout; `schedule_delivery_time`, `validity_period`, `replace_if_present_flag` and
/// `sm_default_msg_id` are unused and sent empty or zero (SMPP 3.4 §4.6.1).
pub type DeliverSm = SubmitSm;

/// A time field must be empty or exactly 16 characters (SMPP 3.4 §7.1.1). Only the length is checked here, so a
/// peer's odd time reaches policy (see [`crate::SmppTime`]) rather than failing the whole PDU.
pub(super) fn check_time(
    t: &COctetString<17>,
    status: CommandStatus,
    field: &'static str,
) -> Result<(), nom::Err<codec::Fault>> {
    if t.is_empty() || t.as_bytes().len() == 16 {
        Ok(())
    } else {
        Err(nom::Err::Failure(codec::Fault::new(status, field)))
    }
}

impl SubmitSm {
    /// Decodes a whole submit_sm or deliver_sm frame. `short_message` takes the frame itself rather than a slice of it
    /// (see [`codec::into_slice`]); the TLVs, which are rare on these PDUs, are slices.
    // Inlined into `Pdu::decode` so the 160-octet value is built where the `Pdu` is, not moved there by two `memcpy` calls.
    #[inline(always)]
    pub(crate) fn decode(frame: Bytes) -> Result<SubmitSm, codec::Fault> {
        let (mut sm, message) = {
            let body = &frame[HEADER_LEN..];
            let (_, (sm, message)) = Self::parse(&frame)(body).map_err(codec::fault_of)?;
            (sm, codec::range_in(&frame, message))
        };
        sm.short_message = OctetString::from_checked(codec::into_slice(frame, message));
        Ok(sm)
    }

    /// The body's fields, with `short_message` left empty and its octets handed back; the TLVs end the body.
    #[inline]
    fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, (SubmitSm, &'a [u8])> {
        move |i| {
            let (i, service_type) =
                take_c_octet(i, "service_type", CommandStatus::ESME_RINVSERTYP)?;
            let (i, source_addr) = take_address(i, "source_addr", CommandStatus::ESME_RINVSRCADR)?;
            let (i, dest_addr) =
                take_address(i, "destination_addr", CommandStatus::ESME_RINVDSTADR)?;
            let (i, [esm_class, protocol_id, priority_flag]) =
                u8_run(["esm_class", "protocol_id", "priority_flag"])(i)?;
            let (i, schedule_delivery_time) =
                take_c_octet(i, "schedule_delivery_time", CommandStatus::ESME_RINVSCHED)?;
            check_time(
                &schedule_delivery_time,
                CommandStatus::ESME_RINVSCHED,
                "schedule_delivery_time",
            )?;
            let (i, validity_period) =
                take_c_octet(i, "validity_period", CommandStatus::ESME_RINVEXPIRY)?;
            check_time(
                &validity_period,
                CommandStatus::ESME_RINVEXPIRY,
                "validity_period",
            )?;
            let (
                i,
                [registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id, sm_length],
            ) = u8_run([
                "registered_delivery",
                "replace_if_present_flag",
                "data_coding",
                "sm_default_msg_id",
                "sm_length",
            ])(i)?;
            let (i, short_message) =
                octets_raw(MAX_SHORT_MESSAGE, usize::from(sm_length), "short_message")(i)?;
            // Most submit_sm carry no TLVs; skip the call, which returns its `Vec` through memory.
            let (i, tlvs) = if i.is_empty() {
                (i, Tlvs::new())
            } else {
                codec::tlvs(src)(i)?
            };
            let sm = SubmitSm {
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
                short_message: OctetString::empty(),
                tlvs,
            };
            Ok((i, (sm, short_message)))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.service_type.encoded_len()
            + self.source_addr.encoded_len()
            + self.dest_addr.encoded_len()
            + 3
            + self.schedule_delivery_time.encoded_len()
            + self.validity_period.encoded_len()
            + 5
            + self.short_message.len()
            + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.service_type.encode(out);
        self.source_addr.encode(out);
        self.dest_addr.encode(out);
        // Runs of one-octet fields go in as one slice each: one capacity check instead of one per octet.
        out.put_slice(&[self.esm_class.0, self.protocol_id, self.priority_flag.0]);
        self.schedule_delivery_time.encode(out);
        self.validity_period.encode(out);
        out.put_slice(&[
            self.registered_delivery.0,
            self.replace_if_present_flag,
            self.data_coding.0,
            self.sm_default_msg_id,
            // `short_message` is bounded to 254 octets by its type.
            self.short_message.len() as u8,
        ]);
        out.put_slice(self.short_message.as_bytes());
        self.tlvs.encode(out);
    }

    /// The message octets: `message_payload` when present, `short_message` otherwise (SMPP 3.4 §5.3.2.32).
    pub fn payload(&self) -> &[u8] {
        match self.tlvs.message_payload() {
            Some(p) => p,
            None => self.short_message.as_bytes(),
        }
    }
}

/// The body of `submit_sm_resp` (SMPP 3.4 §4.4.2) and `deliver_sm_resp` (§4.6.2): a `message_id` and TLVs, the layout
/// `data_sm_resp` and SMPP 5.0's `broadcast_sm_resp` and `query_broadcast_sm_resp` share.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubmitSmResp {
    /// The SMSC's id for the message (empty in deliver_sm_resp); `None` when an error response left the body out.
    pub message_id: Option<COctetString<65>>,
    /// SMPP 5.0 lets these responses carry TLVs (e.g. `additional_status_info_text`, `congestion_state`).
    pub tlvs: Tlvs,
}

/// `deliver_sm_resp` has `submit_sm_resp`'s layout, with `message_id` unused and empty.
pub type DeliverSmResp = SubmitSmResp;

impl SubmitSmResp {
    /// A successful response carrying the message id.
    pub fn new(message_id: COctetString<65>) -> SubmitSmResp {
        SubmitSmResp {
            message_id: Some(message_id),
            tlvs: Tlvs::new(),
        }
    }

    /// The body of an error response, left out.
    pub fn empty() -> SubmitSmResp {
        SubmitSmResp {
            message_id: None,
            tlvs: Tlvs::new(),
        }
    }

    pub(crate) fn parse<'a>(
        src: &'a Bytes,
        empty_error: bool,
    ) -> impl Fn(&'a [u8]) -> PResult<'a, SubmitSmResp> {
        move |i| {
            if empty_error {
                return Ok((i, SubmitSmResp::empty()));
            }
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            Ok((
                i,
                SubmitSmResp {
                    message_id: Some(message_id),
                    tlvs,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.message_id
            .as_ref()
            .map_or(0, |m| m.encoded_len() + self.tlvs.encoded_len())
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        if let Some(m) = &self.message_id {
            m.encode(out);
            self.tlvs.encode(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::types::{Npi, Ton};
    use crate::CommandStatus;

    #[test]
    fn smpplib_submit_sm_round_trips() {
        let pdu = round_trip(
            "0000004500000004000000000000000300050041434d45000101343931353131323334353637380000000000000100000013596f757220636f646520697320313233343536",
        );
        let Body::SubmitSm(sm) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(sm.source_addr.ton, Ton::ALPHANUMERIC);
        assert_eq!(sm.source_addr.addr, "ACME");
        assert_eq!(sm.dest_addr.npi, Npi::ISDN);
        assert_eq!(sm.dest_addr.addr, "4915112345678");
        assert_eq!(sm.payload(), b"Your code is 123456");
        assert!(sm.registered_delivery.wants_receipt(true));
    }

    #[test]
    fn node_smpp_submit_sm_resp_round_trips() {
        let pdu = round_trip("000000128000000400000000000000034300");
        let Body::SubmitSmResp(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.message_id.unwrap(), "C");
    }

    #[test]
    fn submit_sm_resp_error_without_a_body_round_trips() {
        let pdu = round_trip("00000010800000040000005800000003");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RTHROTTLED);
        assert_eq!(pdu.body, Body::SubmitSmResp(super::SubmitSmResp::empty()));
    }

    #[test]
    fn short_message_longer_than_its_frame_is_a_length_error() {
        // sm_length says 0x13 but only 3 octets follow.
        let e = Pdu::decode(frame(
            4,
            0,
            3,
            "00050041434d4500010134393135000000000000010000001359",
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVCMDLEN);
        assert_eq!(e.field, "short_message");
        let resp = e.response().unwrap();
        assert_eq!(resp.body, Body::SubmitSmResp(super::SubmitSmResp::empty()));
        assert_eq!(resp.command_status, CommandStatus::ESME_RINVCMDLEN);
    }

    #[test]
    fn source_address_too_long_answers_invalid_source_address() {
        let e = Pdu::decode(frame(
            4,
            0,
            3,
            "0005003031323334353637383930313233343536373839303132000101310000000000000100000000",
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVSRCADR);
    }

    #[test]
    fn validity_period_of_the_wrong_length_answers_invalid_expiry() {
        let e = Pdu::decode(frame(
            4,
            0,
            3,
            "000500414300010131000000000031323300010000000000",
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVEXPIRY);
    }
}
