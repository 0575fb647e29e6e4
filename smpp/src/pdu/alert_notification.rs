//! alert_notification (SMPP 3.4 §4.12): the SMSC tells an ESME that a mobile it asked about is reachable again.
//! It has no response.

use bytes::{Bytes, BytesMut};

use crate::codec::{self, address, PResult};
use crate::tlv::{TlvTag, Tlvs};
use crate::types::Address;
use crate::CommandStatus;

/// The body of `alert_notification` (SMPP 3.4 §4.12.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AlertNotification {
    /// The mobile that became available.
    pub source_addr: Address<65>,
    /// The ESME that asked to be told (with `set_dpf` on an earlier submit).
    pub esme_addr: Address<65>,
    /// Optional parameters: `ms_availability_status`.
    pub tlvs: Tlvs,
}

impl AlertNotification {
    pub(crate) fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, AlertNotification> {
        move |i| {
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, esme_addr) = address("esme_addr", CommandStatus::ESME_RINVDSTADR)(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            Ok((
                i,
                AlertNotification {
                    source_addr,
                    esme_addr,
                    tlvs,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.source_addr.encoded_len() + self.esme_addr.encoded_len() + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.source_addr.encode(out);
        self.esme_addr.encode(out);
        self.tlvs.encode(out);
    }

    /// `ms_availability_status` (SMPP 3.4 §5.3.2.30): 0 available, 1 denied, 2 unavailable; absent means available.
    pub fn ms_availability_status(&self) -> Option<u8> {
        self.tlvs
            .get(TlvTag::MS_AVAILABILITY_STATUS)
            .and_then(|v| v.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::CommandStatus;

    #[test]
    fn alert_notification_round_trips() {
        // source 1/1 "4915", esme 0/0 "sluice", ms_availability_status 0.
        let pdu = round_trip(concat!(
            "00000025",
            "00000102",
            "00000000",
            "00000004",
            "01013439313500",
            "0000736c7569636500",
            "0422000100",
        ));
        let Body::AlertNotification(a) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(a.source_addr.addr, "4915");
        assert_eq!(a.esme_addr.addr, "sluice");
        assert_eq!(a.ms_availability_status(), Some(0));
    }

    #[test]
    fn alert_notification_addresses_hold_64_characters() {
        let body = format!("0101{}000000{}00", "31".repeat(64), "61".repeat(64));
        let pdu = Pdu::decode(frame(0x102, 0, 4, &body)).unwrap();
        assert_eq!(pdu.encoded_len(), 16 + body.len() / 2);
    }

    #[test]
    fn too_long_alert_addresses_answer_their_own_statuses() {
        let e = Pdu::decode(frame(0x102, 0, 4, &format!("0101{}00", "31".repeat(65)))).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVSRCADR);
        let e = Pdu::decode(frame(
            0x102,
            0,
            4,
            &format!("0000000000{}00", "61".repeat(65)),
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVDSTADR);
        // alert_notification has no response of its own, so a bad one is answered with generic_nack.
        assert_eq!(e.response().unwrap().body, Body::GenericNack);
    }

    #[test]
    fn ms_availability_status_of_the_wrong_size_is_a_tlv_length_error() {
        let e = Pdu::decode(frame(0x102, 0, 4, "0000000000000422000200ff")).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVTLVLEN);
    }
}
