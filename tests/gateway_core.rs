//! Issue #3, the gateway core, end to end: the real gateway on loopback ports, driven by third-party SMPP peers (smpplib's
//! `esme.py` as the client, node-smpp's `smsc.js` or the built-in simulator as the carrier), plus a raw ESME built on the
//! `smpp` crate where a byte-level scenario needs one.
//!
//! Run with `./scripts/test` (it installs the peers), or, with smpplib and node-smpp installed elsewhere:
//! `SLUICE_PEERS_PYTHONPATH=… SLUICE_PEERS_NODE_PATH=… cargo test --test gateway_core`. Nothing here sleeps a fixed time:
//! tests wait for events (peer output, gateway state) with generous timeouts, and short configured delays (10 ms
//! receipts, a 300 ms validity) keep the waits brief.

mod common;

use std::time::Duration;

use common::*;
use sluice::app;
use sluice::message::Class;
use smpp::CommandStatus;

const GRACE: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smpplib_client_gets_every_submit_accepted_and_every_receipt_matched_via_the_simulator() {
    let config = config(Upstream::Simulator("receipt_delay = \"10ms\""), "", "");
    let gw = app::start(&config).await.unwrap();

    let report = run_esme(gw.smpp_addr, &["--count", "20", "--wait", "20"]).await;

    assert!(report.success, "esme.py failed: {}", report.stderr);
    assert_eq!(report.json["bound"], true);
    assert_eq!(report.n("submitted"), 20);
    assert_eq!(report.n("accepted"), 20, "{}", report.json);
    assert_eq!(report.n("receipts_matched"), 20, "{}", report.json);
    assert_eq!(report.json["receipt_stats"], serde_json::json!(["DELIVRD"]));
    let sim = gw.simulator.as_ref().expect("simulator enabled");
    assert_eq!(
        sim.stats
            .accepted
            .load(std::sync::atomic::Ordering::Relaxed),
        20,
        "the simulator took each message once"
    );
    gw.shutdown(GRACE).await;
}

/// The UDH of a smsc.js `submit_sm` event as (reference, total, sequence) of its 8-bit concatenation element.
fn concat_of(event: &serde_json::Value) -> (u8, u8, u8) {
    let ies = event["udh"].as_array().expect("a UDH");
    let ie = ies
        .iter()
        .filter_map(|ie| ie.as_str())
        .find(|ie| ie.starts_with("0003"))
        .unwrap_or_else(|| panic!("no 8-bit concatenation element in {event}"));
    let octet = |i: usize| u8::from_str_radix(&ie[i * 2..i * 2 + 2], 16).unwrap();
    (octet(2), octet(3), octet(4))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_ucs2_message_reaches_one_smsc_js_carrier_in_order_and_its_receipts_come_back() {
    let smsc = Smsc::start(free_port(), &["--dlr-delay-ms", "10"]).await;
    // One session: SMPP orders PDUs within a session only, so "in order" is a per-session promise.
    let config = config(Upstream::Port(smsc.port), "sessions = 1", "");
    let gw = app::start(&config).await.unwrap();

    let report = run_esme(
        gw.smpp_addr,
        &["--long-ucs2", "--count", "1", "--wait", "20"],
    )
    .await;

    assert!(report.success, "esme.py failed: {}", report.stderr);
    let parts = report.n("submitted");
    assert!(
        parts >= 2,
        "the text needs several segments: {}",
        report.json
    );
    assert_eq!(report.n("accepted"), parts, "{}", report.json);
    assert_eq!(report.n("receipts_matched"), parts, "{}", report.json);
    assert_eq!(report.json["receipt_stats"], serde_json::json!(["DELIVRD"]));

    let submits = smsc.events_of("submit_sm");
    assert_eq!(
        submits.len() as u64,
        parts,
        "every segment reached smsc.js once"
    );
    let concat: Vec<(u8, u8, u8)> = submits.iter().map(concat_of).collect();
    let reference = concat[0].0;
    for (i, (r, total, seq)) in concat.iter().enumerate() {
        assert_eq!(*r, reference, "one concatenation reference: {concat:?}");
        assert_eq!(u64::from(*total), parts, "{concat:?}");
        assert_eq!(usize::from(*seq), i + 1, "segments in order: {concat:?}");
    }
    for s in &submits {
        assert_eq!(s["data_coding"], 8, "UCS-2 kept");
        assert_eq!(s["esm_class"].as_u64().unwrap() & 0x40, 0x40, "UDHI kept");
        assert_eq!(s["destination_addr"], "4915112345678");
    }
    // Every receipt smsc.js sent was acknowledged by Sluice.
    smsc.wait_for("receipts acknowledged", |evs| {
        evs.iter()
            .filter(|e| e["event"] == "receipt_acked" && e["status"] == 0)
            .count() as u64
            == parts
    })
    .await;
    gw.shutdown(GRACE).await;
}

/// The `command_status` smpplib raised for a refused PDU (`PDUError: ('(N) command_resp: …', N)`), with the command.
fn smpplib_error(report: &EsmeReport) -> (u32, String) {
    let at = report
        .stderr
        .find("PDUError: ('(")
        .unwrap_or_else(|| panic!("esme.py raised no PDUError: {}", report.stderr));
    let rest = &report.stderr[at + "PDUError: ('(".len()..];
    let (status, rest) = rest.split_once(") ").expect("status then command");
    let command = rest.split(':').next().unwrap().to_string();
    (status.parse().expect("numeric status"), command)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_password_unowned_sender_and_non_numeric_destination_get_their_statuses() {
    let config = config(Upstream::Simulator("receipt_delay = \"10ms\""), "", "");
    let gw = app::start(&config).await.unwrap();
    let addr = gw.smpp_addr;

    let (bad_password, bad_sender, bad_dest) = tokio::join!(
        run_esme(addr, &["--password", "wrong-pw", "--count", "1"]),
        run_esme(addr, &["--source", "BANK", "--count", "1", "--wait", "5"]),
        run_esme(
            addr,
            &["--destination", "abc", "--count", "1", "--wait", "5"]
        ),
    );

    assert!(!bad_password.success && bad_password.json.is_null());
    assert_eq!(
        smpplib_error(&bad_password),
        (
            CommandStatus::ESME_RINVPASWD.0,
            "bind_transceiver_resp".into()
        )
    );
    assert_eq!(
        smpplib_error(&bad_sender),
        (CommandStatus::ESME_RINVSRCADR.0, "submit_sm_resp".into())
    );
    assert_eq!(
        smpplib_error(&bad_dest),
        (CommandStatus::ESME_RINVDSTADR.0, "submit_sm_resp".into())
    );
    // Refused messages are not queued, and nothing reached the carrier.
    assert_eq!(
        gw.gateway
            .carrier(sluice::message::CarrierId(0))
            .queue
            .len(),
        0
    );
    let sim = gw.simulator.as_ref().unwrap();
    assert_eq!(
        sim.stats
            .accepted
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );

    // The same account with its own sender and a real number is accepted: the refusals were about the fields.
    let good = run_esme(addr, &["--count", "1", "--wait", "10"]).await;
    assert_eq!(
        (good.n("accepted"), good.n("receipts_matched")),
        (1, 1),
        "{}",
        good.json
    );
    gw.shutdown(GRACE).await;
}

/// Runs the built `sluice check-config` on `text` written to a file; returns (exit success, stderr+stdout, path).
fn check_config(name: &str, text: &str) -> (bool, String, String) {
    let path = std::env::temp_dir().join(format!("sluice-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("check-config")
        .arg(&path)
        .output()
        .expect("run sluice check-config");
    let _ = std::fs::remove_file(&path);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.success(), text, path.display().to_string())
}

#[test]
fn check_config_names_file_line_and_field_of_a_broken_config_and_exits_non_zero() {
    let example = include_str!("../config/sluice.toml");
    let (ok, out, _) = check_config("good", example);
    assert!(ok, "the example config passes: {out}");

    // An unknown field: a typo in [[account]].
    let line = example
        .lines()
        .position(|l| l.starts_with("default_country"))
        .expect("the example has default_country")
        + 1;
    let typo = example.replace("default_country = ", "default_countyr = ");
    let (ok, out, path) = check_config("typo", &typo);
    assert!(!ok, "a typo fails the check: {out}");
    assert!(
        out.contains(&format!("{path}:{line}:")) && out.contains("default_countyr"),
        "file {path}, line {line} and the field are named: {out}"
    );

    // A cross-section error: a route naming a carrier that does not exist.
    let line = example
        .lines()
        .position(|l| l.contains("carrier = \"sim\""))
        .unwrap()
        + 1;
    let dangling = example.replace("{ carrier = \"sim\"", "{ carrier = \"nope\"");
    let (ok, out, path) = check_config("route", &dangling);
    assert!(!ok, "a dangling route fails the check: {out}");
    assert!(
        out.contains(&format!("{path}:{line}:")) && out.contains("route[0].carriers[0].carrier"),
        "file {path}, line {line} and the field are named: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_command_id_gets_generic_nack_and_the_bind_survives() {
    let config = config(Upstream::Simulator("receipt_delay = \"10ms\""), "", "");
    let gw = app::start(&config).await.unwrap();
    let mut esme = RawEsme::bind_demo(gw.smpp_addr).await;

    // A 16-octet header with command_id 0x00000999, which SMPP 3.4 does not define, and sequence number 7.
    let mut bad = Vec::new();
    for word in [16u32, 0x0000_0999, 0, 7] {
        bad.extend_from_slice(&word.to_be_bytes());
    }
    esme.send_raw(&bad).await;
    let nack = esme
        .recv()
        .await
        .expect("an answer, not a closed connection");
    assert_eq!(nack.body, smpp::pdu::Body::GenericNack, "{nack:?}");
    assert_eq!(nack.sequence_number, smpp::SequenceNumber(7));
    assert_eq!(nack.command_status, CommandStatus::ESME_RINVCMDID);

    // Still bound: a submit is accepted and its receipt comes back on the same connection.
    let seq = esme
        .send(smpp::pdu::Body::SubmitSm(submit("after the nack", "")))
        .await;
    let resp = esme.recv().await.expect("submit_sm_resp");
    assert_eq!(resp.sequence_number, seq);
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK, "{resp:?}");
    let smpp::pdu::Body::SubmitSmResp(resp) = resp.body else {
        panic!("{resp:?}")
    };
    let id = resp.message_id.expect("an id").to_str_lossy().into_owned();
    let receipt = esme.recv().await.expect("receipt deliver_sm");
    let smpp::pdu::Body::DeliverSm(d) = &receipt.body else {
        panic!("{receipt:?}")
    };
    assert_eq!(d.tlvs.receipted_message_id(), Some(id.as_bytes()));
    esme.answer(&receipt).await;
    drop(esme);
    gw.shutdown(GRACE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_overtakes_ten_thousand_queued_marketing_messages() {
    const MARKETING: usize = 10_000;
    const WINDOW: usize = 10;
    // The carrier's port is reserved but nobody listens yet: the gateway keeps reconnecting and nothing drains.
    let port = free_port();
    let config = config(
        Upstream::Port(port),
        &format!("window = {WINDOW}\nsessions = 1"),
        "",
    );
    let gw = app::start(&config).await.unwrap();
    let queue = &gw.gateway.carrier(sluice::message::CarrierId(0)).queue;

    // 10,000 marketing messages (service_type MKT, by the config's class rule), no receipts wanted.
    let mut esme = RawEsme::bind_demo(gw.smpp_addr).await;
    let marketing = flood(MARKETING, "Sale", "MKT");
    let statuses = esme.submit_all(marketing).await;
    assert!(statuses.iter().all(|s| s.is_ok()), "all marketing accepted");
    drop(esme);
    assert_eq!(queue.depth()[Class::Marketing.index()], MARKETING);

    // Then one OTP from smpplib (service_type OTP), which waits for its receipt.
    let otp = spawn_esme(
        gw.smpp_addr,
        &[
            "--service-type",
            "OTP",
            "--text",
            "Your code is 424242",
            "--count",
            "1",
            "--wait",
            "40",
        ],
    );
    eventually("the OTP queued", || queue.depth()[Class::Otp.index()] == 1).await;
    assert_eq!(queue.len(), MARKETING + 1, "nothing drained yet");

    // Now the carrier comes up and drains the queue.
    let smsc = Smsc::start(port, &["--dlr-delay-ms", "10"]).await;
    smsc.wait_for("every message at the carrier", |evs| {
        evs.iter().filter(|e| e["event"] == "submit_sm").count() > MARKETING
    })
    .await;
    let otp = finish_esme(otp).await;
    assert_eq!(
        (otp.n("accepted"), otp.n("receipts_matched")),
        (1, 1),
        "{} {}",
        otp.json,
        otp.stderr
    );

    let texts: Vec<String> = smsc
        .events_of("submit_sm")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    let position = texts
        .iter()
        .position(|t| t == "Your code is 424242")
        .expect("the OTP reached the carrier");
    assert!(
        position < WINDOW,
        "the OTP went out {position}th of {}, behind more than a window of marketing",
        texts.len()
    );
    let unique: std::collections::HashSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), MARKETING + 1, "each message sent once");
    gw.shutdown(GRACE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_otp_is_never_sent_and_its_client_gets_an_expired_receipt() {
    // OTPs are valid for 300 ms by the class default; the carrier is down past that.
    let port = free_port();
    let config = config(
        Upstream::Port(port),
        "",
        "[classes.otp]\nvalidity = \"300ms\"",
    );
    let gw = app::start(&config).await.unwrap();

    let otp = run_esme(
        gw.smpp_addr,
        &[
            "--service-type",
            "OTP",
            "--text",
            "Your code is 777777",
            "--count",
            "1",
            "--wait",
            "20",
        ],
    )
    .await;
    assert_eq!(
        (otp.n("accepted"), otp.n("receipts_matched")),
        (1, 1),
        "{} {}",
        otp.json,
        otp.stderr
    );
    assert_eq!(otp.json["receipt_stats"], serde_json::json!(["EXPIRED"]));
    let queue = &gw.gateway.carrier(sluice::message::CarrierId(0)).queue;
    assert_eq!(queue.len(), 0, "the expired OTP left the queue");

    // The carrier comes up; a later message goes through, and the OTP never does.
    let smsc = Smsc::start(port, &["--dlr-delay-ms", "10"]).await;
    smsc.wait_for("the gateway bound", |evs| {
        evs.iter().any(|e| e["event"] == "bind")
    })
    .await;
    let later = run_esme(
        gw.smpp_addr,
        &[
            "--text",
            "Your parcel is on its way",
            "--count",
            "1",
            "--wait",
            "20",
        ],
    )
    .await;
    assert_eq!(later.json["receipt_stats"], serde_json::json!(["DELIVRD"]));
    let texts: Vec<_> = smsc
        .events_of("submit_sm")
        .iter()
        .map(|e| e["message"].clone())
        .collect();
    assert_eq!(texts, vec![serde_json::json!("Your parcel is on its way")]);
    gw.shutdown(GRACE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_validity_period_expires_a_queued_message_with_an_expired_receipt() {
    // SMPP 3.4 §7.1.1.2 relative time: 1 second. The carrier never comes up.
    let config = config(Upstream::Port(free_port()), "", "");
    let gw = app::start(&config).await.unwrap();
    let mut esme = RawEsme::bind_demo(gw.smpp_addr).await;
    let mut sm = submit("Your code is 135790", "OTP");
    sm.validity_period = smpp::types::COctetString::try_from("000000000001000R").unwrap();
    let seq = esme.send(smpp::pdu::Body::SubmitSm(sm)).await;
    let resp = esme.recv().await.expect("submit_sm_resp");
    assert_eq!(
        (resp.sequence_number, resp.command_status),
        (seq, CommandStatus::ESME_ROK)
    );
    let smpp::pdu::Body::SubmitSmResp(resp) = resp.body else {
        panic!("{resp:?}")
    };
    let id = resp.message_id.unwrap().to_str_lossy().into_owned();

    let receipt = esme.recv().await.expect("a receipt");
    let smpp::pdu::Body::DeliverSm(d) = &receipt.body else {
        panic!("{receipt:?}")
    };
    assert_eq!(d.tlvs.receipted_message_id(), Some(id.as_bytes()));
    let text = smpp::receipt::parse(d.payload()).expect("receipt text");
    assert_eq!(text.stat.as_str(), "EXPIRED");
    assert_eq!(
        d.tlvs.message_state(),
        Some(3),
        "EXPIRED (SMPP 3.4 §5.2.28)"
    );
    esme.answer(&receipt).await;
    drop(esme);
    gw.shutdown(GRACE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_dropping_its_connection_mid_flood_loses_nothing() {
    const COUNT: u64 = 2000;
    const WINDOW: u64 = 20;
    // The simulator drops the link, with that submit unanswered, on every 150th submit_sm a connection receives; the
    // gateway keeps two sessions and reconnects after 10-50 ms.
    let config = config(
        Upstream::Simulator("receipt_delay = \"10ms\"\ndisconnect_every = 150"),
        &format!("window = {WINDOW}\nsessions = 2"),
        "",
    );
    let gw = app::start(&config).await.unwrap();

    let report = run_esme(
        gw.smpp_addr,
        &["--count", &COUNT.to_string(), "--wait", "30"],
    )
    .await;

    let sim = gw.simulator.as_ref().unwrap();
    let stat = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        stat(&sim.stats.disconnects) >= COUNT / 150 / 2,
        "the carrier dropped the link repeatedly ({} times)",
        stat(&sim.stats.disconnects)
    );
    assert_eq!(report.n("accepted"), COUNT, "{}", report.json);
    // A receipt for each of the client's ids means each message reached the carrier. Submits unanswered when a link
    // dropped were sent again; only those whose answer was lost with the link can have been taken twice.
    let taken = stat(&sim.stats.accepted);
    let drops = stat(&sim.stats.disconnects);
    assert!(
        taken >= COUNT && taken - COUNT <= drops * WINDOW,
        "the carrier took {taken} submits for {COUNT} messages over {drops} dropped links"
    );
    assert_eq!(report.n("receipts_matched"), COUNT, "{}", report.json);
    assert_eq!(report.json["receipt_stats"], serde_json::json!(["DELIVRD"]));
    gw.shutdown(GRACE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smsc_js_killed_mid_flood_and_restarted_gets_every_message() {
    const COUNT: usize = 5000;
    const WINDOW: usize = 20;
    let port = free_port();
    let config = config(
        Upstream::Port(port),
        &format!("window = {WINDOW}\nsessions = 1"),
        "",
    );
    let gw = app::start(&config).await.unwrap();
    let queue = &gw.gateway.carrier(sluice::message::CarrierId(0)).queue;

    // The flood is queued while the carrier is down, so it is still being drained when the carrier dies.
    let mut esme = RawEsme::bind_demo(gw.smpp_addr).await;
    let statuses = esme.submit_all(flood(COUNT, "flood", "")).await;
    assert!(statuses.iter().all(|s| s.is_ok()), "all accepted");
    drop(esme);

    let first = Smsc::start(port, &["--dlr-delay-ms", "10"]).await;
    first
        .wait_for("a share of the flood at the first carrier", |evs| {
            evs.iter().filter(|e| e["event"] == "submit_sm").count() >= COUNT / 10
        })
        .await;
    let before = first.kill().await;
    assert!(!queue.is_empty(), "the carrier died mid-flood");

    let second = Smsc::start(port, &["--dlr-delay-ms", "10"]).await;
    let texts = |evs: &[serde_json::Value]| -> Vec<String> {
        evs.iter()
            .filter(|e| e["event"] == "submit_sm")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let seen_before = texts(&before);
    second
        .wait_for("every message at one carrier or the other", |evs| {
            let mut all: std::collections::HashSet<String> = seen_before.iter().cloned().collect();
            all.extend(texts(evs));
            all.len() == COUNT
        })
        .await;
    let total = seen_before.len() + texts(&second.events()).len();
    // Only submits in flight when the link died can reach a carrier twice (their answers were lost with it).
    assert!(
        total - COUNT <= WINDOW,
        "{} messages sent twice, more than a window",
        total - COUNT
    );
    assert_eq!(queue.len(), 0);
    gw.shutdown(GRACE).await;
}

/// Part `seq` of `total` of a long UCS-2 message with 8-bit concatenation reference `reference` (3GPP TS 23.040
/// §9.2.3.24.1), as an ESME sends it: UDHI set, the UDH at the start of short_message.
fn long_part(reference: u8, total: u8, seq: u8, text: &str) -> smpp::pdu::SubmitSm {
    let mut body = vec![0x05, 0x00, 0x03, reference, total, seq];
    body.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    smpp::pdu::SubmitSm {
        esm_class: smpp::types::EsmClass::UDHI,
        data_coding: smpp::types::DataCoding::UCS2,
        short_message: smpp::types::OctetString::new(bytes::Bytes::from(body)).unwrap(),
        ..submit("", "")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_parts_of_a_long_message_follow_the_first_to_its_carrier() {
    // Two carriers on one route: `up` is cheaper but down at first, so the first part goes to `alt`.
    let up_port = free_port();
    let alt = Smsc::start(free_port(), &["--dlr-delay-ms", "10"]).await;
    let config = parse_config(
        &format!(
            "{}\nhost = \"127.0.0.1\"\nport = {up_port}\n{}\nhost = \"127.0.0.1\"\nport = {}\n
[[route]]
prefix = \"\"
carriers = [{{ carrier = \"up\", cost = 0.01 }}, {{ carrier = \"alt\", cost = 0.02 }}]",
            carrier("up"),
            carrier("alt"),
            alt.port
        ),
        "",
    );
    let gw = app::start(&config).await.unwrap();
    let up_queue = &gw.gateway.carrier(sluice::message::CarrierId(0)).queue;
    let alt_queue = &gw.gateway.carrier(sluice::message::CarrierId(1)).queue;
    eventually("alt bound", || alt_queue.is_up()).await;

    let mut esme = RawEsme::bind_demo(gw.smpp_addr).await;
    let ok = |s: Vec<CommandStatus>| assert!(s.iter().all(|s| s.is_ok()), "{s:?}");
    ok(esme
        .submit_all(vec![long_part(0x42, 3, 1, "Teil eins, ")])
        .await);
    alt.wait_for("part 1 at alt", |evs| {
        evs.iter().any(|e| e["event"] == "submit_sm")
    })
    .await;

    // The cheaper carrier comes up: new messages go there, but the long message's other parts stay with the first.
    let up = Smsc::start(up_port, &["--dlr-delay-ms", "10"]).await;
    eventually("up bound", || up_queue.is_up()).await;
    ok(esme
        .submit_all(vec![
            long_part(0x42, 3, 2, "Teil zwei, "),
            long_part(0x42, 3, 3, "Teil drei."),
            submit("a new message", ""),
        ])
        .await);
    up.wait_for("the new message at up", |evs| {
        evs.iter().any(|e| e["event"] == "submit_sm")
    })
    .await;
    alt.wait_for("three parts at alt", |evs| {
        evs.iter().filter(|e| e["event"] == "submit_sm").count() >= 3
    })
    .await;
    // Everything queued has gone: both carriers hold all they will ever get.
    eventually("queues empty", || {
        up_queue.is_empty() && alt_queue.is_empty()
    })
    .await;

    let at_alt: Vec<(u8, u8, u8)> = alt.events_of("submit_sm").iter().map(concat_of).collect();
    assert_eq!(at_alt, vec![(0x42, 3, 1), (0x42, 3, 2), (0x42, 3, 3)]);
    let at_up: Vec<_> = up
        .events_of("submit_sm")
        .iter()
        .map(|e| e["message"].clone())
        .collect();
    assert_eq!(at_up, vec![serde_json::json!("a new message")]);
    drop(esme);
    gw.shutdown(GRACE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_submitted_while_marketing_drains_overtakes_all_but_a_window() {
    const MARKETING: usize = 5_000;
    const WINDOW: usize = 10;
    // The carrier is up and busy: 2,000 messages a second at most, so the marketing takes seconds to drain.
    let smsc = Smsc::start(free_port(), &["--dlr-delay-ms", "10"]).await;
    let config = config(
        Upstream::Port(smsc.port),
        &format!("window = {WINDOW}\nsessions = 1\nrate = 2000"),
        "",
    );
    let gw = app::start(&config).await.unwrap();
    let queue = &gw.gateway.carrier(sluice::message::CarrierId(0)).queue;

    let mut esme = RawEsme::bind_demo(gw.smpp_addr).await;
    let marketing = flood(MARKETING, "Sale", "MKT");
    let statuses = esme.submit_all(marketing).await;
    assert!(statuses.iter().all(|s| s.is_ok()), "all marketing accepted");

    // An OTP by priority_flag 3 (the config's rule), while marketing is still queued.
    let mut otp = submit("Your code is 246810", "");
    otp.priority_flag = smpp::types::PriorityFlag(3);
    otp.registered_delivery = smpp::types::RegisteredDelivery(0);
    assert_eq!(
        esme.submit_all(vec![otp]).await,
        vec![CommandStatus::ESME_ROK]
    );
    // Marketing not yet taken from the queue once the OTP was accepted (read a moment later, so at most this many).
    let waiting = queue.depth()[Class::Marketing.index()];
    assert!(waiting > 0, "the carrier was still draining");
    drop(esme);

    smsc.wait_for("every message at the carrier", |evs| {
        evs.iter().filter(|e| e["event"] == "submit_sm").count() > MARKETING
    })
    .await;
    let texts: Vec<String> = smsc
        .events_of("submit_sm")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    let position = texts
        .iter()
        .position(|t| t == "Your code is 246810")
        .expect("the OTP reached the carrier");
    // Before the OTP went only what had left the queue (sent, or in flight within the window) when it arrived.
    let left_before = MARKETING - waiting;
    assert!(
        position <= left_before,
        "the OTP went out {position}th, but only {left_before} marketing messages had left the queue before it came"
    );
    gw.shutdown(GRACE).await;
}
