//! query_sm, cancel_sm, data_sm, submit_multi and replace_sm against a running gateway, from a raw ESME written with the
//! smpp crate. The only carrier points at a port nobody listens on, so every accepted message stays queued: that is
//! what lets a test query and cancel it.

use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use smpp::pdu::{Bind, Body, CancelSm, DataSm, DestAddress, QuerySm, SubmitMulti, SubmitSm};
use smpp::tlv::TlvTag;
use smpp::types::{Address, COctetString, DataCoding, Npi, OctetString, Ton};
use smpp::{CommandStatus, Pdu, SequenceNumber};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use sluice::config::Config;

const CONFIG: &str = r#"
[server]
smpp_listen = "127.0.0.1:0"

[[account]]
system_id = "bank"
# "password"
password_hash = "HASH"
sender_ids = ["BANK"]
default_country = "49"

[[carrier]]
name = "down"
host = "127.0.0.1"
port = 1
system_id = "x"
password = "x"
sender_ids = ["*"]
reconnect_min = "1h"
reconnect_max = "1h"

[[route]]
prefix = ""
carriers = [{ carrier = "down" }]
"#;

struct Esme {
    stream: TcpStream,
    buf: BytesMut,
    seq: SequenceNumber,
}

impl Esme {
    async fn bind(addr: std::net::SocketAddr) -> Esme {
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut esme = Esme {
            stream,
            buf: BytesMut::new(),
            seq: SequenceNumber(0),
        };
        let bind = Bind {
            system_id: COctetString::try_from("bank").unwrap(),
            password: COctetString::try_from("password").unwrap(),
            interface_version: 0x34,
            ..Bind::default()
        };
        let resp = esme.call(Body::BindTransceiver(bind)).await;
        assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
        esme
    }

    /// Sends a request and returns its response.
    async fn call(&mut self, body: Body) -> Pdu {
        self.seq = self.seq.next();
        let seq = self.seq;
        self.stream
            .write_all(&Pdu::new(seq, body).to_bytes())
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(frame) = smpp::frame::split_frame(&mut self.buf, 65536).unwrap() {
                    let pdu = Pdu::decode(frame).unwrap();
                    if pdu.sequence_number == seq {
                        return pdu;
                    }
                    continue;
                }
                let n = self.stream.read_buf(&mut self.buf).await.unwrap();
                assert!(n > 0, "the gateway closed the connection");
            }
        })
        .await
        .expect("a response within 10 s")
    }

    async fn submit(&mut self, dest: &str) -> String {
        let sm = SubmitSm {
            source_addr: addr("BANK"),
            dest_addr: addr(dest),
            short_message: OctetString::new(&b"hello"[..]).unwrap(),
            ..SubmitSm::default()
        };
        let resp = self.call(Body::SubmitSm(sm)).await;
        assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
        let Body::SubmitSmResp(r) = resp.body else {
            panic!("{resp:?}")
        };
        r.message_id.unwrap().to_str_lossy().into_owned()
    }
}

fn addr<const N: usize>(a: &str) -> Address<N> {
    let ton = if a.bytes().all(|b| b.is_ascii_digit()) {
        Ton::INTERNATIONAL
    } else {
        Ton::ALPHANUMERIC
    };
    Address::new(ton, Npi::ISDN, a).unwrap()
}

async fn gateway() -> sluice::app::Running {
    let hash = sluice::gateway::accounts::hash_password("password");
    let text = CONFIG.replace("HASH", &hash);
    let config = Config::parse(Path::new("esme_operations.toml"), &text).unwrap();
    sluice::app::start(&config).await.unwrap()
}

#[tokio::test]
async fn query_sm_reports_a_queued_message_and_cancel_sm_removes_it() {
    let gw = gateway().await;
    let mut esme = Esme::bind(gw.smpp_addr).await;
    let id = esme.submit("4915112345678").await;

    let query = |id: &str| {
        Body::QuerySm(QuerySm {
            message_id: COctetString::try_from(id).unwrap(),
            source_addr: addr("BANK"),
        })
    };
    let resp = esme.call(query(&id)).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    let Body::QuerySmResp(q) = resp.body else {
        panic!("{resp:?}")
    };
    assert_eq!(q.message_id.unwrap().to_str_lossy(), id);
    assert_eq!(q.message_state, smpp::pdu::MessageState::ENROUTE);
    assert!(q.final_date.is_empty());

    let cancel = |id: &str| {
        Body::CancelSm(CancelSm {
            message_id: COctetString::try_from(id).unwrap(),
            source_addr: addr("BANK"),
            dest_addr: addr("4915112345678"),
            ..CancelSm::default()
        })
    };
    assert_eq!(
        esme.call(cancel(&id)).await.command_status,
        CommandStatus::ESME_ROK
    );
    // Cancelled is final: its state and final date show it, and it cannot be cancelled twice.
    let resp = esme.call(query(&id)).await;
    let Body::QuerySmResp(q) = resp.body else {
        panic!("{resp:?}")
    };
    assert_eq!(q.message_state, smpp::pdu::MessageState::DELETED);
    assert_eq!(q.final_date.as_bytes().len(), 16);
    assert_eq!(
        esme.call(cancel(&id)).await.command_status,
        CommandStatus::ESME_RCANCELFAIL
    );
    assert_eq!(
        gw.gateway
            .carrier(sluice::message::CarrierId(0))
            .queue
            .len(),
        0
    );

    // Ids that are not Sluice's, or are nobody's.
    assert_eq!(
        esme.call(query("not-hex")).await.command_status,
        CommandStatus::ESME_RINVMSGID
    );
    assert_eq!(
        esme.call(query("00000000DEADBEEF")).await.command_status,
        CommandStatus::ESME_RQUERYFAIL
    );
    gw.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn data_sm_is_validated_and_queued_like_submit_sm() {
    let gw = gateway().await;
    let mut esme = Esme::bind(gw.smpp_addr).await;
    let data_sm = |dest: &str| {
        let mut dm = DataSm {
            source_addr: addr("BANK"),
            dest_addr: addr(dest),
            data_coding: DataCoding::DEFAULT,
            ..DataSm::default()
        };
        dm.tlvs
            .set(TlvTag::MESSAGE_PAYLOAD, &b"your code is 1234"[..])
            .unwrap();
        Body::DataSm(dm)
    };
    let resp = esme.call(data_sm("4915112345678")).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    let Body::DataSmResp(r) = resp.body else {
        panic!("{resp:?}")
    };
    assert_eq!(r.message_id.unwrap().as_bytes().len(), 16);
    assert_eq!(
        esme.call(data_sm("49151abc")).await.command_status,
        CommandStatus::ESME_RINVDSTADR
    );
    assert_eq!(
        gw.gateway
            .carrier(sluice::message::CarrierId(0))
            .queue
            .len(),
        1
    );
    gw.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn submit_multi_queues_each_good_destination_and_lists_the_bad_ones() {
    let gw = gateway().await;
    let mut esme = Esme::bind(gw.smpp_addr).await;
    let multi = |dests: Vec<DestAddress>| {
        Body::SubmitMulti(SubmitMulti {
            service_type: COctetString::empty(),
            source_addr: addr("BANK"),
            dest_addrs: smpp::pdu::DestAddresses::new(dests).unwrap(),
            esm_class: Default::default(),
            protocol_id: 0,
            priority_flag: Default::default(),
            schedule_delivery_time: COctetString::empty(),
            validity_period: COctetString::empty(),
            registered_delivery: Default::default(),
            replace_if_present_flag: 0,
            data_coding: DataCoding::DEFAULT,
            sm_default_msg_id: 0,
            short_message: OctetString::new(&b"branch closed today"[..]).unwrap(),
            tlvs: Default::default(),
        })
    };
    let resp = esme
        .call(multi(vec![
            DestAddress::Sme(addr("4915112345678")),
            DestAddress::Sme(addr("49151xyz")),
            DestAddress::Sme(addr("4917012345678")),
        ]))
        .await;
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    let Body::SubmitMultiResp(r) = resp.body else {
        panic!("{resp:?}")
    };
    assert_eq!(r.message_id.unwrap().as_bytes().len(), 16);
    let failed = r.unsuccess_smes.as_slice();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].dest_addr.addr.to_str_lossy(), "49151xyz");
    assert_eq!(failed[0].error_status_code, CommandStatus::ESME_RINVDSTADR);
    assert_eq!(
        gw.gateway
            .carrier(sluice::message::CarrierId(0))
            .queue
            .len(),
        2
    );

    // A distribution list is refused whole, before anything is queued.
    let resp = esme
        .call(multi(vec![
            DestAddress::Sme(addr("4915112345679")),
            DestAddress::DistributionList(COctetString::try_from("staff").unwrap()),
        ]))
        .await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RINVDLNAME);
    assert_eq!(
        gw.gateway
            .carrier(sluice::message::CarrierId(0))
            .queue
            .len(),
        2
    );
    gw.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn replace_sm_is_refused_with_its_own_status_and_the_bind_stays() {
    let gw = gateway().await;
    let mut esme = Esme::bind(gw.smpp_addr).await;
    let id = esme.submit("4915112345678").await;
    let replace = smpp::pdu::ReplaceSm {
        message_id: COctetString::try_from(id.as_str()).unwrap(),
        source_addr: addr("BANK"),
        ..smpp::pdu::ReplaceSm::default()
    };
    let resp = esme.call(Body::ReplaceSm(replace)).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RREPLACEFAIL);
    assert!(matches!(resp.body, Body::ReplaceSmResp));
    // Still bound: the next submit is accepted.
    esme.submit("4915112345679").await;
    gw.shutdown(Duration::from_secs(1)).await;
}
