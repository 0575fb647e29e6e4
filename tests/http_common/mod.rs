//! Helpers for the HTTP integration tests: a gateway on 127.0.0.1:0 with the built-in simulator as its carrier, and a
//! webhook receiver that records what it is sent and can fail on purpose.

#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use sluice::app::Running;
use sluice::config::Config;
use tokio::sync::mpsc;

/// demo-secret.
pub const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$BGCqU+vJHa2M5twvqTS1RQ$DCb1FmvkwspzwK6tvTy53CJvKdfOJwR0jcOHjMzsE2Y";
/// SHA-256 of `demo-api-key`.
pub const DEMO_KEY_HASH: &str = "ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22";
/// The API key every test account has.
pub const KEY: &str = "demo-api-key";
/// The webhook secret every test account has.
pub const SECRET: &str = "whsec-test";

/// An account entry named `system_id`, with the demo key, `rate` per second and extra lines.
pub fn account(system_id: &str, rate: u32, extra: &str) -> String {
    format!(
        r#"
[[account]]
system_id = "{system_id}"
password_hash = "{PASSWORD_HASH}"
rate = {rate}
burst = {rate}
sender_ids = ["ACME"]
numbers = ["4915100000000"]
default_country = "49"
api_key_hashes = ["{DEMO_KEY_HASH}"]
webhook_secret = "{SECRET}"
{extra}
"#
    )
}

/// A config with the HTTP and admin listeners, fast webhook retries, the simulator as the only carrier, and `accounts`.
pub fn config(accounts: &str, webhooks: &str) -> String {
    format!(
        r#"
[server]
smpp_listen = "127.0.0.1:0"
http_listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
http_max_segments = 3

[webhooks]
allow_private_addresses = true
initial_backoff = "5ms"
max_backoff = "20ms"
timeout = "2s"
{webhooks}

{accounts}

[[carrier]]
name = "sim"
simulator = true
system_id = "sluice"
password = "secret"
sender_ids = ["*"]

[[route]]
prefix = ""
carriers = [{{ carrier = "sim" }}]

[simulator]
listen = "127.0.0.1:0"
receipt_delay = "1ms"
"#
    )
}

/// Starts a gateway from config text and waits until its carrier is bound.
pub async fn start(text: &str) -> Running {
    let config = Config::parse(Path::new("test.toml"), text).expect("test config");
    let running = sluice::app::start(&config).await.expect("start");
    wait_ready(&running).await;
    running
}

/// Waits (up to 10 s) until every route has a bound carrier.
pub async fn wait_ready(running: &Running) {
    let gw = running.gateway.clone();
    tokio::time::timeout(Duration::from_secs(10), async move {
        while !gw.routes_without_carrier().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the simulator carrier binds");
}

/// The API's base URL.
pub fn api(running: &Running) -> String {
    format!("http://{}", running.http_addr.expect("http_listen is set"))
}

/// The admin listener's base URL.
pub fn admin(running: &Running) -> String {
    format!(
        "http://{}",
        running.admin_addr.expect("admin_listen is set")
    )
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Hook {
    /// GET or POST.
    pub method: Method,
    /// Path and query.
    pub uri: Uri,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
    /// What the receiver answered.
    pub status: StatusCode,
}

impl Hook {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON webhook")
    }
}

#[derive(Clone)]
struct ReceiverState {
    fail_first: Arc<AtomicUsize>,
    hang: bool,
    tx: mpsc::Sender<Hook>,
}

/// A local HTTP server that records every request; it answers 500 to the first `fail_first` and 200 after.
pub struct Receiver {
    /// Its base URL.
    pub url: String,
    rx: mpsc::Receiver<Hook>,
}

impl Receiver {
    /// Starts one.
    pub async fn start(fail_first: usize) -> Receiver {
        Receiver::start_with(fail_first, false).await
    }

    /// Starts one that records each request and never answers it.
    pub async fn start_hanging() -> Receiver {
        Receiver::start_with(0, true).await
    }

    async fn start_with(fail_first: usize, hang: bool) -> Receiver {
        let (tx, rx) = mpsc::channel(10_000);
        let state = ReceiverState {
            fail_first: Arc::new(AtomicUsize::new(fail_first)),
            hang,
            tx,
        };
        let app = axum::Router::new().fallback(record).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, rx }
    }

    /// The next request, waiting up to 10 s.
    pub async fn next(&mut self) -> Hook {
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("a webhook arrives within 10 s")
            .expect("the receiver runs")
    }

    /// The next request answered 2xx, counting the failed ones before it.
    pub async fn next_ok(&mut self) -> (Hook, usize) {
        let mut failed = 0;
        loop {
            let h = self.next().await;
            if h.status.is_success() {
                return (h, failed);
            }
            failed += 1;
        }
    }

    /// True when nothing more arrives within `wait`.
    pub async fn is_quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.rx.recv()).await.is_err()
    }
}

async fn record(
    State(state): State<ReceiverState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let fail = state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if state.hang {
        StatusCode::GATEWAY_TIMEOUT
    } else if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let _ = state
        .tx
        .send(Hook {
            method,
            uri,
            headers,
            body,
            status,
        })
        .await;
    if state.hang {
        std::future::pending::<()>().await;
    }
    status
}

/// POSTs JSON to a path of the API with the test key; the whole response, for tests that read its headers.
pub async fn post_response(running: &Running, path: &str, body: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", api(running)))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the API answers")
}

/// POSTs JSON to the API with the test key.
pub async fn post(running: &Running, path: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let resp = post_response(running, path, body).await;
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        StatusCode::from_u16(status.as_u16()).unwrap(),
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// GETs a path of the API with the test key.
pub async fn get(running: &Running, path: &str) -> (StatusCode, serde_json::Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", api(running)))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("the API answers");
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    (status, resp.json().await.unwrap_or_default())
}

/// The value of one sample in a Prometheus text scrape: `name{labels}` exactly as rendered, 0 when absent.
pub fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .find(|(series, _)| {
            let Some(rest) = series.strip_prefix(name) else {
                return false;
            };
            if labels.is_empty() {
                return rest.is_empty();
            }
            let Some(inner) = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
                return false;
            };
            let mut have: Vec<&str> = inner.split(',').collect();
            let mut want: Vec<String> =
                labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            have.sort_unstable();
            want.sort_unstable();
            have == want
        })
        .map_or(0.0, |(_, v)| v.parse().expect("a number"))
}

/// Scrapes /metrics.
pub async fn scrape(running: &Running) -> String {
    reqwest::get(format!("{}/metrics", admin(running)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
