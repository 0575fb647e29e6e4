//! cancel_sm (SMPP 3.4 §4.9): cancels one queued message, or all of a sender's messages to one destination.
//! Its response, cancel_sm_resp (§4.9.2), has no body: it is [`crate::Body::CancelSmResp`].

use bytes::BytesMut;

use crate::codec::{self, address, c_octet, PResult};
use crate::types::{Address, COctetString};
use crate::CommandStatus;

/// The body of `cancel_sm` (SMPP 3.4 §4.9.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CancelSm {
    /// With an empty `message_id`, cancels the sender's messages of this service type to `dest_addr`.
    pub service_type: COctetString<6>,
    /// The message to cancel; empty to cancel by `service_type`, `source_addr` and `dest_addr`.
    pub message_id: COctetString<65>,
    /// The messages' sender, as submitted.
    pub source_addr: Address<21>,
    /// The messages' recipient, as submitted.
    pub dest_addr: Address<21>,
}

impl CancelSm {
    pub(crate) fn parse<'a>() -> impl Fn(&'a [u8]) -> PResult<'a, CancelSm> {
        move |i| {
            let (i, service_type) = c_octet("service_type", CommandStatus::ESME_RINVSERTYP)(i)?;
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, dest_addr) = address("destination_addr", CommandStatus::ESME_RINVDSTADR)(i)?;
            let (i, ()) = codec::end(i)?;
            let cancel = CancelSm {
                service_type,
                message_id,
                source_addr,
                dest_addr,
            };
            Ok((i, cancel))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.service_type.encoded_len()
            + self.message_id.encoded_len()
            + self.source_addr.encoded_len()
            + self.dest_addr.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.service_type.encode(out);
        self.message_id.encode(out);
        self.source_addr.encode(out);
        self.dest_addr.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::types::Ton;
    use crate::{CommandId, CommandStatus};

    #[test]
    fn cancel_sm_by_message_id_round_trips() {
        // service_type "", message_id "abc123", source 5/0 "ACME", dest 1/1 "4915".
        let pdu = round_trip(concat!(
            "00000026",
            "00000008",
            "00000000",
            "0000000b",
            "00",
            "61626331323300",
            "050041434d4500",
            "01013439313500",
        ));
        let Body::CancelSm(c) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert!(c.service_type.is_empty());
        assert_eq!(c.message_id, "abc123");
        assert_eq!(c.source_addr.ton, Ton::ALPHANUMERIC);
        assert_eq!(c.dest_addr.addr, "4915");
    }

    #[test]
    fn too_long_cancel_fields_answer_their_own_statuses() {
        let cases = [
            ("41424344454600".to_owned(), CommandStatus::ESME_RINVSERTYP),
            (
                format!("00{}00", "41".repeat(65)),
                CommandStatus::ESME_RINVMSGID,
            ),
            (
                format!("0041000101{}00", "31".repeat(21)),
                CommandStatus::ESME_RINVSRCADR,
            ),
            (
                format!("0041000000000101{}00", "31".repeat(21)),
                CommandStatus::ESME_RINVDSTADR,
            ),
        ];
        for (body, status) in cases {
            let e = Pdu::decode(frame(0x08, 0, 11, &body)).unwrap_err();
            assert_eq!(e.status, status, "{body}");
            assert_eq!(e.response().unwrap().body, Body::CancelSmResp);
        }
    }

    #[test]
    fn cancel_sm_resp_round_trips_with_and_without_an_error() {
        let ok = round_trip("00000010800000080000000000000001");
        assert_eq!(ok.body, Body::CancelSmResp);
        let failed = round_trip("00000010800000080000001100000001");
        assert_eq!(failed.command_status, CommandStatus::ESME_RCANCELFAIL);
        assert_eq!(failed.command_id(), CommandId::CANCEL_SM_RESP);
    }
}
