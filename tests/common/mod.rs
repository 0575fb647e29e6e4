//! Shared helpers for the integration tests: a gateway config on loopback ports, the third-party peers (smpplib's
//! `esme.py`, node-smpp's `smsc.js`) run from `../shared/peers`, and a raw ESME over TCP built on the `smpp` crate for
//! what the peers cannot express.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde_json::Value;
use sluice::config::Config;
use smpp::frame::split_frame;
use smpp::pdu::{Bind, Body, Pdu, SubmitSm};
use smpp::types::{Address, COctetString, Npi, OctetString, Ton};
use smpp::{CommandStatus, SequenceNumber};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::Notify;

/// An argon2id hash of `demo-secret` (of its first 8 octets, which SMPP compares) with the smallest cost argon2 allows
/// (m=8 KiB, t=1): the production cost is seconds per bind in an unoptimised test build, and the tests are not about it.
pub const DEMO_HASH: &str =
    "$argon2id$v=19$m=8,t=1,p=1$c2x1aWNldGVzdHNhbHQ$mzEyT+DquDq+FnCfZ2SLftGoFAip+8nREarb+dOeThM";
/// The demo account's password.
pub const DEMO_PASSWORD: &str = "demo-secret";
/// How long any single awaited event may take before a test fails.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the reference peer scripts live: `../shared/peers` from the project root.
pub fn peers_dir() -> PathBuf {
    let dir = manifest_dir().join("../shared/peers");
    assert!(
        dir.join("esme.py").exists() && dir.join("smsc.js").exists(),
        "the reference peers are not at {} (expected ../shared/peers beside the project)",
        dir.display()
    );
    dir
}

fn peer_path(var: &str, fallback: &str, probe: &str) -> PathBuf {
    let candidates = std::env::var_os(var)
        .map(PathBuf::from)
        .into_iter()
        .chain([manifest_dir().join(fallback)]);
    for dir in candidates {
        if dir.join(probe).exists() {
            return dir;
        }
    }
    panic!(
        "{probe} is not installed (looked in ${var} and {fallback}): run ./scripts/test, it installs the peers"
    );
}

/// The `PYTHONPATH` holding smpplib.
pub fn python_path() -> PathBuf {
    peer_path(
        "SLUICE_PEERS_PYTHONPATH",
        "target/peers/py",
        "smpplib/client.py",
    )
}

/// The `NODE_PATH` holding node-smpp.
pub fn node_path() -> PathBuf {
    peer_path(
        "SLUICE_PEERS_NODE_PATH",
        "target/peers/node/node_modules",
        "smpp/package.json",
    )
}

/// A loopback port nobody listens on right now (the OS picked it; it is released for the caller to use).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a probe port")
        .local_addr()
        .expect("probe address")
        .port()
}

/// What a test's gateway carries its traffic to.
pub enum Upstream<'a> {
    /// The built-in simulator, with these extra `[simulator]` lines.
    Simulator(&'a str),
    /// An SMSC at 127.0.0.1:port (smsc.js or a raw one).
    Port(u16),
}

/// A gateway config on loopback ports: the demo account (sender ACME), one carrier named `up` taking every route,
/// the example's class rules (service_type OTP/MKT, priority_flag 3), plus `extra_carrier` lines for `[[carrier]]` and
/// `extra` top-level sections (e.g. `[classes.otp]`).
pub fn config(upstream: Upstream<'_>, extra_carrier: &str, extra: &str) -> Config {
    let (carrier_addr, simulator) = match upstream {
        Upstream::Simulator(lines) => (
            "simulator = true".to_string(),
            format!("[simulator]\nlisten = \"127.0.0.1:0\"\n{lines}\n"),
        ),
        Upstream::Port(port) => (
            format!("host = \"127.0.0.1\"\nport = {port}"),
            String::new(),
        ),
    };
    let carriers = format!(
        r#"
{}
{carrier_addr}
{extra_carrier}

[[route]]
prefix = ""
carriers = [{{ carrier = "up" }}]

{simulator}
"#,
        carrier("up")
    );
    parse_config(&carriers, extra)
}

/// The `[[carrier]]` lines every test carrier shares (fast reconnects, any sender), named `name`.
pub fn carrier(name: &str) -> String {
    format!(
        r#"
[[carrier]]
name = "{name}"
system_id = "sluice"
password = "secret"
bind_type = "transceiver"
reconnect_min = "10ms"
reconnect_max = "50ms"
sender_ids = ["*"]"#
    )
}

/// The test config with the given carriers, routes and simulator (`carriers`) and other sections (`extra`).
pub fn parse_config(carriers: &str, extra: &str) -> Config {
    let text = format!(
        r#"
[server]
smpp_listen = "127.0.0.1:0"
window = 100
inbound_window = 20000

{extra}

[[classes.rule]]
service_type = "OTP"
class = "otp"
[[classes.rule]]
service_type = "MKT"
class = "marketing"
[[classes.rule]]
priority_flag = 3
class = "otp"

[[account]]
system_id = "demo"
password_hash = "{DEMO_HASH}"
rate = 100000
burst = 100000
default_class = "transactional"
sender_ids = ["ACME", "4915100000000"]
default_country = "49"

{carriers}
"#
    );
    Config::parse(Path::new("test.toml"), &text)
        .unwrap_or_else(|e| panic!("test config: {e}\n{text}"))
}

/// What `esme.py` printed.
#[derive(Debug)]
pub struct EsmeReport {
    /// Its JSON summary line.
    pub json: Value,
    /// Its exit status.
    pub success: bool,
    /// Its stderr, for failure messages.
    pub stderr: String,
}

impl EsmeReport {
    /// A numeric field of the summary.
    pub fn n(&self, field: &str) -> u64 {
        self.json[field]
            .as_u64()
            .unwrap_or_else(|| panic!("esme.py summary has no {field}: {}", self.json))
    }

    /// How many submits were refused with `status`.
    pub fn rejected(&self, status: CommandStatus) -> u64 {
        self.json["rejected"][status.0.to_string()]
            .as_u64()
            .unwrap_or(0)
    }
}

/// Starts smpplib's `esme.py` against `addr` with extra arguments; it binds as `demo` unless the args say otherwise.
pub fn spawn_esme(addr: SocketAddr, args: &[&str]) -> Child {
    let mut cmd = Command::new("python3");
    cmd.arg(peers_dir().join("esme.py")).args([
        "--host",
        "127.0.0.1",
        "--port",
        &addr.port().to_string(),
    ]);
    if !args.contains(&"--system-id") {
        cmd.args(["--system-id", "demo"]);
    }
    if !args.contains(&"--password") {
        cmd.args(["--password", DEMO_PASSWORD]);
    }
    cmd.args(args)
        .env("PYTHONPATH", python_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd.spawn().expect("start python3 esme.py")
}

/// Waits for `esme.py` to finish and parses its summary (`json` is Null when it printed none, e.g. a failed bind).
pub async fn finish_esme(child: Child) -> EsmeReport {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("esme.py did not finish within 60 s")
        .expect("esme.py output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or(Value::Null);
    EsmeReport {
        json,
        success: out.status.success(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `esme.py` to the end.
pub async fn run_esme(addr: SocketAddr, args: &[&str]) -> EsmeReport {
    finish_esme(spawn_esme(addr, args)).await
}

/// node-smpp's `smsc.js`, running, with every JSON event it printed so far.
pub struct Smsc {
    /// The port it listens on.
    pub port: u16,
    child: Child,
    events: Arc<(Mutex<Vec<Value>>, Notify)>,
    reader: tokio::task::JoinHandle<()>,
}

impl Smsc {
    /// Starts `smsc.js` on `port` with extra arguments and waits for its `listening` line.
    pub async fn start(port: u16, args: &[&str]) -> Smsc {
        let mut child = Command::new("node")
            .arg(peers_dir().join("smsc.js"))
            .args(["--port", &port.to_string()])
            .args(args)
            .env("NODE_PATH", node_path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start node smsc.js");
        let stdout = child.stdout.take().expect("piped");
        let events: Arc<(Mutex<Vec<Value>>, Notify)> = Arc::default();
        let sink = events.clone();
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.0.lock().unwrap().push(v);
                    sink.1.notify_waiters();
                }
            }
        });
        let smsc = Smsc {
            port,
            child,
            events,
            reader,
        };
        smsc.wait_for("smsc.js listening", |evs| {
            evs.iter().any(|e| e["event"] == "listening")
        })
        .await;
        assert_eq!(
            smsc.events()[0]["port"].as_u64(),
            Some(u64::from(port)),
            "smsc.js listens on the port it was given"
        );
        smsc
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.0.lock().unwrap().clone()
    }

    /// The events of one kind so far.
    pub fn events_of(&self, kind: &str) -> Vec<Value> {
        self.events
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == kind)
            .cloned()
            .collect()
    }

    /// Waits (up to [`EVENT_TIMEOUT`]) until the events so far satisfy `done`.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) {
        let wait = async {
            loop {
                let notified = self.events.1.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if done(&self.events.0.lock().unwrap()) {
                    return;
                }
                notified.await;
                // Events come in bursts of thousands; let a burst gather before checking again, so a check that looks
                // at every event does not run once per event (and hold the lock the reader needs meanwhile).
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        if tokio::time::timeout(EVENT_TIMEOUT, wait).await.is_err() {
            let events = self.events.0.lock().unwrap();
            panic!(
                "timed out waiting for {what}; smsc.js printed {} events, the last: {:?}",
                events.len(),
                events.last()
            );
        }
    }

    /// Kills the process at once (SIGKILL): its connections drop without an unbind. Returns every event it printed
    /// (read to the end of its output).
    pub async fn kill(mut self) -> Vec<Value> {
        let _ = self.child.kill().await;
        tokio::time::timeout(EVENT_TIMEOUT, &mut self.reader)
            .await
            .expect("smsc.js output ends when it dies")
            .expect("reader task");
        self.events()
    }
}

/// Polls `cond` until it holds (checked every 5 ms, up to [`EVENT_TIMEOUT`]): for state inside the gateway, which has no
/// event to wait on.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A raw ESME over TCP: encodes and decodes PDUs with the `smpp` crate and nothing else, so a test controls every byte.
pub struct RawEsme {
    stream: TcpStream,
    rbuf: BytesMut,
    next_seq: u32,
}

impl RawEsme {
    /// Connects.
    pub async fn connect(addr: SocketAddr) -> RawEsme {
        let stream = TcpStream::connect(addr).await.expect("connect to gateway");
        stream.set_nodelay(true).expect("nodelay");
        RawEsme {
            stream,
            rbuf: BytesMut::new(),
            next_seq: 1,
        }
    }

    /// Connects and binds as a transceiver of the demo account; panics unless the bind succeeds.
    pub async fn bind_demo(addr: SocketAddr) -> RawEsme {
        let mut esme = RawEsme::connect(addr).await;
        let bind = Bind {
            system_id: COctetString::try_from("demo").unwrap(),
            password: COctetString::try_from(DEMO_PASSWORD).unwrap(),
            system_type: COctetString::empty(),
            interface_version: 0x34,
            addr_ton: Ton::UNKNOWN,
            addr_npi: Npi::UNKNOWN,
            address_range: COctetString::empty(),
        };
        let seq = esme.send(Body::BindTransceiver(bind)).await;
        let resp = esme.recv().await.expect("bind_transceiver_resp");
        assert_eq!(resp.sequence_number, seq);
        assert!(
            matches!(resp.body, Body::BindTransceiverResp(_)),
            "{resp:?}"
        );
        assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
        esme
    }

    /// Sends a request; returns its sequence number.
    pub async fn send(&mut self, body: Body) -> SequenceNumber {
        let seq = SequenceNumber(self.next_seq);
        self.next_seq += 1;
        let pdu = Pdu {
            sequence_number: seq,
            command_status: CommandStatus::ESME_ROK,
            body,
        };
        self.send_raw(&pdu.to_bytes()).await;
        seq
    }

    /// Writes bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("write to gateway");
    }

    /// The next PDU from the gateway (within [`EVENT_TIMEOUT`]); `None` when it closed the connection.
    pub async fn recv(&mut self) -> Option<Pdu> {
        loop {
            if let Some(frame) = split_frame(&mut self.rbuf, smpp::DEFAULT_MAX_PDU_LEN)
                .expect("the gateway sends well-framed PDUs")
            {
                return Some(Pdu::decode(frame).expect("the gateway sends valid PDUs"));
            }
            let read = tokio::time::timeout(EVENT_TIMEOUT, self.stream.read_buf(&mut self.rbuf))
                .await
                .expect("timed out waiting for a PDU from the gateway")
                .expect("read from gateway");
            if read == 0 {
                return None;
            }
        }
    }

    /// Submits every message, pipelined in batches of 500 (so neither side's socket buffer fills while the other waits),
    /// and returns each response's status, in order.
    pub async fn submit_all(&mut self, messages: Vec<SubmitSm>) -> Vec<CommandStatus> {
        let mut statuses = Vec::with_capacity(messages.len());
        let mut messages = messages.into_iter().peekable();
        while messages.peek().is_some() {
            let mut out = BytesMut::new();
            let mut seqs = Vec::new();
            for sm in messages.by_ref().take(500) {
                let seq = SequenceNumber(self.next_seq);
                self.next_seq += 1;
                seqs.push(seq);
                Pdu {
                    sequence_number: seq,
                    command_status: CommandStatus::ESME_ROK,
                    body: Body::SubmitSm(sm),
                }
                .encode(&mut out);
            }
            self.send_raw(&out).await;
            for seq in seqs {
                let resp = loop {
                    let pdu = self
                        .recv()
                        .await
                        .expect("the gateway closed the connection");
                    if matches!(pdu.body, Body::SubmitSmResp(_)) {
                        break pdu;
                    }
                    self.answer(&pdu).await;
                };
                assert_eq!(resp.sequence_number, seq, "responses in order");
                statuses.push(resp.command_status);
            }
        }
        statuses
    }

    /// Answers a request the gateway sent (deliver_sm, enquire_link) with ESME_ROK.
    pub async fn answer(&mut self, request: &Pdu) {
        let body = match &request.body {
            Body::DeliverSm(_) => Body::DeliverSmResp(smpp::pdu::DeliverSmResp::default()),
            Body::EnquireLink => Body::EnquireLinkResp,
            other => panic!("unexpected request from the gateway: {other:?}"),
        };
        let pdu = Pdu {
            sequence_number: request.sequence_number,
            command_status: CommandStatus::ESME_ROK,
            body,
        };
        self.send_raw(&pdu.to_bytes()).await;
    }
}

/// `count` submits like [`submit`] with texts "`prefix` 0", "`prefix` 1", …, asking for no receipt: a flood.
pub fn flood(count: usize, prefix: &str, service_type: &str) -> Vec<SubmitSm> {
    (0..count)
        .map(|i| SubmitSm {
            registered_delivery: smpp::types::RegisteredDelivery::NONE,
            ..submit(&format!("{prefix} {i}"), service_type)
        })
        .collect()
}

/// A GSM text submit_sm from ACME to a German mobile number asking for a receipt.
pub fn submit(text: &str, service_type: &str) -> SubmitSm {
    SubmitSm {
        service_type: COctetString::try_from(service_type).unwrap(),
        source_addr: Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, "ACME").unwrap(),
        dest_addr: Address::new(Ton::INTERNATIONAL, Npi::ISDN, "4915112345678").unwrap(),
        registered_delivery: smpp::types::RegisteredDelivery(0x01),
        short_message: OctetString::new(Bytes::copy_from_slice(text.as_bytes())).unwrap(),
        ..SubmitSm::default()
    }
}
