//! The SMPP 5.0 cell broadcast family: broadcast_sm (§4.4.1), query_broadcast_sm (§4.6.1) and cancel_broadcast_sm
//! (§4.6.2) with their responses. cancel_broadcast_sm_resp has no body: it is [`crate::Body::CancelBroadcastSmResp`].
//!
//! broadcast_sm's mandatory parameters travel as TLVs; a body without one of them is refused with `ESME_RMISSINGTLV`.

use bytes::{BufMut, Bytes, BytesMut};

use super::submit_sm::{check_time, SubmitSmResp};
use crate::codec::{self, address, c_octet, u16_field, u8_field, Fault, PResult};
use crate::tlv::{TlvTag, Tlvs};
use crate::types::{Address, COctetString, DataCoding, PriorityFlag};
use crate::CommandStatus;

/// The TLVs every broadcast_sm carries (SMPP 5.0 §4.4.1.1), with their names for the error.
const BROADCAST_SM_MANDATORY: [(TlvTag, &str); 4] = [
    (
        TlvTag::BROADCAST_AREA_IDENTIFIER,
        "broadcast_area_identifier",
    ),
    (TlvTag::BROADCAST_CONTENT_TYPE, "broadcast_content_type"),
    (TlvTag::BROADCAST_REP_NUM, "broadcast_rep_num"),
    (
        TlvTag::BROADCAST_FREQUENCY_INTERVAL,
        "broadcast_frequency_interval",
    ),
];

/// The body of `broadcast_sm` (SMPP 5.0 §4.4.1.1): a message for every mobile in one or more areas.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BroadcastSm {
    /// The service this broadcast belongs to (empty for the SMSC default).
    pub service_type: COctetString<6>,
    /// The sender.
    pub source_addr: Address<21>,
    /// The broadcast to replace when `replace_if_present_flag` is 1; empty otherwise.
    pub message_id: COctetString<65>,
    /// The broadcast's priority; GSM and ANSI-41 cell broadcast each define their own levels (SMPP 5.0 §4.7.19).
    pub priority_flag: PriorityFlag,
    /// Empty for immediate broadcast, or an SMPP time (§7.1.1).
    pub schedule_delivery_time: COctetString<17>,
    /// Empty for the SMSC default, or an SMPP time.
    pub validity_period: COctetString<17>,
    /// 1 replaces the broadcast named by `message_id`.
    pub replace_if_present_flag: u8,
    /// The alphabet of the content.
    pub data_coding: DataCoding,
    /// A canned message's id (0 for none).
    pub sm_default_msg_id: u8,
    /// The broadcast's parameters: the four mandatory ones (`broadcast_area_identifier`, which may repeat,
    /// `broadcast_content_type`, `broadcast_rep_num`, `broadcast_frequency_interval`), `message_payload` and others.
    pub tlvs: Tlvs,
}

impl BroadcastSm {
    pub(crate) fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, BroadcastSm> {
        move |i| {
            let (i, service_type) = c_octet("service_type", CommandStatus::ESME_RINVSERTYP)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, priority_flag) = u8_field("priority_flag")(i)?;
            let (i, schedule_delivery_time) =
                c_octet("schedule_delivery_time", CommandStatus::ESME_RINVSCHED)(i)?;
            check_time(
                &schedule_delivery_time,
                CommandStatus::ESME_RINVSCHED,
                "schedule_delivery_time",
            )?;
            let (i, validity_period) =
                c_octet("validity_period", CommandStatus::ESME_RINVEXPIRY)(i)?;
            check_time(
                &validity_period,
                CommandStatus::ESME_RINVEXPIRY,
                "validity_period",
            )?;
            let (i, replace_if_present_flag) = u8_field("replace_if_present_flag")(i)?;
            let (i, data_coding) = u8_field("data_coding")(i)?;
            let (i, sm_default_msg_id) = u8_field("sm_default_msg_id")(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            let sm = BroadcastSm {
                service_type,
                source_addr,
                message_id,
                priority_flag: PriorityFlag(priority_flag),
                schedule_delivery_time,
                validity_period,
                replace_if_present_flag,
                data_coding: DataCoding(data_coding),
                sm_default_msg_id,
                tlvs,
            };
            if let Some(field) = sm.missing_tlv() {
                return Err(nom::Err::Failure(Fault::new(
                    CommandStatus::ESME_RMISSINGTLV,
                    field,
                )));
            }
            Ok((i, sm))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.service_type.encoded_len()
            + self.source_addr.encoded_len()
            + self.message_id.encoded_len()
            + 1
            + self.schedule_delivery_time.encoded_len()
            + self.validity_period.encoded_len()
            + 3
            + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.service_type.encode(out);
        self.source_addr.encode(out);
        self.message_id.encode(out);
        out.put_u8(self.priority_flag.0);
        self.schedule_delivery_time.encode(out);
        self.validity_period.encode(out);
        out.put_u8(self.replace_if_present_flag);
        out.put_u8(self.data_coding.0);
        out.put_u8(self.sm_default_msg_id);
        self.tlvs.encode(out);
    }

    /// The name of the first mandatory TLV (SMPP 5.0 §4.4.1.1) this body lacks, or `None` when it has them all.
    pub fn missing_tlv(&self) -> Option<&'static str> {
        BROADCAST_SM_MANDATORY
            .iter()
            .find(|(tag, _)| self.tlvs.get(*tag).is_none())
            .map(|&(_, name)| name)
    }

    /// Every `broadcast_area_identifier` (SMPP 5.0 §4.8.4.4): a format octet and the area, one TLV per area.
    pub fn broadcast_areas(&self) -> impl Iterator<Item = &Bytes> {
        self.tlvs
            .iter()
            .filter(|t| t.tag == TlvTag::BROADCAST_AREA_IDENTIFIER)
            .map(|t| &t.value)
    }

    /// `broadcast_rep_num` (SMPP 5.0 §4.8.4.8): how many times to repeat the broadcast.
    pub fn broadcast_rep_num(&self) -> Option<u16> {
        let value = self.tlvs.get(TlvTag::BROADCAST_REP_NUM)?;
        // The value is an Integer(2) (its length was checked on decode), read like a mandatory field.
        u16_field("broadcast_rep_num")(value).ok().map(|(_, n)| n)
    }
}

/// The body of `broadcast_sm_resp` (SMPP 5.0 §4.4.1.2): `message_id` and TLVs (`broadcast_error_status`, and
/// `failed_broadcast_area_identifier`, which shares `broadcast_area_identifier`'s tag), as in submit_sm_resp.
pub type BroadcastSmResp = SubmitSmResp;

/// The body of `query_broadcast_sm` (SMPP 5.0 §4.6.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueryBroadcastSm {
    /// The SMSC's id of the broadcast.
    pub message_id: COctetString<65>,
    /// The broadcast's sender, as submitted.
    pub source_addr: Address<21>,
    /// Optional parameters: `user_message_reference`.
    pub tlvs: Tlvs,
}

impl QueryBroadcastSm {
    pub(crate) fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, QueryBroadcastSm> {
        move |i| {
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            Ok((
                i,
                QueryBroadcastSm {
                    message_id,
                    source_addr,
                    tlvs,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.message_id.encoded_len() + self.source_addr.encoded_len() + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.message_id.encode(out);
        self.source_addr.encode(out);
        self.tlvs.encode(out);
    }
}

/// The body of `query_broadcast_sm_resp` (SMPP 5.0 §4.6.1.3): `message_id` and TLVs (`message_state`,
/// `broadcast_area_identifier`, `broadcast_area_success`), as in submit_sm_resp. The TLVs the spec makes mandatory are
/// not enforced on decode: a response is never answered, so refusing it would only lose what it does say.
pub type QueryBroadcastSmResp = SubmitSmResp;

/// The body of `cancel_broadcast_sm` (SMPP 5.0 §4.6.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CancelBroadcastSm {
    /// With an empty `message_id`, cancels the sender's broadcasts of this service type.
    pub service_type: COctetString<6>,
    /// The broadcast to cancel; empty to cancel by `service_type` and `source_addr`.
    pub message_id: COctetString<65>,
    /// The broadcasts' sender, as submitted.
    pub source_addr: Address<21>,
    /// Optional parameters: `broadcast_content_type`, `user_message_reference`.
    pub tlvs: Tlvs,
}

impl CancelBroadcastSm {
    pub(crate) fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, CancelBroadcastSm> {
        move |i| {
            let (i, service_type) = c_octet("service_type", CommandStatus::ESME_RINVSERTYP)(i)?;
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            let cancel = CancelBroadcastSm {
                service_type,
                message_id,
                source_addr,
                tlvs,
            };
            Ok((i, cancel))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.service_type.encoded_len()
            + self.message_id.encoded_len()
            + self.source_addr.encoded_len()
            + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.service_type.encode(out);
        self.message_id.encode(out);
        self.source_addr.encode(out);
        self.tlvs.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::CommandId;

    // The four mandatory TLVs: area (format 0, "A1"), content type (network 1, type 0x0001), rep num 3, frequency
    // interval (unit 0x09 minutes, 30).
    const MANDATORY_TLVS: &str = concat!(
        "06060003004131",
        "06010003010001",
        "060400020003",
        "0605000309001e",
    );

    fn broadcast_body(tlvs: &str) -> String {
        // service_type "", source 5/0 "ACME", message_id "", priority 1, no times, replace 0, data_coding 0, msg id 0.
        format!("00050041434d450000010000000000{tlvs}")
    }

    #[test]
    fn broadcast_sm_with_its_mandatory_tlvs_round_trips() {
        let f = frame(0x111, 0, 20, &broadcast_body(MANDATORY_TLVS));
        let pdu = round_trip(&hex_string(&f));
        let Body::BroadcastSm(b) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(b.source_addr.addr, "ACME");
        assert_eq!(b.priority_flag, PriorityFlag(1));
        assert_eq!(b.broadcast_rep_num(), Some(3));
        assert_eq!(
            b.broadcast_areas().map(|a| &a[..]).collect::<Vec<_>>(),
            [&b"\x00A1"[..]]
        );
        assert_eq!(b.missing_tlv(), None);
    }

    #[test]
    fn broadcast_sm_without_a_mandatory_tlv_answers_missing_tlv() {
        let without_rep_num = MANDATORY_TLVS.replace("060400020003", "");
        let e = Pdu::decode(frame(0x111, 0, 20, &broadcast_body(&without_rep_num))).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RMISSINGTLV);
        assert_eq!(e.field, "broadcast_rep_num");
        let resp = e.response().unwrap();
        assert_eq!(resp.command_id(), CommandId::BROADCAST_SM_RESP);
        assert_eq!(resp.body, Body::BroadcastSmResp(BroadcastSmResp::empty()));
    }

    #[test]
    fn too_long_broadcast_fields_answer_their_own_statuses() {
        let cases = [
            ("41424344454600".to_owned(), CommandStatus::ESME_RINVSERTYP),
            (
                format!("000101{}00", "31".repeat(21)),
                CommandStatus::ESME_RINVSRCADR,
            ),
            (
                format!("00000000{}00", "41".repeat(65)),
                CommandStatus::ESME_RINVMSGID,
            ),
            (
                format!("0000000000 01{}00", "30".repeat(17)).replace(' ', ""),
                CommandStatus::ESME_RINVSCHED,
            ),
            (
                format!("0000000000 0100{}00", "30".repeat(17)).replace(' ', ""),
                CommandStatus::ESME_RINVEXPIRY,
            ),
        ];
        for (body, status) in cases {
            let e = Pdu::decode(frame(0x111, 0, 20, &body)).unwrap_err();
            assert_eq!(e.status, status, "{body}");
        }
    }

    #[test]
    fn broadcast_sm_resp_with_an_error_status_tlv_round_trips() {
        // message_id "B7", broadcast_error_status ESME_RINVBCASTAREAFMT.
        let pdu = round_trip(concat!(
            "0000001b",
            "80000111",
            "00000109",
            "00000014",
            "423700",
            "0607000400000109",
        ));
        let Body::BroadcastSmResp(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.message_id.unwrap(), "B7");
        assert_eq!(
            r.tlvs.get(TlvTag::BROADCAST_ERROR_STATUS).map(|v| &v[..]),
            Some(&[0, 0, 1, 9][..])
        );
    }

    #[test]
    fn broadcast_sm_resp_error_without_a_body_round_trips() {
        let pdu = round_trip("00000010800001110000010d00000014");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RBCASTFAIL);
        assert_eq!(pdu.body, Body::BroadcastSmResp(BroadcastSmResp::empty()));
    }

    #[test]
    fn query_broadcast_sm_round_trips() {
        // message_id "B7", source 5/0 "ACME", user_message_reference 0x0102.
        let pdu = round_trip(concat!(
            "00000020",
            "00000112",
            "00000000",
            "00000015",
            "423700",
            "050041434d4500",
            "020400020102",
        ));
        let Body::QueryBroadcastSm(q) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(q.message_id, "B7");
        assert_eq!(q.tlvs.user_message_reference(), Some(0x0102));
    }

    #[test]
    fn too_long_query_broadcast_message_id_answers_invalid_message_id() {
        let e =
            Pdu::decode(frame(0x112, 0, 21, &format!("{}00000000", "41".repeat(65)))).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVMSGID);
        assert_eq!(
            e.response().unwrap().body,
            Body::QueryBroadcastSmResp(QueryBroadcastSmResp::empty())
        );
    }

    #[test]
    fn query_broadcast_sm_resp_with_its_state_round_trips() {
        // message_id "B7", message_state DELIVERED, broadcast_area_identifier (0, "A1"), broadcast_area_success 100.
        let pdu = round_trip(concat!(
            "00000024",
            "80000112",
            "00000000",
            "00000015",
            "423700",
            "0427000102",
            "06060003004131",
            "0608000164",
        ));
        let Body::QueryBroadcastSmResp(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.tlvs.message_state(), Some(2));
    }

    #[test]
    fn cancel_broadcast_sm_round_trips() {
        // service_type "", message_id "B7", source 5/0 "ACME", no TLVs.
        let pdu = round_trip(concat!(
            "0000001b",
            "00000113",
            "00000000",
            "00000016",
            "00",
            "423700",
            "050041434d4500",
        ));
        let Body::CancelBroadcastSm(c) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(c.message_id, "B7");
        assert_eq!(c.source_addr.addr, "ACME");
    }

    #[test]
    fn too_long_cancel_broadcast_fields_answer_their_own_statuses() {
        let cases = [
            ("41424344454600".to_owned(), CommandStatus::ESME_RINVSERTYP),
            (
                format!("00{}00", "41".repeat(65)),
                CommandStatus::ESME_RINVMSGID,
            ),
            (
                format!("00000505{}00", "41".repeat(21)),
                CommandStatus::ESME_RINVSRCADR,
            ),
        ];
        for (body, status) in cases {
            let e = Pdu::decode(frame(0x113, 0, 22, &body)).unwrap_err();
            assert_eq!(e.status, status, "{body}");
            assert_eq!(e.response().unwrap().body, Body::CancelBroadcastSmResp);
        }
    }

    #[test]
    fn cancel_broadcast_sm_resp_round_trips() {
        let pdu = round_trip("00000010800001130000010f00000016");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RBCASTCANCELFAIL);
        assert_eq!(pdu.body, Body::CancelBroadcastSmResp);
    }

    fn hex_string(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
