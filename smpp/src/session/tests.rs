//! A two-peer simulation without sockets: an ESME session and an SMSC session pump their `poll_transmit` bytes into
//! each other through [`crate::frame::split_frame`] and [`Pdu::decode`], on a virtual clock.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::*;
use crate::frame::{split_frame, DEFAULT_MAX_PDU_LEN};
use crate::pdu::{SubmitSm, SubmitSmResp};
use crate::types::{Address, Npi, OctetString, Ton};

/// Both ends of one link, and the moment it connected.
struct Link {
    esme: Session<u32>,
    smsc: Session<u32>,
    t0: Instant,
}

impl Link {
    fn new() -> Link {
        Link::with(Config::esme(), Config::smsc())
    }

    fn with(esme: Config, smsc: Config) -> Link {
        let t0 = Instant::now();
        Link {
            esme: Session::new(esme, t0),
            smsc: Session::new(smsc, t0),
            t0,
        }
    }

    /// A link bound as `bind_type`, with the bind's events consumed.
    fn bound(bind_type: BindType) -> Link {
        let mut link = Link::new();
        link.bind(bind_type, 0);
        link
    }

    fn at(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }

    /// The ESME binds at `secs` and the SMSC accepts.
    fn bind(&mut self, bind_type: BindType, secs: u64) {
        let now = self.at(secs);
        self.esme.bind(bind_type, bind_body(), 0, now).unwrap();
        self.pump(now);
        let Some(Event::BindRequest {
            sequence_number, ..
        }) = self.smsc.poll_event()
        else {
            panic!("no bind request")
        };
        self.smsc
            .accept_bind(sequence_number, "SMSC".try_into().unwrap(), now);
        self.pump(now);
        assert_eq!(self.smsc.poll_event(), Some(Event::Bound(bind_type)));
        assert!(matches!(
            self.esme.poll_event(),
            Some(Event::Response { tag: 0, .. })
        ));
        assert_eq!(self.esme.poll_event(), Some(Event::Bound(bind_type)));
    }

    /// Moves bytes both ways until neither end has anything to send.
    fn pump(&mut self, now: Instant) {
        loop {
            let to_smsc = self.esme.poll_transmit();
            let to_esme = self.smsc.poll_transmit();
            if to_smsc.is_none() && to_esme.is_none() {
                return;
            }
            if let Some(bytes) = to_smsc {
                deliver(&mut self.smsc, bytes, now);
            }
            if let Some(bytes) = to_esme {
                deliver(&mut self.esme, bytes, now);
            }
        }
    }
}

/// Cuts `bytes` into frames and hands each to `to`, as a connection task would.
fn deliver(to: &mut Session<u32>, bytes: Bytes, now: Instant) {
    let mut buf = BytesMut::from(&bytes[..]);
    while let Some(frame) = split_frame(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap() {
        match Pdu::decode(frame) {
            Ok(pdu) => to.handle_pdu(pdu, now),
            Err(err) => to.handle_decode_error(err, now),
        }
    }
    assert!(buf.is_empty(), "a partial frame was sent");
}

/// The PDUs in one transmit.
fn pdus(bytes: Bytes) -> Vec<Pdu> {
    let mut buf = BytesMut::from(&bytes[..]);
    let mut out = Vec::new();
    while let Some(frame) = split_frame(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap() {
        out.push(Pdu::decode(frame).unwrap());
    }
    assert!(buf.is_empty());
    out
}

/// The one PDU `session` has to send.
fn only_pdu<T>(session: &mut Session<T>) -> Pdu {
    let mut all = pdus(session.poll_transmit().expect("nothing to send"));
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn events<T>(session: &mut Session<T>) -> Vec<Event<T>> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn bind_body() -> Bind {
    Bind {
        system_id: "esme".try_into().unwrap(),
        password: "secret".try_into().unwrap(),
        interface_version: 0x34,
        ..Bind::default()
    }
}

fn submit(text: &str) -> Body {
    Body::SubmitSm(SubmitSm {
        source_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ACME").unwrap(),
        dest_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4915112345678").unwrap(),
        short_message: OctetString::new(Bytes::copy_from_slice(text.as_bytes())).unwrap(),
        ..SubmitSm::default()
    })
}

fn submit_resp(id: &str) -> Body {
    Body::SubmitSmResp(SubmitSmResp::new(id.try_into().unwrap()))
}

/// The SMSC answers every surfaced submit_sm with a message id; returns the other events.
fn answer_submits(smsc: &mut Session<u32>, now: Instant) -> Vec<Event<u32>> {
    let mut others = Vec::new();
    for event in events(smsc) {
        match event {
            Event::Request(pdu) => {
                let id = format!("id{}", pdu.sequence_number);
                smsc.send_response(
                    pdu.sequence_number,
                    CommandStatus::ESME_ROK,
                    submit_resp(&id),
                    now,
                )
                .unwrap();
            }
            other => others.push(other),
        }
    }
    others
}

#[test]
fn binds_as_transceiver_and_matches_a_submit_sm_resp_to_its_tag() {
    let mut link = Link::new();
    let now = link.at(0);
    link.esme
        .bind(BindType::Transceiver, bind_body(), 1, now)
        .unwrap();
    link.pump(now);
    let Some(Event::BindRequest {
        sequence_number,
        bind_type,
        bind,
    }) = link.smsc.poll_event()
    else {
        panic!("no bind request")
    };
    assert_eq!(bind_type, BindType::Transceiver);
    assert_eq!(bind.system_id, "esme");
    assert_eq!(bind.password, "secret");
    link.smsc
        .accept_bind(sequence_number, "SMSC".try_into().unwrap(), now);
    link.pump(now);

    assert_eq!(link.smsc.state(), State::Bound(BindType::Transceiver));
    assert_eq!(link.esme.state(), State::Bound(BindType::Transceiver));
    let Some(Event::Response {
        tag: 1,
        request,
        pdu,
    }) = link.esme.poll_event()
    else {
        panic!("no bind response")
    };
    assert_eq!(request, CommandId::BIND_TRANSCEIVER);
    let Body::BindTransceiverResp(resp) = pdu.body else {
        panic!("{pdu:?}")
    };
    assert_eq!(resp.system_id.unwrap(), "SMSC");
    assert_eq!(resp.tlvs.sc_interface_version(), Some(0x34));
    assert_eq!(
        link.esme.poll_event(),
        Some(Event::Bound(BindType::Transceiver))
    );
    assert_eq!(
        link.smsc.poll_event(),
        Some(Event::Bound(BindType::Transceiver))
    );

    let seq = link.esme.submit_request(submit("hello"), 42, now);
    link.pump(now);
    let Some(Event::Request(request)) = link.smsc.poll_event() else {
        panic!("no submit_sm")
    };
    assert_eq!(request.sequence_number, seq);
    assert_eq!(request.command_id(), CommandId::SUBMIT_SM);
    link.smsc
        .send_response(seq, CommandStatus::ESME_ROK, submit_resp("abc"), now)
        .unwrap();
    link.pump(now);
    let Some(Event::Response { tag, request, pdu }) = link.esme.poll_event() else {
        panic!("no submit_sm_resp")
    };
    assert_eq!((tag, request), (42, CommandId::SUBMIT_SM));
    assert_eq!(pdu.body, submit_resp("abc"));
    assert_eq!(link.esme.outstanding(), 0);
    assert_eq!(link.smsc.unanswered(), 0);
}

impl Session<u32> {
    /// `send_request` that must succeed.
    fn submit_request(&mut self, body: Body, tag: u32, now: Instant) -> SequenceNumber {
        self.send_request(body, tag, now).unwrap()
    }
}

#[test]
fn a_rejected_bind_leaves_both_ends_open() {
    let mut link = Link::new();
    let now = link.at(0);
    link.esme
        .bind(BindType::Transmitter, bind_body(), 7, now)
        .unwrap();
    link.pump(now);
    let Some(Event::BindRequest {
        sequence_number, ..
    }) = link.smsc.poll_event()
    else {
        panic!("no bind request")
    };
    link.smsc
        .reject_bind(sequence_number, CommandStatus::ESME_RINVPASWD, now);
    link.pump(now);

    let Some(Event::Response { tag: 7, pdu, .. }) = link.esme.poll_event() else {
        panic!("no bind response")
    };
    assert_eq!(pdu.command_status, CommandStatus::ESME_RINVPASWD);
    assert_eq!(link.esme.poll_event(), None);
    assert_eq!(link.esme.state(), State::Open);
    assert_eq!(link.smsc.state(), State::Open);
    // The ESME may try again.
    link.bind(BindType::Transmitter, 1);
}

#[test]
fn rejects_submit_sm_before_bind() {
    let mut link = Link::new();
    assert_eq!(
        link.esme.send_request(submit("early"), 1, link.at(0)),
        Err(SendError::NotAllowed {
            command_id: CommandId::SUBMIT_SM,
            state: State::Open
        })
    );
    assert_eq!(link.esme.poll_transmit(), None);
    assert_eq!(link.esme.outstanding(), 0);
}

#[test]
fn refuses_to_submit_on_a_receiver_bind() {
    let mut link = Link::bound(BindType::Receiver);
    assert_eq!(
        link.esme.send_request(submit("nope"), 1, link.at(1)),
        Err(SendError::NotAllowed {
            command_id: CommandId::SUBMIT_SM,
            state: State::Bound(BindType::Receiver)
        })
    );
}

#[test]
fn answers_a_peer_submit_sm_on_a_receiver_bind_with_invalid_bind_status() {
    let mut link = Link::bound(BindType::Receiver);
    let now = link.at(1);
    link.smsc
        .handle_pdu(Pdu::new(SequenceNumber(9), submit("sneaky")), now);
    assert_eq!(link.smsc.poll_event(), None);
    let answer = only_pdu(&mut link.smsc);
    assert_eq!(answer.command_id(), CommandId::SUBMIT_SM_RESP);
    assert_eq!(answer.command_status, CommandStatus::ESME_RINVBNDSTS);
    assert_eq!(answer.sequence_number, SequenceNumber(9));
    assert_eq!(link.smsc.unanswered(), 0);
}

#[test]
fn answers_a_request_with_no_response_of_its_own_with_generic_nack_when_not_allowed() {
    let mut link = Link::new();
    // outbind is the SMSC's to send (SMPP 3.4 §4.1.7) and has no response of its own.
    let outbind = Pdu::new(SequenceNumber(3), Body::Outbind(Default::default()));
    link.smsc.handle_pdu(outbind, link.at(0));
    assert_eq!(link.smsc.poll_event(), None);
    let answer = only_pdu(&mut link.smsc);
    assert_eq!(answer.body, Body::GenericNack);
    assert_eq!(answer.command_status, CommandStatus::ESME_RINVBNDSTS);
}

#[test]
fn refuses_a_request_once_the_window_is_full() {
    let mut link = Link::with(
        Config {
            window: 2,
            ..Config::esme()
        },
        Config::smsc(),
    );
    link.bind(BindType::Transmitter, 0);
    let now = link.at(1);
    link.esme.submit_request(submit("1"), 1, now);
    link.esme.submit_request(submit("2"), 2, now);
    assert_eq!(link.esme.window_available(), 0);
    assert_eq!(
        link.esme.send_request(submit("3"), 3, now),
        Err(SendError::WindowFull)
    );
    assert_eq!(link.esme.outstanding(), 2);

    link.pump(now);
    answer_submits(&mut link.smsc, now);
    link.pump(now);
    assert_eq!(events(&mut link.esme).len(), 2);
    assert_eq!(link.esme.window_available(), 2);
    link.esme.submit_request(submit("3"), 3, now);
}

#[test]
fn times_out_a_request_exactly_once_at_its_deadline() {
    let mut link = Link::with(
        Config {
            enquire_link_interval: Duration::ZERO,
            ..Config::esme()
        },
        Config::smsc(),
    );
    link.bind(BindType::Transceiver, 0);
    let sent = link.at(5);
    link.esme.submit_request(submit("lost"), 77, sent);
    // The SMSC never sees it.
    link.esme.poll_transmit();
    let deadline = sent + Config::esme().response_timeout;
    assert_eq!(link.esme.poll_timeout(), Some(deadline));

    link.esme.handle_timeout(deadline - Duration::from_nanos(1));
    assert_eq!(link.esme.poll_event(), None);
    link.esme.handle_timeout(deadline);
    assert_eq!(
        events(&mut link.esme),
        vec![Event::Timeout {
            tag: 77,
            request: CommandId::SUBMIT_SM
        }]
    );
    link.esme.handle_timeout(deadline + Duration::from_secs(60));
    assert_eq!(link.esme.poll_event(), None);
    assert_eq!(link.esme.outstanding(), 0);
    assert_eq!(link.esme.handle_close(), Vec::<u32>::new());
}

#[test]
fn a_late_response_after_its_timeout_is_dropped_and_counted() {
    let mut link = Link::bound(BindType::Transceiver);
    let sent = link.at(1);
    link.esme.submit_request(submit("slow"), 5, sent);
    link.pump(sent);
    let late = sent + Duration::from_secs(31);
    link.esme.handle_timeout(late);
    assert!(matches!(
        link.esme.poll_event(),
        Some(Event::Timeout { tag: 5, .. })
    ));
    answer_submits(&mut link.smsc, late);
    link.pump(late);
    assert_eq!(link.esme.poll_event(), None);
    assert_eq!(link.esme.unexpected_responses(), 1);
}

#[test]
fn sends_enquire_link_after_idle_and_declares_the_link_dead_when_unanswered() {
    let mut link = Link::bound(BindType::Transceiver);
    let interval = Config::esme().enquire_link_interval;
    let due = link.at(0) + interval;
    assert_eq!(link.esme.poll_timeout(), Some(due));

    link.esme.handle_timeout(due - Duration::from_millis(1));
    assert_eq!(link.esme.poll_transmit(), None);
    link.esme.handle_timeout(due);
    let probe = only_pdu(&mut link.esme);
    assert_eq!(probe.body, Body::EnquireLink);
    // Not the caller's: it takes no window slot, and only one is ever in flight.
    assert_eq!(link.esme.outstanding(), 0);
    link.esme.handle_timeout(due + Duration::from_secs(10));
    assert_eq!(link.esme.poll_transmit(), None);

    let dead = due + Config::esme().response_timeout;
    assert_eq!(link.esme.poll_timeout(), Some(dead));
    link.esme.handle_timeout(dead);
    assert_eq!(events(&mut link.esme), vec![Event::Unbound]);
    assert_eq!(link.esme.state(), State::Closed);
    assert!(link.esme.wants_close());
}

#[test]
fn an_answered_enquire_link_keeps_the_link_up() {
    let mut link = Link::bound(BindType::Transceiver);
    let due = link.at(30);
    link.esme.handle_timeout(due);
    link.pump(due);
    assert_eq!(link.esme.poll_event(), None);
    assert_eq!(link.smsc.poll_event(), None);
    // The answer restarted the idle timer.
    assert_eq!(
        link.esme.poll_timeout(),
        Some(due + Duration::from_secs(30))
    );
    link.esme.handle_timeout(due + Duration::from_secs(45));
    assert_eq!(link.esme.state(), State::Bound(BindType::Transceiver));
}

#[test]
fn answers_a_peer_enquire_link_without_surfacing_it() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(3);
    link.smsc
        .handle_pdu(Pdu::new(SequenceNumber(12), Body::EnquireLink), now);
    assert_eq!(link.smsc.poll_event(), None);
    let answer = only_pdu(&mut link.smsc);
    assert_eq!(answer, Pdu::new(SequenceNumber(12), Body::EnquireLinkResp));
}

#[test]
fn answers_enquire_link_before_bind() {
    let mut link = Link::new();
    link.smsc
        .handle_pdu(Pdu::new(SequenceNumber(1), Body::EnquireLink), link.at(0));
    assert_eq!(
        only_pdu(&mut link.smsc),
        Pdu::new(SequenceNumber(1), Body::EnquireLinkResp)
    );
}

#[test]
fn completes_an_unbind_we_start() {
    let mut link = Link::bound(BindType::Transceiver);
    let now = link.at(2);
    link.esme.unbind(now).unwrap();
    assert_eq!(link.esme.state(), State::Unbinding);
    assert!(matches!(
        link.esme.send_request(submit("late"), 1, now),
        Err(SendError::NotAllowed {
            state: State::Unbinding,
            ..
        })
    ));
    link.pump(now);
    assert_eq!(events(&mut link.esme), vec![Event::Unbound]);
    assert_eq!(events(&mut link.smsc), vec![Event::Unbound]);
    assert_eq!(link.esme.state(), State::Closed);
    assert_eq!(link.smsc.state(), State::Closed);
    assert!(link.esme.wants_close() && link.smsc.wants_close());
}

#[test]
fn answers_an_unbind_from_the_peer_and_asks_to_close() {
    let mut link = Link::bound(BindType::Receiver);
    let now = link.at(2);
    link.smsc.unbind(now).unwrap();
    link.pump(now);
    assert_eq!(events(&mut link.esme), vec![Event::Unbound]);
    assert!(link.esme.wants_close());
    assert_eq!(events(&mut link.smsc), vec![Event::Unbound]);
}

#[test]
fn closes_when_our_unbind_goes_unanswered() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(2);
    link.esme.unbind(now).unwrap();
    link.esme.poll_transmit();
    link.esme.handle_timeout(now + Duration::from_secs(29));
    assert_eq!(link.esme.state(), State::Unbinding);
    link.esme.handle_timeout(now + Duration::from_secs(30));
    assert_eq!(events(&mut link.esme), vec![Event::Unbound]);
    assert_eq!(link.esme.state(), State::Closed);
}

#[test]
fn matches_responses_to_requests_in_flight_while_unbinding() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(2);
    link.esme.submit_request(submit("in flight"), 9, now);
    link.esme.unbind(now).unwrap();
    link.pump(now);
    // The SMSC answers the submit after it has answered the unbind: it is closed but not yet dropped.
    assert_eq!(answer_submits(&mut link.smsc, now), vec![Event::Unbound]);
    link.pump(now);
    let got = events(&mut link.esme);
    assert!(
        got.iter()
            .any(|e| matches!(e, Event::Response { tag: 9, .. })),
        "{got:?}"
    );
}

#[test]
fn handle_close_returns_every_outstanding_tag() {
    let mut link = Link::bound(BindType::Transceiver);
    let now = link.at(1);
    for tag in 10..15 {
        link.esme.submit_request(submit("queued"), tag, now);
    }
    link.pump(now);
    // The SMSC answers one; the rest are lost with the connection.
    let requests = events(&mut link.smsc);
    let Event::Request(first) = &requests[0] else {
        panic!()
    };
    link.smsc
        .send_response(
            first.sequence_number,
            CommandStatus::ESME_ROK,
            submit_resp("x"),
            now,
        )
        .unwrap();
    link.pump(now);
    assert!(matches!(
        link.esme.poll_event(),
        Some(Event::Response { tag: 10, .. })
    ));

    assert_eq!(link.esme.handle_close(), vec![11, 12, 13, 14]);
    assert_eq!(link.esme.state(), State::Closed);
    assert_eq!(link.esme.outstanding(), 0);
    assert_eq!(link.esme.poll_timeout(), None);
    assert_eq!(link.esme.handle_close(), Vec::<u32>::new());
    assert_eq!(
        link.esme.send_request(submit("after"), 1, now),
        Err(SendError::Closed)
    );
    // Nothing comes back twice: not even at the old deadlines.
    link.esme.handle_timeout(now + Duration::from_secs(600));
    assert_eq!(link.esme.poll_event(), None);
}

#[test]
fn handle_close_keeps_tags_of_a_link_that_died() {
    let mut link = Link::bound(BindType::Transceiver);
    let now = link.at(1);
    link.esme.submit_request(submit("a"), 1, now);
    link.smsc.handle_close();
    // The enquire_link at 30 s goes unanswered; the link dies at 60 s.
    link.esme.handle_timeout(link.at(30));
    link.esme.poll_transmit();
    link.esme.handle_timeout(link.at(31));
    assert!(matches!(
        link.esme.poll_event(),
        Some(Event::Timeout { tag: 1, .. })
    ));
    link.esme.submit_request(submit("b"), 2, link.at(31));
    link.esme.handle_timeout(link.at(60));
    assert_eq!(events(&mut link.esme), vec![Event::Unbound]);
    assert_eq!(link.esme.handle_close(), vec![2]);
}

#[test]
fn sequence_numbers_wrap_past_outstanding_ones() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(1);
    // The bind used 1; 2 and 3 stay outstanding while the counter runs to the top.
    assert_eq!(
        link.esme.submit_request(submit("a"), 2, now),
        SequenceNumber(2)
    );
    assert_eq!(
        link.esme.submit_request(submit("b"), 3, now),
        SequenceNumber(3)
    );
    link.esme.next_sequence = SequenceNumber(SequenceNumber::MAX);
    assert_eq!(
        link.esme.submit_request(submit("c"), 4, now),
        SequenceNumber(SequenceNumber::MAX)
    );
    assert_eq!(
        link.esme.submit_request(submit("d"), 5, now),
        SequenceNumber(1)
    );
    assert_eq!(
        link.esme.submit_request(submit("e"), 6, now),
        SequenceNumber(4)
    );

    link.pump(now);
    answer_submits(&mut link.smsc, now);
    link.pump(now);
    let tags: Vec<(u32, SequenceNumber)> = events(&mut link.esme)
        .into_iter()
        .map(|e| match e {
            Event::Response { tag, pdu, .. } => (tag, pdu.sequence_number),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        tags,
        vec![
            (2, SequenceNumber(2)),
            (3, SequenceNumber(3)),
            (4, SequenceNumber(SequenceNumber::MAX)),
            (5, SequenceNumber(1)),
            (6, SequenceNumber(4)),
        ]
    );
}

#[test]
fn throttles_requests_beyond_the_inbound_window() {
    let mut link = Link::with(
        Config {
            window: 10,
            ..Config::esme()
        },
        Config {
            inbound_window: 3,
            ..Config::smsc()
        },
    );
    link.bind(BindType::Transmitter, 0);
    let now = link.at(1);
    for tag in 1..=5 {
        link.esme.submit_request(submit("burst"), tag, now);
    }
    link.pump(now);
    assert_eq!(events(&mut link.smsc).len(), 3);
    assert_eq!(link.smsc.unanswered(), 3);
    let throttled: Vec<(u32, CommandStatus)> = events(&mut link.esme)
        .into_iter()
        .map(|e| match e {
            Event::Response { tag, pdu, .. } => (tag, pdu.command_status),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        throttled,
        vec![
            (4, CommandStatus::ESME_RTHROTTLED),
            (5, CommandStatus::ESME_RTHROTTLED)
        ]
    );
}

#[test]
fn answers_an_unknown_command_id_with_generic_nack() {
    let mut link = Link::bound(BindType::Transceiver);
    let now = link.at(1);
    let frame = crate::pdu::test_support::frame(0x0000_0099, 0, 21, "");
    deliver(&mut link.smsc, frame, now);
    assert_eq!(link.smsc.poll_event(), None);
    let nack = only_pdu(&mut link.smsc);
    assert_eq!(nack.body, Body::GenericNack);
    assert_eq!(nack.command_status, CommandStatus::ESME_RINVCMDID);
    assert_eq!(nack.sequence_number, SequenceNumber(21));
    assert_eq!(link.smsc.state(), State::Bound(BindType::Transceiver));
}

#[test]
fn answers_a_malformed_submit_sm_with_its_own_response() {
    let mut link = Link::bound(BindType::Transmitter);
    // sm_length says 0x13 but only 3 octets follow.
    let frame = crate::pdu::test_support::frame(
        4,
        0,
        8,
        "00050041434d4500010134393135000000000000010000001359",
    );
    let now = link.at(1);
    deliver(&mut link.smsc, frame, now);
    let answer = only_pdu(&mut link.smsc);
    assert_eq!(answer.command_id(), CommandId::SUBMIT_SM_RESP);
    assert_eq!(answer.command_status, CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(link.smsc.unanswered(), 0);
}

#[test]
fn fails_a_request_whose_response_is_malformed() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(1);
    let seq = link.esme.submit_request(submit("x"), 3, now);
    link.esme.poll_transmit();
    // A submit_sm_resp whose message_id runs past the frame without its NUL.
    let frame = crate::pdu::test_support::frame(0x8000_0004, 0, seq.0, "4142");
    deliver(&mut link.esme, frame, now);
    let Some(Event::Response {
        tag: 3,
        request,
        pdu,
    }) = link.esme.poll_event()
    else {
        panic!("no response")
    };
    assert_eq!(request, CommandId::SUBMIT_SM);
    assert_eq!(pdu.body, Body::GenericNack);
    assert!(!pdu.command_status.is_ok());
    assert_eq!(link.esme.outstanding(), 0);
    // A malformed response is never answered.
    assert_eq!(link.esme.poll_transmit(), None);
}

#[test]
fn a_generic_nack_completes_the_request_it_answers() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(1);
    let seq = link.esme.submit_request(submit("x"), 4, now);
    link.esme.poll_transmit();
    link.esme.handle_pdu(
        Pdu {
            sequence_number: seq,
            command_status: CommandStatus::ESME_RINVCMDLEN,
            body: Body::GenericNack,
        },
        now,
    );
    assert!(matches!(
        link.esme.poll_event(),
        Some(Event::Response {
            tag: 4,
            request: CommandId::SUBMIT_SM,
            ..
        })
    ));
}

#[test]
fn drops_a_response_with_an_unknown_sequence_number_and_counts_it() {
    let mut link = Link::bound(BindType::Transmitter);
    link.esme.handle_pdu(
        Pdu::new(SequenceNumber(999), submit_resp("ghost")),
        link.at(1),
    );
    assert_eq!(link.esme.poll_event(), None);
    assert_eq!(link.esme.poll_transmit(), None);
    assert_eq!(link.esme.unexpected_responses(), 1);
}

#[test]
fn drops_a_response_of_the_wrong_kind_and_keeps_the_request_outstanding() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(1);
    let seq = link.esme.submit_request(submit("x"), 4, now);
    link.esme.handle_pdu(
        Pdu::new(
            seq,
            Body::DeliverSmResp(SubmitSmResp::new("x".try_into().unwrap())),
        ),
        now,
    );
    assert_eq!(link.esme.poll_event(), None);
    assert_eq!(link.esme.unexpected_responses(), 1);
    assert_eq!(link.esme.outstanding(), 1);
}

#[test]
fn answers_a_second_bind_with_already_bound() {
    let mut link = Link::bound(BindType::Transmitter);
    assert!(matches!(
        link.esme
            .bind(BindType::Receiver, bind_body(), 1, link.at(1)),
        Err(SendError::NotAllowed { .. })
    ));
    link.smsc.handle_pdu(
        Pdu::new(SequenceNumber(50), Body::BindReceiver(bind_body())),
        link.at(1),
    );
    assert_eq!(link.smsc.poll_event(), None);
    let answer = only_pdu(&mut link.smsc);
    assert_eq!(answer.command_id(), CommandId::BIND_RECEIVER_RESP);
    assert_eq!(answer.command_status, CommandStatus::ESME_RALYBND);
    assert_eq!(link.smsc.state(), State::Bound(BindType::Transmitter));
}

#[test]
fn answers_a_bind_while_another_awaits_its_answer_with_already_bound() {
    let mut link = Link::new();
    let now = link.at(0);
    link.smsc.handle_pdu(
        Pdu::new(SequenceNumber(1), Body::BindTransmitter(bind_body())),
        now,
    );
    link.smsc.handle_pdu(
        Pdu::new(SequenceNumber(2), Body::BindTransmitter(bind_body())),
        now,
    );
    assert_eq!(events(&mut link.smsc).len(), 1);
    let answer = only_pdu(&mut link.smsc);
    assert_eq!(answer.sequence_number, SequenceNumber(2));
    assert_eq!(answer.command_status, CommandStatus::ESME_RALYBND);
}

#[test]
fn batches_many_pdus_into_one_transmit() {
    let mut link = Link::bound(BindType::Transceiver);
    let now = link.at(1);
    for tag in 1..=8 {
        link.esme.submit_request(submit("batched"), tag, now);
    }
    let batch = link.esme.poll_transmit().unwrap();
    assert_eq!(pdus(batch.clone()).len(), 8);
    assert_eq!(link.esme.poll_transmit(), None);
    deliver(&mut link.smsc, batch, now);
    answer_submits(&mut link.smsc, now);
    let answers = link.smsc.poll_transmit().unwrap();
    assert_eq!(pdus(answers.clone()).len(), 8);
    deliver(&mut link.esme, answers, now);
    let tags: Vec<u32> = events(&mut link.esme)
        .into_iter()
        .map(|e| match e {
            Event::Response { tag, .. } => tag,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(tags, (1..=8).collect::<Vec<_>>());
}

#[test]
fn closes_an_smsc_session_nobody_binds_within_the_bind_timeout() {
    let mut link = Link::new();
    let deadline = link.at(0) + Config::smsc().bind_timeout;
    assert_eq!(link.smsc.poll_timeout(), Some(deadline));
    assert_eq!(link.esme.poll_timeout(), None);
    link.smsc
        .handle_timeout(deadline - Duration::from_millis(1));
    assert!(!link.smsc.wants_close());
    link.smsc.handle_timeout(deadline);
    assert!(link.smsc.wants_close());
    assert_eq!(link.smsc.poll_event(), None);
}

#[test]
fn a_bound_smsc_session_has_no_bind_timeout() {
    let mut link = Link::bound(BindType::Transceiver);
    link.smsc.handle_timeout(link.at(11));
    assert!(!link.smsc.wants_close());
}

#[test]
fn unbinds_after_inactivity() {
    let mut link = Link::with(
        Config::esme(),
        Config {
            enquire_link_interval: Duration::ZERO,
            inactivity_timeout: Some(Duration::from_secs(60)),
            ..Config::smsc()
        },
    );
    link.bind(BindType::Transceiver, 0);
    assert_eq!(link.smsc.poll_timeout(), Some(link.at(60)));
    link.smsc.handle_timeout(link.at(59));
    assert_eq!(link.smsc.state(), State::Bound(BindType::Transceiver));
    link.smsc.handle_timeout(link.at(60));
    assert_eq!(link.smsc.state(), State::Unbinding);
    assert_eq!(only_pdu(&mut link.smsc).body, Body::Unbind);
}

#[test]
fn refuses_responses_to_requests_not_owed() {
    let mut link = Link::bound(BindType::Transceiver);
    let now = link.at(1);
    assert_eq!(
        link.smsc.send_response(
            SequenceNumber(5),
            CommandStatus::ESME_ROK,
            submit_resp("x"),
            now
        ),
        Err(SendError::NotAllowed {
            command_id: CommandId::SUBMIT_SM_RESP,
            state: State::Bound(BindType::Transceiver)
        })
    );
    let seq = link.esme.submit_request(submit("x"), 1, now);
    link.pump(now);
    link.smsc.poll_event();
    // The wrong kind of response for a submit_sm.
    assert!(link
        .smsc
        .send_response(seq, CommandStatus::ESME_ROK, Body::EnquireLinkResp, now)
        .is_err());
    link.smsc
        .send_response(seq, CommandStatus::ESME_ROK, submit_resp("x"), now)
        .unwrap();
    // Answered once is answered.
    assert!(link
        .smsc
        .send_response(seq, CommandStatus::ESME_ROK, submit_resp("x"), now)
        .is_err());
}

#[test]
fn delivers_to_a_receiver_and_matches_the_deliver_sm_resp() {
    let mut link = Link::bound(BindType::Receiver);
    let now = link.at(1);
    let Body::SubmitSm(sm) = submit("receipt") else {
        unreachable!()
    };
    let seq = link
        .smsc
        .send_request(Body::DeliverSm(sm), 900, now)
        .unwrap();
    link.pump(now);
    let Some(Event::Request(pdu)) = link.esme.poll_event() else {
        panic!("no deliver_sm")
    };
    assert_eq!(pdu.command_id(), CommandId::DELIVER_SM);
    link.esme
        .send_response(
            seq,
            CommandStatus::ESME_ROK,
            Body::DeliverSmResp(SubmitSmResp::new(Default::default())),
            now,
        )
        .unwrap();
    link.pump(now);
    assert!(matches!(
        link.smsc.poll_event(),
        Some(Event::Response {
            tag: 900,
            request: CommandId::DELIVER_SM,
            ..
        })
    ));
}

#[test]
fn an_outbind_reaches_the_esme_which_then_binds() {
    let mut link = Link::new();
    let now = link.at(0);
    link.smsc
        .send_request(Body::Outbind(Default::default()), 0, now)
        .unwrap();
    assert_eq!(link.smsc.outstanding(), 0);
    link.pump(now);
    let Some(Event::Request(pdu)) = link.esme.poll_event() else {
        panic!("no outbind")
    };
    assert_eq!(pdu.command_id(), CommandId::OUTBIND);
    link.bind(BindType::Receiver, 0);
}

#[test]
fn a_bind_response_that_times_out_leaves_the_esme_open() {
    let mut link = Link::new();
    link.esme
        .bind(BindType::Transceiver, bind_body(), 3, link.at(0))
        .unwrap();
    link.esme.poll_transmit();
    link.esme.handle_timeout(link.at(30));
    assert_eq!(
        events(&mut link.esme),
        vec![Event::Timeout {
            tag: 3,
            request: CommandId::BIND_TRANSCEIVER
        }]
    );
    assert_eq!(link.esme.state(), State::Open);
    // A new bind may go out.
    link.esme
        .bind(BindType::Transceiver, bind_body(), 4, link.at(31))
        .unwrap();
}

#[test]
fn surfaces_both_requests_when_a_peer_reuses_a_sequence_number_and_lets_both_be_answered() {
    let mut link = Link::bound(BindType::Transmitter);
    let now = link.at(1);
    for _ in 0..2 {
        link.smsc
            .handle_pdu(Pdu::new(SequenceNumber(6), submit("twice")), now);
    }
    assert_eq!(events(&mut link.smsc).len(), 2);
    assert_eq!(link.smsc.unanswered(), 2);
    for _ in 0..2 {
        link.smsc
            .send_response(
                SequenceNumber(6),
                CommandStatus::ESME_ROK,
                submit_resp("x"),
                now,
            )
            .unwrap();
    }
    assert_eq!(link.smsc.unanswered(), 0);
}

#[test]
fn poll_timeout_is_the_earliest_of_response_deadline_and_enquire_link() {
    let mut link = Link::bound(BindType::Transceiver);
    // Bound at 0: enquire_link due at 30 s.
    assert_eq!(link.esme.poll_timeout(), Some(link.at(30)));
    link.esme.submit_request(submit("x"), 1, link.at(0));
    // The response deadline is also 30 s; a request sent later does not move the earliest deadline.
    link.esme.submit_request(submit("y"), 2, link.at(20));
    assert_eq!(link.esme.poll_timeout(), Some(link.at(30)));
    let answered = link.at(25);
    link.pump(answered);
    answer_submits(&mut link.smsc, answered);
    link.pump(answered);
    // Both answered at 25 s: the next thing is the enquire_link 30 s after that traffic.
    assert_eq!(link.esme.poll_timeout(), Some(link.at(55)));
}

/// What a random run may do to the ESME end.
#[derive(Clone, Debug)]
enum Step {
    Send,
    AnswerOldest,
    Advance(u8),
    Close,
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => Just(Step::Send),
        3 => Just(Step::AnswerOldest),
        2 => (1u8..40).prop_map(Step::Advance),
        1 => Just(Step::Close),
    ]
}

proptest::proptest! {
    /// Whatever happens, every tag of a request that was sent comes back exactly once: as a response, a timeout, or
    /// from handle_close.
    #[test]
    fn every_tag_comes_back_exactly_once(steps in proptest::collection::vec(step(), 1..80)) {
        let mut link = Link::bound(BindType::Transceiver);
        let mut now = link.at(0);
        let mut sent = Vec::new();
        let mut back = Vec::new();
        let mut next_tag = 100;
        let mut unanswered = std::collections::VecDeque::new();
        for step in steps {
            match step {
                Step::Send => {
                    if link.esme.send_request(submit("p"), next_tag, now).is_ok() {
                        sent.push(next_tag);
                    }
                    next_tag += 1;
                }
                Step::AnswerOldest => {
                    if let Some(bytes) = link.esme.poll_transmit() {
                        deliver(&mut link.smsc, bytes, now);
                    }
                    for event in events(&mut link.smsc) {
                        if let Event::Request(pdu) = event {
                            unanswered.push_back(pdu.sequence_number);
                        }
                    }
                    if let Some(seq) = unanswered.pop_front() {
                        link.smsc
                            .send_response(seq, CommandStatus::ESME_ROK, submit_resp("m"), now)
                            .unwrap();
                    }
                    if let Some(bytes) = link.smsc.poll_transmit() {
                        deliver(&mut link.esme, bytes, now);
                    }
                }
                Step::Advance(secs) => {
                    now += Duration::from_secs(u64::from(secs));
                    link.esme.handle_timeout(now);
                    link.smsc.handle_timeout(now);
                }
                Step::Close => {
                    back.extend(link.esme.handle_close());
                }
            }
            for event in events(&mut link.esme) {
                if let Event::Response { tag, .. } | Event::Timeout { tag, .. } = event {
                    back.push(tag);
                }
            }
        }
        back.extend(link.esme.handle_close());
        back.sort_unstable();
        proptest::prop_assert_eq!(back, sent);
    }
}
