//! Roles, bind types, session states, and the spec's "who may send what in which state" matrix as data
//! (SMPP 3.4 §2.3, SMPP 5.0 §2.4).

use std::fmt;

use crate::pdu::{Bind, BindResp, Body};
use crate::CommandId;

/// Which side of the link this endpoint plays.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Role {
    /// The External Short Message Entity: binds, submits, receives deliveries.
    Esme,
    /// The Short Message Service Centre (SMPP 5.0's "MC"): accepts binds, delivers.
    Smsc,
}

impl Role {
    /// The role the other end of the link plays.
    pub fn peer(self) -> Role {
        match self {
            Role::Esme => Role::Smsc,
            Role::Smsc => Role::Esme,
        }
    }
}

/// The three kinds of bind (SMPP 3.4 §2.2.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BindType {
    /// `bind_transmitter`: the ESME submits, the SMSC does not deliver.
    Transmitter,
    /// `bind_receiver`: the SMSC delivers, the ESME does not submit.
    Receiver,
    /// `bind_transceiver`: both directions (SMPP 3.4 §2.2.1, new in 3.4).
    Transceiver,
}

impl BindType {
    /// True when an ESME bound this way may send `submit_sm` and its kin (TX and TRX).
    pub fn can_send_submit(self) -> bool {
        matches!(self, BindType::Transmitter | BindType::Transceiver)
    }

    /// True when an SMSC may send `deliver_sm` to an ESME bound this way (RX and TRX).
    pub fn can_receive_deliver(self) -> bool {
        matches!(self, BindType::Receiver | BindType::Transceiver)
    }

    /// The `bind_*` request id.
    pub fn request_id(self) -> CommandId {
        match self {
            BindType::Transmitter => CommandId::BIND_TRANSMITTER,
            BindType::Receiver => CommandId::BIND_RECEIVER,
            BindType::Transceiver => CommandId::BIND_TRANSCEIVER,
        }
    }

    /// The `bind_*_resp` id.
    pub fn response_id(self) -> CommandId {
        self.request_id().response()
    }

    /// The bind type of a `bind_*` request or `bind_*_resp` id; `None` for every other id.
    pub fn from_command_id(command_id: CommandId) -> Option<BindType> {
        match command_id.request() {
            CommandId::BIND_TRANSMITTER => Some(BindType::Transmitter),
            CommandId::BIND_RECEIVER => Some(BindType::Receiver),
            CommandId::BIND_TRANSCEIVER => Some(BindType::Transceiver),
            _ => None,
        }
    }

    /// The `bind_*` request body of this type.
    pub fn request_body(self, bind: Bind) -> Body {
        match self {
            BindType::Transmitter => Body::BindTransmitter(bind),
            BindType::Receiver => Body::BindReceiver(bind),
            BindType::Transceiver => Body::BindTransceiver(bind),
        }
    }

    /// The `bind_*_resp` body of this type.
    pub fn response_body(self, resp: BindResp) -> Body {
        match self {
            BindType::Transmitter => Body::BindTransmitterResp(resp),
            BindType::Receiver => Body::BindReceiverResp(resp),
            BindType::Transceiver => Body::BindTransceiverResp(resp),
        }
    }
}

/// Where a session stands (SMPP 3.4 §2.2, SMPP 5.0 §2.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum State {
    /// Connected, not yet bound: only binds, outbind and enquire_link may pass.
    Open,
    /// Bound with the given type.
    Bound(BindType),
    /// We sent `unbind` and wait for `unbind_resp` (SMPP 5.0's UNBOUND): we start no new request, responses still
    /// arrive and are matched, and the peer's new requests other than `enquire_link` and `unbind` are refused with
    /// `ESME_RINVBNDSTS`, so the peer keeps them to send again on its next bind.
    Unbinding,
    /// The session is over; the caller should flush [`poll_transmit`](super::Session::poll_transmit) and drop the
    /// transport.
    Closed,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Open => f.write_str("OPEN"),
            State::Bound(BindType::Transmitter) => f.write_str("BOUND_TX"),
            State::Bound(BindType::Receiver) => f.write_str("BOUND_RX"),
            State::Bound(BindType::Transceiver) => f.write_str("BOUND_TRX"),
            State::Unbinding => f.write_str("UNBOUND"),
            State::Closed => f.write_str("CLOSED"),
        }
    }
}

/// A set of states, one bit each, so a row of the matrix is a pair of small constants.
type States = u8;
const OPEN: States = 1 << 0;
const TX: States = 1 << 1;
const RX: States = 1 << 2;
const TRX: States = 1 << 3;
const UNBINDING: States = 1 << 4;
const BOUND: States = TX | RX | TRX;

impl State {
    fn bit(self) -> States {
        match self {
            State::Open => OPEN,
            State::Bound(BindType::Transmitter) => TX,
            State::Bound(BindType::Receiver) => RX,
            State::Bound(BindType::Transceiver) => TRX,
            State::Unbinding => UNBINDING,
            State::Closed => 0,
        }
    }
}

/// One row of the matrix: a request, the states an ESME may send it in, the states an SMSC may send it in.
struct Row {
    request: CommandId,
    from_esme: States,
    from_smsc: States,
}

const fn row(request: CommandId, from_esme: States, from_smsc: States) -> Row {
    Row {
        request,
        from_esme,
        from_smsc,
    }
}

/// SMPP 3.4 §2.3 with SMPP 5.0 §2.4's additions (data_sm both ways, the broadcast family).
///
/// Two choices beyond SMPP 3.4's table, both SMPP 5.0's: `enquire_link` is allowed in OPEN (so a peer may probe a
/// connection before binding), and `enquire_link`/`unbind` are allowed in UNBOUND, so a peer that unbinds at the same
/// moment as us, or checks the link while we wait for `unbind_resp`, is answered rather than rejected.
const MATRIX: &[Row] = &[
    row(CommandId::BIND_TRANSMITTER, OPEN, 0),
    row(CommandId::BIND_RECEIVER, OPEN, 0),
    row(CommandId::BIND_TRANSCEIVER, OPEN, 0),
    row(CommandId::OUTBIND, 0, OPEN),
    row(CommandId::UNBIND, BOUND | UNBINDING, BOUND | UNBINDING),
    row(
        CommandId::ENQUIRE_LINK,
        OPEN | BOUND | UNBINDING,
        OPEN | BOUND | UNBINDING,
    ),
    row(CommandId::SUBMIT_SM, TX | TRX, 0),
    row(CommandId::SUBMIT_MULTI, TX | TRX, 0),
    row(CommandId::QUERY_SM, TX | TRX, 0),
    row(CommandId::CANCEL_SM, TX | TRX, 0),
    row(CommandId::REPLACE_SM, TX | TRX, 0),
    row(CommandId::BROADCAST_SM, TX | TRX, 0),
    row(CommandId::QUERY_BROADCAST_SM, TX | TRX, 0),
    row(CommandId::CANCEL_BROADCAST_SM, TX | TRX, 0),
    row(CommandId::DATA_SM, TX | TRX, RX | TRX),
    row(CommandId::DELIVER_SM, 0, RX | TRX),
    row(CommandId::ALERT_NOTIFICATION, 0, RX | TRX),
];

/// Whether `sender` may send a PDU with `command_id` while the session is in `state`.
///
/// Responses (and `generic_nack`) are allowed in every state but CLOSED: they answer a request that was itself allowed
/// when it arrived. Requests follow the matrix; a request id the matrix does not list is never allowed.
pub fn may_send(sender: Role, state: State, command_id: CommandId) -> bool {
    if state == State::Closed {
        return false;
    }
    if command_id.is_response() {
        return true;
    }
    MATRIX
        .iter()
        .find(|r| r.request == command_id)
        .is_some_and(|r| {
            let states = match sender {
                Role::Esme => r.from_esme,
                Role::Smsc => r.from_smsc,
            };
            states & state.bit() != 0
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRANSMITTER: State = State::Bound(BindType::Transmitter);
    const RECEIVER: State = State::Bound(BindType::Receiver);
    const TRANSCEIVER: State = State::Bound(BindType::Transceiver);

    #[test]
    fn only_binds_outbind_and_enquire_link_pass_in_open() {
        assert!(may_send(
            Role::Esme,
            State::Open,
            CommandId::BIND_TRANSCEIVER
        ));
        assert!(may_send(Role::Smsc, State::Open, CommandId::OUTBIND));
        assert!(may_send(Role::Esme, State::Open, CommandId::ENQUIRE_LINK));
        assert!(!may_send(Role::Esme, State::Open, CommandId::SUBMIT_SM));
        assert!(!may_send(Role::Esme, State::Open, CommandId::UNBIND));
        assert!(!may_send(Role::Smsc, State::Open, CommandId::DELIVER_SM));
    }

    #[test]
    fn a_transmitter_submits_and_receives_no_deliveries() {
        for id in [
            CommandId::SUBMIT_SM,
            CommandId::SUBMIT_MULTI,
            CommandId::DATA_SM,
            CommandId::QUERY_SM,
            CommandId::CANCEL_SM,
            CommandId::REPLACE_SM,
            CommandId::BROADCAST_SM,
        ] {
            assert!(may_send(Role::Esme, TRANSMITTER, id), "{id}");
            assert!(!may_send(Role::Esme, RECEIVER, id), "{id}");
        }
        assert!(!may_send(Role::Smsc, TRANSMITTER, CommandId::DELIVER_SM));
        assert!(!may_send(Role::Smsc, TRANSMITTER, CommandId::DATA_SM));
    }

    #[test]
    fn a_receiver_gets_deliveries_data_sm_and_alerts() {
        for id in [
            CommandId::DELIVER_SM,
            CommandId::DATA_SM,
            CommandId::ALERT_NOTIFICATION,
        ] {
            assert!(may_send(Role::Smsc, RECEIVER, id), "{id}");
            assert!(may_send(Role::Smsc, TRANSCEIVER, id), "{id}");
        }
    }

    #[test]
    fn a_transceiver_is_the_union() {
        assert!(may_send(Role::Esme, TRANSCEIVER, CommandId::SUBMIT_SM));
        assert!(may_send(Role::Smsc, TRANSCEIVER, CommandId::DELIVER_SM));
        assert!(!may_send(Role::Smsc, TRANSCEIVER, CommandId::SUBMIT_SM));
        assert!(!may_send(Role::Esme, TRANSCEIVER, CommandId::DELIVER_SM));
    }

    #[test]
    fn binding_is_not_allowed_once_bound() {
        assert!(!may_send(
            Role::Esme,
            TRANSCEIVER,
            CommandId::BIND_TRANSMITTER
        ));
        assert!(!may_send(Role::Smsc, State::Open, CommandId::BIND_RECEIVER));
    }

    #[test]
    fn responses_pass_in_every_state_but_closed() {
        assert!(may_send(Role::Esme, State::Open, CommandId::GENERIC_NACK));
        assert!(may_send(
            Role::Smsc,
            State::Unbinding,
            CommandId::SUBMIT_SM_RESP
        ));
        assert!(!may_send(
            Role::Smsc,
            State::Closed,
            CommandId::SUBMIT_SM_RESP
        ));
    }

    #[test]
    fn unknown_requests_are_never_allowed() {
        assert!(!may_send(Role::Esme, TRANSCEIVER, CommandId(0x0000_0099)));
    }

    #[test]
    fn bind_types_know_their_ids() {
        for bt in [
            BindType::Transmitter,
            BindType::Receiver,
            BindType::Transceiver,
        ] {
            assert_eq!(BindType::from_command_id(bt.request_id()), Some(bt));
            assert_eq!(BindType::from_command_id(bt.response_id()), Some(bt));
            assert_eq!(
                bt.request_body(Bind::default()).command_id(),
                bt.request_id()
            );
            assert_eq!(
                bt.response_body(BindResp::empty()).command_id(),
                bt.response_id()
            );
        }
        assert_eq!(BindType::from_command_id(CommandId::SUBMIT_SM), None);
        assert!(
            BindType::Transceiver.can_send_submit() && BindType::Transceiver.can_receive_deliver()
        );
        assert!(
            !BindType::Receiver.can_send_submit() && !BindType::Transmitter.can_receive_deliver()
        );
    }
}
