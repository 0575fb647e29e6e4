//! replace_sm (SMPP 3.4 §4.10): replaces a queued message's text, times and receipt request.
//! Its response, replace_sm_resp (§4.10.2), has no body: it is [`crate::Body::ReplaceSmResp`].

use bytes::{BufMut, Bytes, BytesMut};

use super::submit_sm::{check_time, MAX_SHORT_MESSAGE};
use crate::codec::{self, address, c_octet, octets, u8_field, PResult};
use crate::tlv::Tlvs;
use crate::types::{Address, COctetString, OctetString, RegisteredDelivery};
use crate::CommandStatus;

/// The body of `replace_sm` (SMPP 3.4 §4.10.1; SMPP 5.0 §4.5.3.1 adds TLVs, namely `message_payload`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReplaceSm {
    /// The SMSC's id of the message to replace.
    pub message_id: COctetString<65>,
    /// The message's sender, as submitted; it must match.
    pub source_addr: Address<21>,
    /// The new delivery time: empty for immediate delivery, or an SMPP time (§7.1.1).
    pub schedule_delivery_time: COctetString<17>,
    /// The new expiry: empty to keep the SMSC default, or an SMPP time.
    pub validity_period: COctetString<17>,
    /// Which receipts are wanted.
    pub registered_delivery: RegisteredDelivery,
    /// A canned message's id (0 for none).
    pub sm_default_msg_id: u8,
    /// The new message octets.
    pub short_message: OctetString<MAX_SHORT_MESSAGE>,
    /// SMPP 5.0's optional parameters; SMPP 3.4 peers send none.
    pub tlvs: Tlvs,
}

impl ReplaceSm {
    pub(crate) fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, ReplaceSm> {
        move |i| {
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
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
            let (i, registered_delivery) = u8_field("registered_delivery")(i)?;
            let (i, sm_default_msg_id) = u8_field("sm_default_msg_id")(i)?;
            let (i, sm_length) = u8_field("sm_length")(i)?;
            let (i, short_message) = octets(src, usize::from(sm_length), "short_message")(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            let replace = ReplaceSm {
                message_id,
                source_addr,
                schedule_delivery_time,
                validity_period,
                registered_delivery: RegisteredDelivery(registered_delivery),
                sm_default_msg_id,
                short_message,
                tlvs,
            };
            Ok((i, replace))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.message_id.encoded_len()
            + self.source_addr.encoded_len()
            + self.schedule_delivery_time.encoded_len()
            + self.validity_period.encoded_len()
            + 3
            + self.short_message.len()
            + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.message_id.encode(out);
        self.source_addr.encode(out);
        self.schedule_delivery_time.encode(out);
        self.validity_period.encode(out);
        out.put_u8(self.registered_delivery.0);
        out.put_u8(self.sm_default_msg_id);
        // `short_message` is bounded to 254 octets by its type.
        out.put_u8(self.short_message.len() as u8);
        out.put_slice(self.short_message.as_bytes());
        self.tlvs.encode(out);
    }

    /// The new message octets: `message_payload` when present, `short_message` otherwise.
    pub fn payload(&self) -> &[u8] {
        match self.tlvs.message_payload() {
            Some(p) => p,
            None => self.short_message.as_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::{CommandStatus, SmppTime};
    use std::time::Duration;

    #[test]
    fn replace_sm_with_a_relative_validity_round_trips() {
        // message_id "abc123", source 5/0 "ACME", no schedule, validity "000001000000000R" (one day),
        // registered_delivery 1, sm_default_msg_id 0, "New".
        let pdu = round_trip(concat!(
            "00000036",
            "00000007",
            "00000000",
            "0000000c",
            "61626331323300",
            "050041434d4500",
            "00",
            "3030303030313030303030303030305200",
            "01",
            "00",
            "03",
            "4e6577",
        ));
        let Body::ReplaceSm(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.message_id, "abc123");
        assert_eq!(r.payload(), b"New");
        assert_eq!(
            SmppTime::parse(r.validity_period.as_bytes()),
            Ok(SmppTime::Relative(Duration::from_secs(86_400)))
        );
    }

    #[test]
    fn replace_sm_with_a_message_payload_round_trips() {
        // SMPP 5.0: empty short_message, text in message_payload.
        let pdu = round_trip(concat!(
            "00000020",
            "00000007",
            "00000000",
            "0000000c",
            "4100",
            "000000",
            "00",
            "00",
            "00",
            "00",
            "00",
            "042400024869",
        ));
        let Body::ReplaceSm(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.payload(), b"Hi");
    }

    #[test]
    fn too_long_replace_fields_answer_their_own_statuses() {
        let cases = [
            (
                format!("{}00", "41".repeat(65)),
                CommandStatus::ESME_RINVMSGID,
            ),
            (
                format!("410005 00{}00", "41".repeat(21)).replace(' ', ""),
                CommandStatus::ESME_RINVSRCADR,
            ),
            (
                format!("41000000 00{}00", "30".repeat(17)).replace(' ', ""),
                CommandStatus::ESME_RINVSCHED,
            ),
            (
                format!("41000000 0000{}00", "30".repeat(17)).replace(' ', ""),
                CommandStatus::ESME_RINVEXPIRY,
            ),
            // A validity period of the wrong length is refused as well (§7.1.1).
            (
                "41000000000031323300010000".to_owned(),
                CommandStatus::ESME_RINVEXPIRY,
            ),
            // sm_length over 254.
            (
                format!("410000000000000000ff{}", "41".repeat(255)),
                CommandStatus::ESME_RINVMSGLEN,
            ),
        ];
        for (body, status) in cases {
            let e = Pdu::decode(frame(0x07, 0, 12, &body)).unwrap_err();
            assert_eq!(e.status, status, "{body}");
            assert_eq!(e.response().unwrap().body, Body::ReplaceSmResp);
        }
    }

    #[test]
    fn replace_sm_resp_error_round_trips() {
        let pdu = round_trip("00000010800000070000001300000001");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RREPLACEFAIL);
        assert_eq!(pdu.body, Body::ReplaceSmResp);
    }
}
