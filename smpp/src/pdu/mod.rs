//! Every PDU of SMPP 3.4 and SMPP 5.0's broadcast family: one file per family with its type, nom parser and encoder.
//!
//! A [`Pdu`] is a sequence number, a status and a [`Body`]; the `command_id` is derived from the body, never stored, so the
//! two cannot disagree. Decoding takes one whole frame (see [`crate::frame`]) as `Bytes`; C-Octet Strings are copied into
//! their fields (see [`crate::types::COctetString`]), message octets and TLV values are slices of the frame.

mod alert_notification;
mod bind;
mod broadcast;
mod cancel_sm;
mod data_sm;
mod query_sm;
mod replace_sm;
mod submit_multi;
mod submit_sm;

pub use alert_notification::AlertNotification;
pub use bind::{Bind, BindResp, Outbind, PASSWORD_MAX};
pub use broadcast::{
    BroadcastSm, BroadcastSmResp, CancelBroadcastSm, QueryBroadcastSm, QueryBroadcastSmResp,
};
pub use cancel_sm::CancelSm;
pub use data_sm::{DataSm, DataSmResp};
pub use query_sm::{MessageState, QuerySm, QuerySmResp};
pub use replace_sm::ReplaceSm;
pub use submit_multi::{
    CountedList, DestAddress, DestAddresses, SubmitMulti, SubmitMultiResp, UnsuccessSme,
    UnsuccessSmes,
};
pub use submit_sm::{DeliverSm, DeliverSmResp, SubmitSm, SubmitSmResp, MAX_SHORT_MESSAGE};

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, Fault, PResult};
use crate::{CommandId, CommandStatus, Header, SequenceNumber, HEADER_LEN};

/// A whole PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    /// Pairs a response with its request.
    pub sequence_number: SequenceNumber,
    /// Zero on requests; the outcome on responses.
    pub command_status: CommandStatus,
    /// What the PDU says.
    pub body: Body,
}

/// The body of a PDU, one variant per `command_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// `bind_transmitter` (SMPP 3.4 §4.1.1).
    BindTransmitter(Bind),
    /// `bind_transmitter_resp` (§4.1.2).
    BindTransmitterResp(BindResp),
    /// `bind_receiver` (§4.1.3).
    BindReceiver(Bind),
    /// `bind_receiver_resp` (§4.1.4).
    BindReceiverResp(BindResp),
    /// `bind_transceiver` (§4.1.5).
    BindTransceiver(Bind),
    /// `bind_transceiver_resp` (§4.1.6).
    BindTransceiverResp(BindResp),
    /// `outbind` (§4.1.7).
    Outbind(Outbind),
    /// `unbind` (§4.2.1).
    Unbind,
    /// `unbind_resp` (§4.2.2).
    UnbindResp,
    /// `generic_nack` (§4.3.1).
    GenericNack,
    /// `submit_sm` (§4.4.1).
    SubmitSm(SubmitSm),
    /// `submit_sm_resp` (§4.4.2).
    SubmitSmResp(SubmitSmResp),
    /// `deliver_sm` (§4.6.1).
    DeliverSm(DeliverSm),
    /// `deliver_sm_resp` (§4.6.2).
    DeliverSmResp(DeliverSmResp),
    /// `submit_multi` (§4.5.1).
    SubmitMulti(SubmitMulti),
    /// `submit_multi_resp` (§4.5.2).
    SubmitMultiResp(SubmitMultiResp),
    /// `data_sm` (§4.7.1).
    DataSm(DataSm),
    /// `data_sm_resp` (§4.7.2).
    DataSmResp(DataSmResp),
    /// `query_sm` (§4.8.1).
    QuerySm(QuerySm),
    /// `query_sm_resp` (§4.8.2).
    QuerySmResp(QuerySmResp),
    /// `cancel_sm` (§4.9.1).
    CancelSm(CancelSm),
    /// `cancel_sm_resp` (§4.9.2), which has no body.
    CancelSmResp,
    /// `replace_sm` (§4.10.1).
    ReplaceSm(ReplaceSm),
    /// `replace_sm_resp` (§4.10.2), which has no body.
    ReplaceSmResp,
    /// `enquire_link` (§4.11.1).
    EnquireLink,
    /// `enquire_link_resp` (§4.11.2).
    EnquireLinkResp,
    /// `alert_notification` (§4.12.1), which has no response.
    AlertNotification(AlertNotification),
    /// `broadcast_sm` (SMPP 5.0 §4.4.1.1).
    BroadcastSm(BroadcastSm),
    /// `broadcast_sm_resp` (SMPP 5.0 §4.4.1.2).
    BroadcastSmResp(BroadcastSmResp),
    /// `query_broadcast_sm` (SMPP 5.0 §4.6.1.1).
    QueryBroadcastSm(QueryBroadcastSm),
    /// `query_broadcast_sm_resp` (SMPP 5.0 §4.6.1.3).
    QueryBroadcastSmResp(QueryBroadcastSmResp),
    /// `cancel_broadcast_sm` (SMPP 5.0 §4.6.2.1).
    CancelBroadcastSm(CancelBroadcastSm),
    /// `cancel_broadcast_sm_resp` (SMPP 5.0 §4.6.2.3), which has no body.
    CancelBroadcastSmResp,
}

impl Body {
    /// The `command_id` of this body.
    pub fn command_id(&self) -> CommandId {
        match self {
            Body::BindTransmitter(_) => CommandId::BIND_TRANSMITTER,
            Body::BindTransmitterResp(_) => CommandId::BIND_TRANSMITTER_RESP,
            Body::BindReceiver(_) => CommandId::BIND_RECEIVER,
            Body::BindReceiverResp(_) => CommandId::BIND_RECEIVER_RESP,
            Body::BindTransceiver(_) => CommandId::BIND_TRANSCEIVER,
            Body::BindTransceiverResp(_) => CommandId::BIND_TRANSCEIVER_RESP,
            Body::Outbind(_) => CommandId::OUTBIND,
            Body::Unbind => CommandId::UNBIND,
            Body::UnbindResp => CommandId::UNBIND_RESP,
            Body::GenericNack => CommandId::GENERIC_NACK,
            Body::SubmitSm(_) => CommandId::SUBMIT_SM,
            Body::SubmitSmResp(_) => CommandId::SUBMIT_SM_RESP,
            Body::DeliverSm(_) => CommandId::DELIVER_SM,
            Body::DeliverSmResp(_) => CommandId::DELIVER_SM_RESP,
            Body::SubmitMulti(_) => CommandId::SUBMIT_MULTI,
            Body::SubmitMultiResp(_) => CommandId::SUBMIT_MULTI_RESP,
            Body::DataSm(_) => CommandId::DATA_SM,
            Body::DataSmResp(_) => CommandId::DATA_SM_RESP,
            Body::QuerySm(_) => CommandId::QUERY_SM,
            Body::QuerySmResp(_) => CommandId::QUERY_SM_RESP,
            Body::CancelSm(_) => CommandId::CANCEL_SM,
            Body::CancelSmResp => CommandId::CANCEL_SM_RESP,
            Body::ReplaceSm(_) => CommandId::REPLACE_SM,
            Body::ReplaceSmResp => CommandId::REPLACE_SM_RESP,
            Body::EnquireLink => CommandId::ENQUIRE_LINK,
            Body::EnquireLinkResp => CommandId::ENQUIRE_LINK_RESP,
            Body::AlertNotification(_) => CommandId::ALERT_NOTIFICATION,
            Body::BroadcastSm(_) => CommandId::BROADCAST_SM,
            Body::BroadcastSmResp(_) => CommandId::BROADCAST_SM_RESP,
            Body::QueryBroadcastSm(_) => CommandId::QUERY_BROADCAST_SM,
            Body::QueryBroadcastSmResp(_) => CommandId::QUERY_BROADCAST_SM_RESP,
            Body::CancelBroadcastSm(_) => CommandId::CANCEL_BROADCAST_SM,
            Body::CancelBroadcastSmResp => CommandId::CANCEL_BROADCAST_SM_RESP,
        }
    }

    /// Octets of the body on the wire.
    pub fn encoded_len(&self) -> usize {
        match self {
            Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b) => {
                b.encoded_len()
            }
            Body::BindTransmitterResp(b)
            | Body::BindReceiverResp(b)
            | Body::BindTransceiverResp(b) => b.encoded_len(),
            Body::Outbind(b) => b.encoded_len(),
            Body::Unbind
            | Body::UnbindResp
            | Body::GenericNack
            | Body::EnquireLink
            | Body::EnquireLinkResp
            | Body::CancelSmResp
            | Body::ReplaceSmResp
            | Body::CancelBroadcastSmResp => 0,
            Body::SubmitSm(b) | Body::DeliverSm(b) => b.encoded_len(),
            Body::SubmitSmResp(b)
            | Body::DeliverSmResp(b)
            | Body::DataSmResp(b)
            | Body::BroadcastSmResp(b)
            | Body::QueryBroadcastSmResp(b) => b.encoded_len(),
            Body::SubmitMulti(b) => b.encoded_len(),
            Body::SubmitMultiResp(b) => b.encoded_len(),
            Body::DataSm(b) => b.encoded_len(),
            Body::QuerySm(b) => b.encoded_len(),
            Body::QuerySmResp(b) => b.encoded_len(),
            Body::CancelSm(b) => b.encoded_len(),
            Body::ReplaceSm(b) => b.encoded_len(),
            Body::AlertNotification(b) => b.encoded_len(),
            Body::BroadcastSm(b) => b.encoded_len(),
            Body::QueryBroadcastSm(b) => b.encoded_len(),
            Body::CancelBroadcastSm(b) => b.encoded_len(),
        }
    }

    fn encode(&self, out: &mut BytesMut) {
        match self {
            Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b) => {
                b.encode(out)
            }
            Body::BindTransmitterResp(b)
            | Body::BindReceiverResp(b)
            | Body::BindTransceiverResp(b) => b.encode(out),
            Body::Outbind(b) => b.encode(out),
            Body::Unbind
            | Body::UnbindResp
            | Body::GenericNack
            | Body::EnquireLink
            | Body::EnquireLinkResp
            | Body::CancelSmResp
            | Body::ReplaceSmResp
            | Body::CancelBroadcastSmResp => {}
            Body::SubmitSm(b) | Body::DeliverSm(b) => b.encode(out),
            Body::SubmitSmResp(b)
            | Body::DeliverSmResp(b)
            | Body::DataSmResp(b)
            | Body::BroadcastSmResp(b)
            | Body::QueryBroadcastSmResp(b) => b.encode(out),
            Body::SubmitMulti(b) => b.encode(out),
            Body::SubmitMultiResp(b) => b.encode(out),
            Body::DataSm(b) => b.encode(out),
            Body::QuerySm(b) => b.encode(out),
            Body::QuerySmResp(b) => b.encode(out),
            Body::CancelSm(b) => b.encode(out),
            Body::ReplaceSm(b) => b.encode(out),
            Body::AlertNotification(b) => b.encode(out),
            Body::BroadcastSm(b) => b.encode(out),
            Body::QueryBroadcastSm(b) => b.encode(out),
            Body::CancelBroadcastSm(b) => b.encode(out),
        }
    }

    /// Decodes the body of a whole frame with this header.
    // Inlined into `Pdu::decode` with `SubmitSm::decode`, which saves two moves of the body by `memcpy`.
    #[inline(always)]
    fn decode(header: &Header, frame: Bytes) -> Result<Body, Fault> {
        match header.command_id {
            // The hot path: submit_sm and deliver_sm hand the frame itself to `short_message`.
            CommandId::SUBMIT_SM => SubmitSm::decode(frame).map(Body::SubmitSm),
            CommandId::DELIVER_SM => SubmitSm::decode(frame).map(Body::DeliverSm),
            _ => match Body::parse(header, &frame, &frame[HEADER_LEN..]) {
                Ok(([], body)) => Ok(body),
                Ok(_) => Err(Fault::short("trailing octets")),
                Err(e) => Err(codec::fault_of(e)),
            },
        }
    }

    /// Parses the body of a PDU with this header; `src` is the whole frame, `body` its octets after the header.
    fn parse<'a>(header: &Header, src: &'a Bytes, body: &'a [u8]) -> PResult<'a, Body> {
        // A response with a non-zero status may leave its body out (SMPP 3.4 §4.1.2, §4.4.2, …).
        let empty_error = header.command_status != CommandStatus::ESME_ROK && body.is_empty();
        match header.command_id {
            CommandId::BIND_TRANSMITTER => {
                Bind::parse()(body).map(|(i, b)| (i, Body::BindTransmitter(b)))
            }
            CommandId::BIND_RECEIVER => {
                Bind::parse()(body).map(|(i, b)| (i, Body::BindReceiver(b)))
            }
            CommandId::BIND_TRANSCEIVER => {
                Bind::parse()(body).map(|(i, b)| (i, Body::BindTransceiver(b)))
            }
            CommandId::BIND_TRANSMITTER_RESP => BindResp::parse(src, empty_error)(body)
                .map(|(i, b)| (i, Body::BindTransmitterResp(b))),
            CommandId::BIND_RECEIVER_RESP => {
                BindResp::parse(src, empty_error)(body).map(|(i, b)| (i, Body::BindReceiverResp(b)))
            }
            CommandId::BIND_TRANSCEIVER_RESP => BindResp::parse(src, empty_error)(body)
                .map(|(i, b)| (i, Body::BindTransceiverResp(b))),
            CommandId::OUTBIND => Outbind::parse()(body).map(|(i, b)| (i, Body::Outbind(b))),
            CommandId::UNBIND => codec::end(body).map(|(i, _)| (i, Body::Unbind)),
            CommandId::UNBIND_RESP => codec::end(body).map(|(i, _)| (i, Body::UnbindResp)),
            CommandId::GENERIC_NACK => codec::end(body).map(|(i, _)| (i, Body::GenericNack)),
            CommandId::ENQUIRE_LINK => codec::end(body).map(|(i, _)| (i, Body::EnquireLink)),
            CommandId::ENQUIRE_LINK_RESP => {
                codec::end(body).map(|(i, _)| (i, Body::EnquireLinkResp))
            }
            CommandId::SUBMIT_SM_RESP => {
                SubmitSmResp::parse(src, empty_error)(body).map(|(i, b)| (i, Body::SubmitSmResp(b)))
            }
            CommandId::DELIVER_SM_RESP => SubmitSmResp::parse(src, empty_error)(body)
                .map(|(i, b)| (i, Body::DeliverSmResp(b))),
            CommandId::SUBMIT_MULTI => {
                SubmitMulti::parse(src)(body).map(|(i, b)| (i, Body::SubmitMulti(b)))
            }
            CommandId::SUBMIT_MULTI_RESP => SubmitMultiResp::parse(src, empty_error)(body)
                .map(|(i, b)| (i, Body::SubmitMultiResp(b))),
            CommandId::DATA_SM => DataSm::parse(src)(body).map(|(i, b)| (i, Body::DataSm(b))),
            CommandId::DATA_SM_RESP => {
                DataSmResp::parse(src, empty_error)(body).map(|(i, b)| (i, Body::DataSmResp(b)))
            }
            CommandId::QUERY_SM => QuerySm::parse()(body).map(|(i, b)| (i, Body::QuerySm(b))),
            CommandId::QUERY_SM_RESP => {
                QuerySmResp::parse(empty_error)(body).map(|(i, b)| (i, Body::QuerySmResp(b)))
            }
            CommandId::CANCEL_SM => CancelSm::parse()(body).map(|(i, b)| (i, Body::CancelSm(b))),
            CommandId::CANCEL_SM_RESP => codec::end(body).map(|(i, _)| (i, Body::CancelSmResp)),
            CommandId::REPLACE_SM => {
                ReplaceSm::parse(src)(body).map(|(i, b)| (i, Body::ReplaceSm(b)))
            }
            CommandId::REPLACE_SM_RESP => codec::end(body).map(|(i, _)| (i, Body::ReplaceSmResp)),
            CommandId::ALERT_NOTIFICATION => {
                AlertNotification::parse(src)(body).map(|(i, b)| (i, Body::AlertNotification(b)))
            }
            CommandId::BROADCAST_SM => {
                BroadcastSm::parse(src)(body).map(|(i, b)| (i, Body::BroadcastSm(b)))
            }
            CommandId::BROADCAST_SM_RESP => BroadcastSmResp::parse(src, empty_error)(body)
                .map(|(i, b)| (i, Body::BroadcastSmResp(b))),
            CommandId::QUERY_BROADCAST_SM => {
                QueryBroadcastSm::parse(src)(body).map(|(i, b)| (i, Body::QueryBroadcastSm(b)))
            }
            CommandId::QUERY_BROADCAST_SM_RESP => {
                QueryBroadcastSmResp::parse(src, empty_error)(body)
                    .map(|(i, b)| (i, Body::QueryBroadcastSmResp(b)))
            }
            CommandId::CANCEL_BROADCAST_SM => {
                CancelBroadcastSm::parse(src)(body).map(|(i, b)| (i, Body::CancelBroadcastSm(b)))
            }
            CommandId::CANCEL_BROADCAST_SM_RESP => {
                codec::end(body).map(|(i, _)| (i, Body::CancelBroadcastSmResp))
            }
            _ => Err(nom::Err::Failure(Fault::new(
                CommandStatus::ESME_RINVCMDID,
                "command_id",
            ))),
        }
    }

    /// The body of an error response to `request`, with no fields (SMPP 3.4 lets an error response leave its body out);
    /// `None` when `request` has no response of its own (unknown ids, responses, outbind, alert_notification).
    pub fn error_response_to(request: CommandId) -> Option<Body> {
        Some(match request {
            CommandId::BIND_TRANSMITTER => Body::BindTransmitterResp(BindResp::empty()),
            CommandId::BIND_RECEIVER => Body::BindReceiverResp(BindResp::empty()),
            CommandId::BIND_TRANSCEIVER => Body::BindTransceiverResp(BindResp::empty()),
            CommandId::UNBIND => Body::UnbindResp,
            CommandId::ENQUIRE_LINK => Body::EnquireLinkResp,
            CommandId::SUBMIT_SM => Body::SubmitSmResp(SubmitSmResp::empty()),
            CommandId::DELIVER_SM => Body::DeliverSmResp(SubmitSmResp::empty()),
            CommandId::SUBMIT_MULTI => Body::SubmitMultiResp(SubmitMultiResp::empty()),
            CommandId::DATA_SM => Body::DataSmResp(DataSmResp::empty()),
            CommandId::QUERY_SM => Body::QuerySmResp(QuerySmResp::empty()),
            CommandId::CANCEL_SM => Body::CancelSmResp,
            CommandId::REPLACE_SM => Body::ReplaceSmResp,
            CommandId::BROADCAST_SM => Body::BroadcastSmResp(BroadcastSmResp::empty()),
            CommandId::QUERY_BROADCAST_SM => {
                Body::QueryBroadcastSmResp(QueryBroadcastSmResp::empty())
            }
            CommandId::CANCEL_BROADCAST_SM => Body::CancelBroadcastSmResp,
            _ => return None,
        })
    }
}

impl Pdu {
    /// A request (or a response with status `ESME_ROK`).
    pub fn new(sequence_number: SequenceNumber, body: Body) -> Pdu {
        Pdu {
            sequence_number,
            command_status: CommandStatus::ESME_ROK,
            body,
        }
    }

    /// The `command_id`, derived from the body.
    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Octets on the wire, header included.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body.encoded_len()
    }

    /// The header this PDU encodes with.
    pub fn header(&self) -> Header {
        Header {
            // Bodies are bounded well under 4 GiB: the largest field is message_payload's 65535 octets.
            command_length: self.encoded_len() as u32,
            command_id: self.command_id(),
            command_status: self.command_status,
            sequence_number: self.sequence_number,
        }
    }

    /// Appends the PDU's bytes to `out`, after one reservation of their exact length; the bodies reserve nothing more.
    pub fn encode(&self, out: &mut BytesMut) {
        let header = self.header();
        out.reserve(header.command_length as usize);
        let mut octets = [0u8; HEADER_LEN];
        for (word, value) in octets.chunks_exact_mut(4).zip([
            header.command_length,
            header.command_id.0,
            header.command_status.0,
            header.sequence_number.0,
        ]) {
            word.copy_from_slice(&value.to_be_bytes());
        }
        let start = out.len();
        out.put_slice(&octets);
        self.body.encode(out);
        debug_assert_eq!(
            out.len() - start,
            header.command_length as usize,
            "{self:?}"
        );
    }

    /// The PDU's bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// Decodes one whole frame (header included, as cut by [`crate::frame`]). A body that does not parse is a per-PDU
    /// error that keeps the header, so the session can answer it and keep the bind.
    pub fn decode(frame: Bytes) -> Result<Pdu, PduError> {
        let Some(header) = Header::peek(&frame) else {
            return Err(PduError::unframed(&frame));
        };
        if header.command_length as usize != frame.len() {
            return Err(PduError {
                header,
                status: CommandStatus::ESME_RINVCMDLEN,
                field: "command_length",
            });
        }
        match Body::decode(&header, frame) {
            Ok(body) => Ok(Pdu {
                sequence_number: header.sequence_number,
                command_status: header.command_status,
                body,
            }),
            Err(f) => Err(PduError {
                header,
                status: f.status,
                field: f.field,
            }),
        }
    }
}

/// A PDU whose body did not parse: its header, the status to answer with and the field at fault. The bind survives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} seq {}: bad {field}: {status}", header.command_id, header.sequence_number)]
pub struct PduError {
    /// The header as received.
    pub header: Header,
    /// The status to answer with.
    pub status: CommandStatus,
    /// The spec's name of the field at fault.
    pub field: &'static str,
}

impl PduError {
    fn unframed(frame: &[u8]) -> PduError {
        let mut h = [0u8; HEADER_LEN];
        let n = frame.len().min(HEADER_LEN);
        h[..n].copy_from_slice(&frame[..n]);
        let header = Header::peek(&h).unwrap_or(Header {
            command_length: 0,
            command_id: CommandId::GENERIC_NACK,
            command_status: CommandStatus::ESME_ROK,
            sequence_number: SequenceNumber(0),
        });
        PduError {
            header,
            status: CommandStatus::ESME_RINVCMDLEN,
            field: "command_length",
        }
    }

    /// The answer to send: the request's own response with the error status when the request is known and expects one,
    /// `generic_nack` otherwise (an unknown `command_id`, or a frame too short to carry a header); `None` for a malformed response, which is not answered
    /// (answering it would invite the peer to answer the answer).
    pub fn response(&self) -> Option<Pdu> {
        let id = self.header.command_id;
        if id.is_response() && id.name().is_some() {
            return None;
        }
        // A known request gets its own response, which clients pair with their request more reliably than generic_nack.
        let body = Body::error_response_to(id).unwrap_or(Body::GenericNack);
        Some(Pdu {
            sequence_number: self.header.sequence_number,
            command_status: self.status,
            body,
        })
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Bytes from a hex string.
    pub fn hex(s: &str) -> Bytes {
        Bytes::from(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>(),
        )
    }

    /// A frame with a correct `command_length` around a body given in hex.
    pub fn frame(command_id: u32, status: u32, seq: u32, body_hex: &str) -> Bytes {
        let body = hex(body_hex);
        let mut out = Vec::with_capacity(16 + body.len());
        out.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
        out.extend_from_slice(&command_id.to_be_bytes());
        out.extend_from_slice(&status.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&body);
        Bytes::from(out)
    }

    /// Decodes, checks the re-encoding is byte-identical, and returns the PDU.
    pub fn round_trip(hex_pdu: &str) -> Pdu {
        let frame = hex(hex_pdu);
        let pdu = Pdu::decode(frame.clone()).unwrap_or_else(|e| panic!("{hex_pdu}: {e}"));
        assert_eq!(pdu.to_bytes(), frame, "re-encoding differs for {pdu:?}");
        assert_eq!(pdu.encoded_len(), frame.len());
        pdu
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn enquire_link_round_trips() {
        let pdu = round_trip("00000010000000150000000000000007");
        assert_eq!(pdu, Pdu::new(SequenceNumber(7), Body::EnquireLink));
    }

    #[test]
    fn unknown_command_id_is_answered_with_generic_nack() {
        let e = Pdu::decode(hex("00000010000000990000000000000009")).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVCMDID);
        let nack = e.response().unwrap();
        assert_eq!(nack.body, Body::GenericNack);
        assert_eq!(nack.sequence_number, SequenceNumber(9));
        assert_eq!(nack.command_status, CommandStatus::ESME_RINVCMDID);
    }

    #[test]
    fn enquire_link_with_a_body_is_a_length_error() {
        let e = Pdu::decode(hex("0000001100000015000000000000000100")).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVCMDLEN);
    }

    #[test]
    fn malformed_responses_are_not_answered() {
        let e = Pdu::decode(hex("000000128000000400000000000000034142")).unwrap_err();
        assert_eq!(e.response(), None);
    }
}
