//! The SMPP session state machine: bind state, the who-may-send-what matrix, sequence numbers, the window and timers
//! (SMPP 3.4 §2.2–2.3, §2.8, §2.9; SMPP 5.0 §2.4).
//!
//! A [`Session`] opens no socket and reads no clock, in the manner of quinn-proto. The caller feeds it what arrived
//! ([`Session::handle_pdu`], [`Session::handle_decode_error`]), the passing of time ([`Session::handle_timeout`]) and
//! the end of the transport ([`Session::handle_close`]), and asks it for what to do next: bytes to write
//! ([`Session::poll_transmit`]), events for the application ([`Session::poll_event`]) and when to wake it up
//! ([`Session::poll_timeout`]). Every input takes `now`, so two sessions can be driven against each other on a virtual
//! clock.
//!
//! What the session does on its own, so the application never sees it:
//! - answers `enquire_link`, and sends its own when nothing has been received for a while (SMPP 3.4 §2.9);
//! - answers `unbind`;
//! - answers a request the peer may not send in the current state with `ESME_RINVBNDSTS` (a second bind with
//!   `ESME_RALYBND`), and one beyond the inbound window with `ESME_RTHROTTLED`;
//! - answers a PDU whose body did not parse with the status [`PduError::response`] gives.
//!
//! Each request the caller sends carries a tag `T` (a message handle, say), which comes back exactly once: in
//! [`Event::Response`], in [`Event::Timeout`], or from [`Session::handle_close`]. So nothing in flight is lost when
//! a connection dies.
//!
//! # Bounds
//! Everything is bounded by the windows. At most `window` caller requests plus one `enquire_link` and one `unbind`
//! await responses; at most `inbound_window` peer requests await our answer, and any beyond that are answered at once.
//! [`Session::poll_transmit`] returns everything encoded since the last call as one buffer, for one write. Its size is
//! what the caller put in since then (requests capped by the window, responses by the inbound window) plus one
//! automatic answer per PDU handled. A caller that polls after each read batch therefore keeps it small.

mod config;
mod outstanding;
mod state;
#[cfg(test)]
mod tests;

pub use config::Config;
pub use state::{may_send, BindType, Role, State};

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use outstanding::{Entry, Outstanding, Owner};

use crate::pdu::{Bind, BindResp};
use crate::types::COctetString;
use crate::{Body, CommandId, CommandStatus, Pdu, PduError, SequenceNumber};

/// The `sc_interface_version` an SMSC session advertises in its bind responses: SMPP 3.4 (SMPP 3.4 §5.3.2.25).
pub const SC_INTERFACE_VERSION: u8 = 0x34;

/// Something the application must know about or act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<T> {
    /// SMSC role: a peer asks to bind. Answer with [`Session::accept_bind`] or [`Session::reject_bind`].
    BindRequest {
        /// The bind's sequence number, to pass back when answering.
        sequence_number: SequenceNumber,
        /// Which bind the peer asks for.
        bind_type: BindType,
        /// The credentials and address range.
        bind: Bind,
    },
    /// The bind completed. ESME role: follows the [`Event::Response`] carrying the `bind_*_resp`.
    Bound(BindType),
    /// A request from the peer that the state allows: answer it with [`Session::send_response`] (unless it has no
    /// response: `outbind`, which an ESME answers by binding, and `alert_notification`). `enquire_link` and `unbind`
    /// are answered by the session and never surface.
    Request(Pdu),
    /// The response (or `generic_nack`) to a request we sent.
    ///
    /// A response whose body did not parse arrives as a `generic_nack` carrying the peer's status when it sent an
    /// error, else the decode status (say `ESME_RINVMSGID`). In the second case the peer may have accepted the request
    /// though we cannot read its answer: a caller that must not send twice should treat it as outcome unknown.
    Response {
        /// The tag given when the request was sent.
        tag: T,
        /// The request's `command_id`.
        request: CommandId,
        /// The response.
        pdu: Pdu,
    },
    /// No response to a request we sent arrived within `response_timeout`; the peer may still have acted on it.
    Timeout {
        /// The tag given when the request was sent.
        tag: T,
        /// The request's `command_id`.
        request: CommandId,
    },
    /// The bind is over: the peer unbound, our unbind completed or timed out, or the link died (an `enquire_link` went
    /// unanswered). The session is now [`State::Closed`]; requests still outstanding come back from
    /// [`Session::handle_close`].
    Unbound,
}

/// Why a PDU could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// `window` requests already await responses; wait for one ([`Session::window_available`]).
    #[error("the window is full")]
    WindowFull,
    /// The matrix does not let us send this in this state (SMPP 3.4 §2.3), or this is the wrong method for it, or a
    /// response answers nothing we owe.
    #[error("{command_id} may not be sent in state {state}")]
    NotAllowed {
        /// What was to be sent.
        command_id: CommandId,
        /// The session's state.
        state: State,
    },
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
}

/// A request from the peer that still awaits our answer.
#[derive(Clone, Copy, Debug)]
struct Owed {
    request: CommandId,
    /// How many requests with this sequence number await an answer; more than one only from a peer that reuses
    /// sequence numbers, which we tolerate rather than lose its messages.
    count: u32,
}

/// One SMPP session, from TCP connect to close, on either side; `T` is the caller's tag for each request it sends.
#[derive(Debug)]
pub struct Session<T> {
    config: Config,
    state: State,
    /// `handle_close` was called: nothing more goes in or out.
    transport_gone: bool,
    next_sequence: SequenceNumber,
    outstanding: Outstanding<T>,
    /// ESME role: the bind we sent, awaiting its response.
    binding: Option<SequenceNumber>,
    /// Our `enquire_link`, awaiting its response; at most one.
    enquire_link: Option<SequenceNumber>,
    /// SMSC role: the peer's bind, awaiting the caller's accept or reject.
    pending_bind: Option<(SequenceNumber, BindType)>,
    /// SMSC role: when the session closes if nobody has bound.
    bind_deadline: Option<Instant>,
    /// Peer requests awaiting our answer.
    owed: HashMap<SequenceNumber, Owed>,
    owed_total: usize,
    last_received: Instant,
    events: VecDeque<Event<T>>,
    transmit: BytesMut,
    unexpected_responses: u64,
}

impl<T> Session<T> {
    /// A session on a transport that just connected at `now`, in [`State::Open`].
    pub fn new(mut config: Config, now: Instant) -> Self {
        config.window = config.window.max(1);
        let bind_deadline = (config.role == Role::Smsc).then(|| now + config.bind_timeout);
        Session {
            outstanding: Outstanding::with_capacity(config.window + 2),
            owed: HashMap::with_capacity(config.inbound_window.min(1024)),
            config,
            state: State::Open,
            transport_gone: false,
            next_sequence: SequenceNumber(1),
            binding: None,
            enquire_link: None,
            pending_bind: None,
            bind_deadline,
            owed_total: 0,
            last_received: now,
            events: VecDeque::new(),
            transmit: BytesMut::new(),
            unexpected_responses: 0,
        }
    }

    /// Where the session stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration the session runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// ESME role: sends `bind_*` (SMPP 3.4 §4.1). Its `bind_*_resp` comes back as [`Event::Response`] with `tag`, then,
    /// when it is `ESME_ROK`, [`Event::Bound`]. Only one bind may be in flight.
    pub fn bind(
        &mut self,
        bind_type: BindType,
        bind: Bind,
        tag: T,
        now: Instant,
    ) -> Result<SequenceNumber, SendError> {
        let command_id = bind_type.request_id();
        self.check_open_for_requests()?;
        if self.binding.is_some() || !may_send(self.config.role, self.state, command_id) {
            return Err(self.not_allowed(command_id));
        }
        self.check_window()?;
        let sequence_number = self.send(bind_type.request_body(bind), Owner::Caller(tag), now);
        self.binding = Some(sequence_number);
        Ok(sequence_number)
    }

    /// SMSC role: accepts the bind [`Event::BindRequest`] announced: sends `bind_*_resp` with `ESME_ROK`, our
    /// `system_id` and `sc_interface_version` 0x34, and moves to [`State::Bound`]. Does nothing when no bind with this
    /// sequence number awaits an answer (it was answered already, or the session closed).
    pub fn accept_bind(
        &mut self,
        sequence_number: SequenceNumber,
        system_id: COctetString<16>,
        now: Instant,
    ) {
        let Some(bind_type) = self.take_pending_bind(sequence_number) else {
            return;
        };
        let mut resp = BindResp::new(system_id);
        resp.tlvs.set_sc_interface_version(SC_INTERFACE_VERSION);
        self.encode(&Pdu::new(sequence_number, bind_type.response_body(resp)));
        self.bind_deadline = None;
        self.state = State::Bound(bind_type);
        // The enquire_link and inactivity timers run from the moment the bind completes.
        self.saw_traffic(now);
        self.events.push_back(Event::Bound(bind_type));
    }

    /// SMSC role: rejects the bind [`Event::BindRequest`] announced with `status` (say `ESME_RBINDFAIL` or
    /// `ESME_RINVPASWD`); the session stays [`State::Open`] and the bind timeout keeps running. Does nothing when no
    /// bind with this sequence number awaits an answer.
    pub fn reject_bind(
        &mut self,
        sequence_number: SequenceNumber,
        status: CommandStatus,
        _now: Instant,
    ) {
        let Some(bind_type) = self.take_pending_bind(sequence_number) else {
            return;
        };
        self.encode(&Pdu {
            sequence_number,
            command_status: status,
            body: bind_type.response_body(BindResp::empty()),
        });
    }

    /// Sends a request (`submit_sm`, `deliver_sm`, `data_sm`, `query_sm`, …) and returns its sequence number; it is
    /// encoded at once into the transmit buffer. Its response comes back as [`Event::Response`] with `tag`, or
    /// [`Event::Timeout`] after `response_timeout`.
    ///
    /// Fails with [`SendError::NotAllowed`] when the matrix forbids it in this state (SMPP 3.4 §2.3), or for binds,
    /// `unbind` and responses, which have their own methods; with [`SendError::WindowFull`] when `window` requests
    /// await responses. A request without a response (`outbind`, `alert_notification`) takes no window slot and its
    /// tag is dropped at once.
    pub fn send_request(
        &mut self,
        body: Body,
        tag: T,
        now: Instant,
    ) -> Result<SequenceNumber, SendError> {
        let command_id = body.command_id();
        self.check_open_for_requests()?;
        if command_id.is_response()
            || command_id == CommandId::UNBIND
            || BindType::from_command_id(command_id).is_some()
            || !may_send(self.config.role, self.state, command_id)
        {
            return Err(self.not_allowed(command_id));
        }
        if command_id.expects_response() {
            self.check_window()?;
        }
        Ok(self.send(body, Owner::Caller(tag), now))
    }

    /// Answers a request [`Event::Request`] surfaced, with `status` and `body` (a `*_resp` body, or `generic_nack`).
    ///
    /// Fails with [`SendError::NotAllowed`] when no request with this sequence number awaits our answer, when `body`
    /// is not a response to it, or for bind responses (use [`Session::accept_bind`]). Still works once the session is
    /// [`State::Closed`] by an unbind, so requests that came before the unbind can be answered before the transport is
    /// dropped; fails with [`SendError::Closed`] after [`Session::handle_close`].
    pub fn send_response(
        &mut self,
        sequence_number: SequenceNumber,
        status: CommandStatus,
        body: Body,
        _now: Instant,
    ) -> Result<(), SendError> {
        if self.transport_gone {
            return Err(SendError::Closed);
        }
        let command_id = body.command_id();
        let owed = match self.owed.get_mut(&sequence_number) {
            Some(owed)
                if command_id == CommandId::GENERIC_NACK
                    || (command_id.is_response() && command_id.request() == owed.request) =>
            {
                owed
            }
            _ => return Err(self.not_allowed(command_id)),
        };
        owed.count -= 1;
        if owed.count == 0 {
            self.owed.remove(&sequence_number);
        }
        self.owed_total -= 1;
        self.encode(&Pdu {
            sequence_number,
            command_status: status,
            body,
        });
        Ok(())
    }

    /// Sends `unbind` (SMPP 3.4 §4.2) and moves to [`State::Unbinding`]: no new requests, responses to those in
    /// flight are still matched. [`Event::Unbound`] follows on `unbind_resp`, or after `response_timeout` without one.
    /// Does nothing when already unbinding; fails with [`SendError::NotAllowed`] before a bind completes.
    pub fn unbind(&mut self, now: Instant) -> Result<(), SendError> {
        match self.state {
            State::Closed => Err(SendError::Closed),
            State::Unbinding => Ok(()),
            State::Open => Err(self.not_allowed(CommandId::UNBIND)),
            State::Bound(_) => {
                self.start_unbind(now);
                Ok(())
            }
        }
    }

    /// Takes in one PDU the peer sent.
    pub fn handle_pdu(&mut self, pdu: Pdu, now: Instant) {
        if self.transport_gone {
            return;
        }
        self.saw_traffic(now);
        if pdu.command_id().is_response() {
            self.handle_response(pdu);
        } else {
            self.handle_request(pdu);
        }
    }

    /// Takes in a PDU whose body did not parse (the bind survives it).
    ///
    /// A malformed request is answered with [`PduError::response`]: its own `*_resp`, or `generic_nack` for an
    /// unknown `command_id`, with the status of the fault. A malformed response to a request we sent completes that
    /// request with [`Event::Response`] carrying a `generic_nack` (see there); one matching nothing we sent is
    /// counted in [`Session::unexpected_responses`].
    pub fn handle_decode_error(&mut self, err: PduError, now: Instant) {
        if self.transport_gone {
            return;
        }
        self.saw_traffic(now);
        if let Some(answer) = err.response() {
            if self.state != State::Closed {
                self.encode(&answer);
            }
            return;
        }
        let header = err.header;
        let status = if header.command_status.is_ok() {
            err.status
        } else {
            header.command_status
        };
        self.handle_response(Pdu {
            sequence_number: header.sequence_number,
            command_status: status,
            body: Body::GenericNack,
        });
    }

    /// Lets time pass: expires requests whose response is late, closes an SMSC session nobody bound, unbinds after
    /// inactivity and sends `enquire_link` when the link has been quiet (SMPP 3.4 §2.9). Call it at
    /// [`Session::poll_timeout`], or any time; it only acts on what is due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.transport_gone {
            return;
        }
        while let Some((sequence_number, entry)) = self.outstanding.pop_expired(now) {
            self.expire(sequence_number, entry);
        }
        if self.state == State::Open && self.bind_deadline.is_some_and(|at| at <= now) {
            // SMPP 3.4 §7.2 session_init_timer: a connection that does not bind is dropped.
            self.bind_deadline = None;
            self.state = State::Closed;
        }
        if matches!(self.state, State::Bound(_)) {
            if self.inactivity_deadline().is_some_and(|at| at <= now) {
                self.start_unbind(now);
            } else if self.enquire_link_due().is_some_and(|at| at <= now) {
                let sequence_number = self.send(Body::EnquireLink, Owner::Session, now);
                self.enquire_link = Some(sequence_number);
            }
        }
    }

    /// The transport is gone: the session is [`State::Closed`] for good and returns the tag of every request still
    /// awaiting a response, in the order they were sent, for the caller to send again elsewhere. Later calls return
    /// nothing.
    pub fn handle_close(&mut self) -> Vec<T> {
        self.state = State::Closed;
        self.transport_gone = true;
        self.binding = None;
        self.enquire_link = None;
        self.pending_bind = None;
        self.bind_deadline = None;
        self.owed.clear();
        self.owed_total = 0;
        self.transmit.clear();
        self.outstanding.drain_callers()
    }

    /// The next event for the application, oldest first.
    pub fn poll_event(&mut self) -> Option<Event<T>> {
        self.events.pop_front()
    }

    /// Everything encoded since the last call, as one buffer for one write; `None` when there is nothing to send.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.transmit.is_empty() {
            None
        } else {
            Some(self.transmit.split().freeze())
        }
    }

    /// When [`Session::handle_timeout`] should next be called: the earliest of the response deadlines, the bind
    /// timeout, the inactivity timeout and the next `enquire_link`; `None` when nothing is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.transport_gone {
            return None;
        }
        let bind = self.bind_deadline.filter(|_| self.state == State::Open);
        let (inactivity, enquire_link) = if matches!(self.state, State::Bound(_)) {
            (self.inactivity_deadline(), self.enquire_link_due())
        } else {
            (None, None)
        };
        [
            self.outstanding.next_deadline(),
            bind,
            inactivity,
            enquire_link,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Requests the caller sent that await a response (the session's own `enquire_link` and `unbind` not counted).
    pub fn outstanding(&self) -> usize {
        self.outstanding.callers()
    }

    /// How many more requests the caller may send before the window is full.
    pub fn window_available(&self) -> usize {
        self.config
            .window
            .saturating_sub(self.outstanding.callers())
    }

    /// Requests from the peer that await our answer.
    pub fn unanswered(&self) -> usize {
        self.owed_total
    }

    /// True once the session is over and the caller should flush [`Session::poll_transmit`] and drop the transport.
    pub fn wants_close(&self) -> bool {
        self.state == State::Closed
    }

    /// Responses dropped because they matched no request we sent, or did not match its `command_id`.
    pub fn unexpected_responses(&self) -> u64 {
        self.unexpected_responses
    }

    fn handle_response(&mut self, pdu: Pdu) {
        let sequence_number = pdu.sequence_number;
        let command_id = pdu.command_id();
        let matches = self
            .outstanding
            .request(sequence_number)
            .is_some_and(|request| {
                command_id == CommandId::GENERIC_NACK || command_id == request.response()
            });
        let entry = if matches {
            self.outstanding.remove(sequence_number)
        } else {
            None
        };
        let Some(Entry { owner, request, .. }) = entry else {
            // SMPP 3.4 §2.8: a response pairs with an outstanding request or it means nothing; it is not answered,
            // which would invite the peer to answer the answer.
            self.unexpected_responses += 1;
            return;
        };
        match owner {
            Owner::Caller(tag) => {
                let answers_our_bind = self.binding == Some(sequence_number);
                if answers_our_bind {
                    self.binding = None;
                }
                // SMPP 3.4 §4.1.2: only an ESME_ROK bind_*_resp binds; generic_nack or an error leaves us OPEN.
                let bound_as = BindType::from_command_id(request).filter(|_| {
                    answers_our_bind
                        && self.state == State::Open
                        && pdu.command_status.is_ok()
                        && command_id != CommandId::GENERIC_NACK
                });
                self.events.push_back(Event::Response { tag, request, pdu });
                if let Some(bind_type) = bound_as {
                    self.state = State::Bound(bind_type);
                    self.events.push_back(Event::Bound(bind_type));
                }
            }
            Owner::Session if request == CommandId::ENQUIRE_LINK => {
                // Any answer, even generic_nack, shows the peer is alive.
                self.enquire_link = None;
            }
            // Our unbind is done whatever the status: we asked to leave.
            Owner::Session => self.finish_unbound(),
        }
    }

    fn handle_request(&mut self, pdu: Pdu) {
        if self.state == State::Closed {
            return;
        }
        let sequence_number = pdu.sequence_number;
        let command_id = pdu.command_id();
        let sender = self.config.role.peer();
        let bind_type = BindType::from_command_id(command_id);
        if bind_type.is_some()
            && sender == Role::Esme
            && (matches!(self.state, State::Bound(_)) || self.pending_bind.is_some())
        {
            // SMPP 3.4 §5.1.3: a bind on a bound (or binding) session is ESME_RALYBND.
            return self.answer_error(sequence_number, command_id, CommandStatus::ESME_RALYBND);
        }
        if !may_send(sender, self.state, command_id) {
            // SMPP 3.4 §2.3: a request the state does not allow is refused with ESME_RINVBNDSTS.
            return self.answer_error(sequence_number, command_id, CommandStatus::ESME_RINVBNDSTS);
        }
        match command_id {
            // SMPP 3.4 §4.11: enquire_link is answered by whoever receives it, in any state that allows it.
            CommandId::ENQUIRE_LINK => {
                self.encode(&Pdu::new(sequence_number, Body::EnquireLinkResp))
            }
            // SMPP 3.4 §4.2: the receiver of unbind answers and the session ends.
            CommandId::UNBIND => {
                self.encode(&Pdu::new(sequence_number, Body::UnbindResp));
                self.finish_unbound();
            }
            _ => {
                if let Some(bind_type) = bind_type {
                    if let Body::BindTransmitter(bind)
                    | Body::BindReceiver(bind)
                    | Body::BindTransceiver(bind) = pdu.body
                    {
                        self.pending_bind = Some((sequence_number, bind_type));
                        self.events.push_back(Event::BindRequest {
                            sequence_number,
                            bind_type,
                            bind,
                        });
                    }
                } else if !command_id.expects_response() {
                    // outbind and alert_notification have no response (SMPP 3.4 §4.1.7, §4.12).
                    self.events.push_back(Event::Request(pdu));
                } else if self.owed_total >= self.config.inbound_window {
                    // SMPP 3.4 §2.8: the peer exceeded the window we allow; it should retry later.
                    self.answer_error(sequence_number, command_id, CommandStatus::ESME_RTHROTTLED);
                } else {
                    match self.owed.get_mut(&sequence_number) {
                        Some(owed) if owed.request != command_id => {
                            // A peer that reuses a sequence number for another request while the first awaits its
                            // answer has lost track of its own requests; refuse the second rather than confuse both.
                            return self.answer_error(
                                sequence_number,
                                CommandId::GENERIC_NACK,
                                CommandStatus::ESME_RSYSERR,
                            );
                        }
                        Some(owed) => owed.count += 1,
                        None => {
                            self.owed.insert(
                                sequence_number,
                                Owed {
                                    request: command_id,
                                    count: 1,
                                },
                            );
                        }
                    }
                    self.owed_total += 1;
                    self.events.push_back(Event::Request(pdu));
                }
            }
        }
    }

    fn expire(&mut self, sequence_number: SequenceNumber, entry: Entry<T>) {
        match entry.owner {
            Owner::Caller(tag) => {
                if self.binding == Some(sequence_number) {
                    self.binding = None;
                }
                self.events.push_back(Event::Timeout {
                    tag,
                    request: entry.request,
                });
            }
            // SMPP 3.4 §2.9: an unanswered enquire_link means the link is dead; an unanswered unbind ends the session
            // all the same.
            Owner::Session => {
                if entry.request == CommandId::ENQUIRE_LINK {
                    self.enquire_link = None;
                }
                self.finish_unbound();
            }
        }
    }

    /// Answers a request with its own `*_resp` carrying `status`, or `generic_nack` when it has none.
    fn answer_error(
        &mut self,
        sequence_number: SequenceNumber,
        request: CommandId,
        status: CommandStatus,
    ) {
        let body = Body::error_response_to(request).unwrap_or(Body::GenericNack);
        self.encode(&Pdu {
            sequence_number,
            command_status: status,
            body,
        });
    }

    /// The bind is over: closed, with [`Event::Unbound`] when there was a bind to lose.
    fn finish_unbound(&mut self) {
        if matches!(self.state, State::Bound(_) | State::Unbinding) {
            self.events.push_back(Event::Unbound);
        }
        self.state = State::Closed;
    }

    fn start_unbind(&mut self, now: Instant) {
        self.send(Body::Unbind, Owner::Session, now);
        self.state = State::Unbinding;
    }

    fn take_pending_bind(&mut self, sequence_number: SequenceNumber) -> Option<BindType> {
        match self.pending_bind {
            Some((seq, bind_type)) if seq == sequence_number && self.state == State::Open => {
                self.pending_bind = None;
                Some(bind_type)
            }
            _ => None,
        }
    }

    fn check_open_for_requests(&self) -> Result<(), SendError> {
        if self.state == State::Closed {
            Err(SendError::Closed)
        } else {
            Ok(())
        }
    }

    fn check_window(&self) -> Result<(), SendError> {
        if self.outstanding.callers() >= self.config.window {
            Err(SendError::WindowFull)
        } else {
            Ok(())
        }
    }

    fn not_allowed(&self, command_id: CommandId) -> SendError {
        if self.transport_gone {
            SendError::Closed
        } else {
            SendError::NotAllowed {
                command_id,
                state: self.state,
            }
        }
    }

    /// Encodes a request under a fresh sequence number, and records it when a response is due.
    fn send(&mut self, body: Body, owner: Owner<T>, now: Instant) -> SequenceNumber {
        let sequence_number = self.allocate_sequence_number();
        let request = body.command_id();
        self.encode(&Pdu::new(sequence_number, body));
        if request.expects_response() {
            let deadline = now + self.config.response_timeout;
            self.outstanding
                .insert(sequence_number, owner, request, deadline);
        }
        sequence_number
    }

    /// The next sequence number not awaiting a response (SMPP 3.4 §5.1.4: 1..=0x7FFF_FFFF, wrapping to 1). At most
    /// `window + 2` are outstanding, so the loop ends within a few steps.
    fn allocate_sequence_number(&mut self) -> SequenceNumber {
        loop {
            let candidate = self.next_sequence;
            self.next_sequence = candidate.next();
            if candidate.0 != 0 && !self.outstanding.contains(candidate) {
                return candidate;
            }
        }
    }

    fn encode(&mut self, pdu: &Pdu) {
        pdu.encode(&mut self.transmit);
    }

    /// Something arrived: restarts the enquire_link and inactivity timers. Never moves them back, should the caller's
    /// clock readings arrive out of order.
    fn saw_traffic(&mut self, now: Instant) {
        self.last_received = self.last_received.max(now);
    }

    fn inactivity_deadline(&self) -> Option<Instant> {
        self.config
            .inactivity_timeout
            .map(|timeout| self.last_received + timeout)
    }

    fn enquire_link_due(&self) -> Option<Instant> {
        let interval = self.config.enquire_link_interval;
        (self.enquire_link.is_none() && !interval.is_zero()).then(|| self.last_received + interval)
    }
}
