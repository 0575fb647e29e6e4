//! query_sm and query_sm_resp (SMPP 3.4 §4.8): the state of a message submitted earlier.

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::codec::{self, address, c_octet, u8_field, PResult};
use crate::types::{Address, COctetString};
use crate::CommandStatus;

/// `message_state` (SMPP 3.4 §5.2.28, SMPP 5.0 §4.7.15) as an open newtype, so values the spec does not define survive.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MessageState(pub u8);

impl MessageState {
    /// 0, SMPP 5.0: the message is scheduled and not yet due.
    pub const SCHEDULED: MessageState = MessageState(0);
    /// 1: in transit.
    pub const ENROUTE: MessageState = MessageState(1);
    /// 2: delivered to its destination.
    pub const DELIVERED: MessageState = MessageState(2);
    /// 3: its validity period ran out.
    pub const EXPIRED: MessageState = MessageState(3);
    /// 4: deleted.
    pub const DELETED: MessageState = MessageState(4);
    /// 5: cannot be delivered.
    pub const UNDELIVERABLE: MessageState = MessageState(5);
    /// 6: read by the recipient (manual or user acknowledgement).
    pub const ACCEPTED: MessageState = MessageState(6);
    /// 7: in an invalid state.
    pub const UNKNOWN: MessageState = MessageState(7);
    /// 8: rejected.
    pub const REJECTED: MessageState = MessageState(8);
    /// 9, SMPP 5.0: skipped by the SMSC.
    pub const SKIPPED: MessageState = MessageState(9);

    /// True for the states after which nothing more happens to the message: all but scheduled, enroute and unknown.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::SCHEDULED | Self::ENROUTE | Self::UNKNOWN) && self.0 <= 9
    }
}

impl fmt::Debug for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Self::SCHEDULED => "SCHEDULED",
            Self::ENROUTE => "ENROUTE",
            Self::DELIVERED => "DELIVERED",
            Self::EXPIRED => "EXPIRED",
            Self::DELETED => "DELETED",
            Self::UNDELIVERABLE => "UNDELIVERABLE",
            Self::ACCEPTED => "ACCEPTED",
            Self::UNKNOWN => "UNKNOWN",
            Self::REJECTED => "REJECTED",
            Self::SKIPPED => "SKIPPED",
            _ => return write!(f, "MessageState({:#04x})", self.0),
        };
        f.write_str(name)
    }
}

/// The body of `query_sm` (SMPP 3.4 §4.8.1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QuerySm {
    /// The SMSC's id of the message, from its submit_sm_resp.
    pub message_id: COctetString<65>,
    /// The message's sender, as submitted; it must match for the query to succeed.
    pub source_addr: Address<21>,
}

impl QuerySm {
    pub(crate) fn parse<'a>() -> impl Fn(&'a [u8]) -> PResult<'a, QuerySm> {
        move |i| {
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, ()) = codec::end(i)?;
            Ok((
                i,
                QuerySm {
                    message_id,
                    source_addr,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.message_id.encoded_len() + self.source_addr.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.message_id.encode(out);
        self.source_addr.encode(out);
    }
}

/// The body of `query_sm_resp` (SMPP 3.4 §4.8.2).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QuerySmResp {
    /// The id queried; `None` when an error response left the body out (the other fields are then unused and not sent).
    pub message_id: Option<COctetString<65>>,
    /// When the message reached its final state, as an absolute SMPP time (§7.1.1); empty while it is not final.
    pub final_date: COctetString<17>,
    /// Where the message is.
    pub message_state: MessageState,
    /// The network's error code for a failed message, 0 otherwise (SMPP 3.4 §5.2.29; its meaning is network-specific).
    pub error_code: u8,
}

impl QuerySmResp {
    /// The body of an error response, left out.
    pub fn empty() -> QuerySmResp {
        QuerySmResp::default()
    }

    pub(crate) fn parse<'a>(empty_error: bool) -> impl Fn(&'a [u8]) -> PResult<'a, QuerySmResp> {
        move |i| {
            if empty_error {
                return Ok((i, QuerySmResp::empty()));
            }
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            // The final date is only bounded, not checked as a time: a response is never answered, so refusing an odd
            // date would only lose the state that follows it.
            let (i, final_date) = c_octet("final_date", CommandStatus::ESME_RINVCMDLEN)(i)?;
            let (i, message_state) = u8_field("message_state")(i)?;
            let (i, error_code) = u8_field("error_code")(i)?;
            let (i, ()) = codec::end(i)?;
            Ok((
                i,
                QuerySmResp {
                    message_id: Some(message_id),
                    final_date,
                    message_state: MessageState(message_state),
                    error_code,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.message_id
            .as_ref()
            .map_or(0, |m| m.encoded_len() + self.final_date.encoded_len() + 2)
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        if let Some(m) = &self.message_id {
            m.encode(out);
            self.final_date.encode(out);
            out.put_u8(self.message_state.0);
            out.put_u8(self.error_code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::types::Ton;
    use crate::{CommandId, SmppTime};

    #[test]
    fn query_sm_round_trips() {
        // message_id "abc123", source 5/0 "ACME".
        let pdu = round_trip(concat!(
            "0000001e",
            "00000003",
            "00000000",
            "00000009",
            "61626331323300",
            "050041434d4500",
        ));
        let Body::QuerySm(q) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(q.message_id, "abc123");
        assert_eq!(q.source_addr.ton, Ton::ALPHANUMERIC);
        assert_eq!(q.source_addr.addr, "ACME");
    }

    #[test]
    fn too_long_message_id_answers_invalid_message_id() {
        let body = format!("{}00050041434d4500", "41".repeat(65));
        let e = Pdu::decode(frame(0x03, 0, 9, &body)).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVMSGID);
        let resp = e.response().unwrap();
        assert_eq!(resp.command_id(), CommandId::QUERY_SM_RESP);
        assert_eq!(resp.body, Body::QuerySmResp(QuerySmResp::empty()));
    }

    #[test]
    fn too_long_query_source_answers_invalid_source_address() {
        let body = format!("41000101{}00", "31".repeat(21));
        let e = Pdu::decode(frame(0x03, 0, 9, &body)).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVSRCADR);
    }

    #[test]
    fn query_sm_with_trailing_octets_is_a_length_error() {
        let e = Pdu::decode(frame(0x03, 0, 9, "4100000000ff")).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVCMDLEN);
    }

    #[test]
    fn query_sm_resp_for_a_delivered_message_round_trips() {
        // message_id "abc123", final_date "240301123045000+", DELIVERED, error_code 0.
        let pdu = round_trip(concat!(
            "0000002a",
            "80000003",
            "00000000",
            "00000009",
            "61626331323300",
            "3234303330313132333034353030302b00",
            "02",
            "00",
        ));
        let Body::QuerySmResp(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.message_id.unwrap(), "abc123");
        assert_eq!(r.message_state, MessageState::DELIVERED);
        assert!(r.message_state.is_final());
        assert_eq!(
            SmppTime::parse(r.final_date.as_bytes()),
            Ok(SmppTime::Absolute {
                unix_seconds: 1_709_296_245,
                tenths: 0
            })
        );
    }

    #[test]
    fn query_sm_resp_error_without_a_body_round_trips() {
        let pdu = round_trip("00000010800000030000006700000009");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RQUERYFAIL);
        assert_eq!(pdu.body, Body::QuerySmResp(QuerySmResp::empty()));
    }
}
