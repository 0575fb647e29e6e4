//! Webhooks: receipts of HTTP messages and MO for accounts with a `callback_url`, POSTed as signed JSON (and Kannel
//! `dlr-url`s, fetched with GET), retried with exponential backoff.
//!
//! Bounded: at most `[webhooks] queue` deliveries are pending (in flight or waiting to retry), at most `concurrency`
//! requests are in flight, and at most `account_concurrency` of them to one account, so one slow endpoint delays only
//! its own account. Nothing is lost silently: a delivery that cannot be queued, that fails every
//! attempt, or that is still pending at shutdown is counted in [`m::WEBHOOKS_DROPPED`] or [`m::WEBHOOKS_FAILED`] and
//! logged with the message id.
//!
//! Signature: `X-Sluice-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the account's `webhook_secret`, over the
//! `X-Sluice-Timestamp` value (Unix seconds), a `.`, and the body. A receiver recomputes it, compares in constant time,
//! and refuses timestamps more than a few minutes old.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::json;
use sha2::Sha256;
use smpp::encoding::{TextEncoding, Udh};
use smpp::pdu::DeliverSm;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::messages::{rfc3339, unix_now, Callback, HttpMessages, MessageStatus};
use crate::config::WebhooksConfig;
use crate::gateway::accounts::hex;
use crate::gateway::{Gateway, Notice};
use crate::message::{AccountId, MessageState};
use crate::metrics as m;
use crate::shutdown::Shutdown;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-sluice-signature";
/// The timestamp header the signature covers.
pub const TIMESTAMP_HEADER: &str = "x-sluice-timestamp";

/// `sha256=<hex>`: HMAC-SHA256 of `timestamp.body` keyed with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// One webhook to deliver.
#[derive(Debug, Clone)]
struct Job {
    account: String,
    kind: &'static str,
    about: String,
    url: String,
    /// A signed JSON POST, or a GET (Kannel `dlr-url`) when `None`.
    body: Option<Vec<u8>>,
    secret: Option<String>,
}

/// Runs the dispatcher until shutdown: turns the gateway's notices into deliveries, and forgets old HTTP messages.
pub async fn run(
    gw: Arc<Gateway>,
    messages: Arc<HttpMessages>,
    config: WebhooksConfig,
    mut notices: mpsc::Receiver<Notice>,
    mut shutdown: Shutdown,
) {
    let client = match reqwest::Client::builder()
        .timeout(config.timeout)
        // A redirect would slip past the callback URL checks; a 3xx answer counts as a failure instead.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client: no webhooks will be sent");
            return;
        }
    };
    let config = Arc::new(config);
    let pending = Arc::new(Semaphore::new(config.queue));
    let concurrency = Arc::new(Semaphore::new(config.concurrency));
    // One per account that has had a webhook: a handful of entries, owned by this task.
    let mut per_account: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = JoinSet::new();
    let mut sweep = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = shutdown.wait() => break,
            notice = notices.recv() => {
                let Some(notice) = notice else { break };
                let Some(job) = job_for(&gw, &messages, notice) else { continue };
                match pending.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let account_slots = per_account
                            .entry(job.account.clone())
                            .or_insert_with(|| Arc::new(Semaphore::new(config.account_concurrency)))
                            .clone();
                        let slots = Slots { account: account_slots, all: concurrency.clone() };
                        tasks.spawn(deliver(client.clone(), job, config.clone(), slots, permit));
                    }
                    Err(_) => {
                        metrics::counter!(m::WEBHOOKS_DROPPED, "account" => job.account.clone(), "reason" => "queue_full").increment(1);
                        tracing::error!(account = %job.account, kind = job.kind, about = %job.about, "webhook queue full: dropped");
                    }
                }
            }
            _ = sweep.tick() => messages.sweep(&gw),
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    // Deliveries still pending and notices not yet read are lost with the process: count and log them.
    while tasks.try_join_next().is_some() {}
    let mut lost = tasks.len() as u64;
    tasks.abort_all();
    while let Ok(notice) = notices.try_recv() {
        if job_for(&gw, &messages, notice).is_some() {
            lost += 1;
        }
    }
    if lost > 0 {
        metrics::counter!(m::WEBHOOKS_DROPPED, "account" => "all", "reason" => "shutdown")
            .increment(lost);
        tracing::error!(
            lost,
            "webhooks still pending at shutdown were not delivered"
        );
    }
}

/// The delivery a notice calls for, if any: a receipt once every part of a message is final (once), or an MO.
fn job_for(gw: &Gateway, messages: &HttpMessages, notice: Notice) -> Option<Job> {
    match notice {
        Notice::Sent(part) => {
            // Kannel's event 8 ("SMSC success"), once per message: when its first part is acknowledged.
            let msg = messages.get(part)?;
            let Callback::Kannel {
                url,
                mask,
                username,
            } = &msg.callback
            else {
                return None;
            };
            if mask & KANNEL_SENT == 0 {
                return None;
            }
            let (_, status) = messages.status(gw, part)?;
            let values = DlrValues {
                event: KANNEL_SENT,
                answer: "ACK/".into(),
                status: &status,
                carrier_message_id: messages.carrier_message_id(gw, part).unwrap_or_default(),
                username,
                now_unix: unix_now(),
            };
            Some(Job {
                account: gw.account(msg.account).system_id.clone(),
                kind: "kannel_dlr",
                about: status.id.clone(),
                url: kannel_dlr_url(url, &values),
                body: None,
                secret: None,
            })
        }
        Notice::Finished(part) => {
            let id = messages.message_of(part)?;
            let (msg, status) = messages.status(gw, id)?;
            if !status.state.is_final() || !messages.try_mark_reported(id) {
                return None;
            }
            let account = gw.account(msg.account);
            match msg.callback {
                Callback::Json(url) => {
                    let url = url.or_else(|| account.callback_url.clone())?;
                    Some(Job {
                        account: account.system_id.clone(),
                        kind: "receipt",
                        about: status.id.clone(),
                        url,
                        body: Some(receipt_body(&status)),
                        secret: account.webhook_secret.clone(),
                    })
                }
                Callback::Kannel {
                    url,
                    mask,
                    username,
                } => {
                    let event = kannel_event(status.state);
                    if mask & event == 0 {
                        return None;
                    }
                    let values = DlrValues {
                        event,
                        answer: format!(
                            "id:{} stat:{} err:{:03}",
                            status.id,
                            status.state.receipt_stat(),
                            status.error_code.min(999)
                        ),
                        status: &status,
                        carrier_message_id: messages.carrier_message_id(gw, id).unwrap_or_default(),
                        username: &username,
                        now_unix: unix_now(),
                    };
                    Some(Job {
                        account: account.system_id.clone(),
                        kind: "kannel_dlr",
                        about: status.id.clone(),
                        url: kannel_dlr_url(&url, &values),
                        body: None,
                        secret: None,
                    })
                }
            }
        }
        Notice::Mo { account, deliver } => mo_job(gw, account, &deliver),
    }
}

fn receipt_body(status: &MessageStatus) -> Vec<u8> {
    let mut v = serde_json::to_value(status).expect("a status serializes");
    v["type"] = json!("receipt");
    serde_json::to_vec(&v).expect("a value serializes")
}

fn mo_job(gw: &Gateway, account: AccountId, deliver: &DeliverSm) -> Option<Job> {
    let a = gw.account(account);
    let url = a.callback_url.clone()?;
    let mut payload = deliver.payload();
    if deliver.esm_class.has_udh() {
        if let Ok((_, text)) = Udh::parse(payload) {
            payload = text;
        }
    }
    let text = match TextEncoding::from_data_coding(deliver.data_coding.0) {
        Some(e) => smpp::encoding::decode(payload, e),
        None => String::from_utf8_lossy(payload).into_owned(),
    };
    let body = json!({
        "type": "mo",
        "from": deliver.source_addr.addr.to_str_lossy(),
        "to": deliver.dest_addr.addr.to_str_lossy(),
        "text": text,
        "received_at": rfc3339(unix_now()),
    });
    Some(Job {
        account: a.system_id.clone(),
        kind: "mo",
        about: "mo".into(),
        url,
        body: Some(serde_json::to_vec(&body).expect("a value serializes")),
        secret: a.webhook_secret.clone(),
    })
}

/// The request slots a delivery takes for each attempt: its account's, then one of all.
struct Slots {
    account: Arc<Semaphore>,
    all: Arc<Semaphore>,
}

/// Tries a delivery until it succeeds or its attempts run out, waiting `initial_backoff`, then twice that, and so on
/// (up to `max_backoff`, less a random part so retries from one outage spread out) between attempts.
async fn deliver(
    client: reqwest::Client,
    job: Job,
    config: Arc<WebhooksConfig>,
    slots: Slots,
    _pending: OwnedSemaphorePermit,
) {
    let mut backoff = config.initial_backoff;
    for attempt in 1..=config.max_attempts {
        let outcome = {
            // The account's slot first: an account at its limit waits without holding one of the shared slots.
            let _account = slots.account.acquire().await;
            let _all = slots.all.acquire().await;
            send(&client, &job).await
        };
        let why = match outcome {
            Ok(()) => {
                metrics::counter!(m::WEBHOOKS_DELIVERED, "account" => job.account.clone(), "kind" => job.kind).increment(1);
                return;
            }
            Err(why) => why,
        };
        if attempt == config.max_attempts {
            metrics::counter!(m::WEBHOOKS_FAILED, "account" => job.account.clone(), "kind" => job.kind).increment(1);
            tracing::error!(account = %job.account, kind = job.kind, about = %job.about, host = host(&job.url), attempts = attempt, error = %why, "webhook failed after every attempt; given up");
            return;
        }
        metrics::counter!(m::WEBHOOKS_RETRIED, "account" => job.account.clone(), "kind" => job.kind).increment(1);
        tracing::debug!(account = %job.account, kind = job.kind, about = %job.about, attempt, error = %why, "webhook failed; will retry");
        let jitter = rand::rng().random_range(0.5..=1.0);
        tokio::time::sleep(backoff.mul_f64(jitter)).await;
        backoff = (backoff * 2).min(config.max_backoff);
    }
}

/// The URL's host, for logs (a Kannel `dlr-url` may carry phone numbers in its query).
fn host(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(String::from))
        .unwrap_or_default()
}

async fn send(client: &reqwest::Client, job: &Job) -> Result<(), String> {
    let request = match &job.body {
        Some(body) => {
            let mut r = client
                .post(&job.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            if let Some(secret) = &job.secret {
                let ts = unix_now();
                r = r
                    .header(TIMESTAMP_HEADER, ts.to_string())
                    .header(SIGNATURE_HEADER, signature(secret, ts, body));
            }
            r
        }
        None => client.get(&job.url),
    };
    match request.send().await {
        Ok(resp) if resp.status().is_success() => Ok(()),
        Ok(resp) => Err(format!("HTTP {}", resp.status())),
        Err(e) => Err(e.without_url().to_string()),
    }
}

/// Kannel's DLR event 8: the carrier acknowledged the message.
pub const KANNEL_SENT: u8 = 8;

/// Kannel's DLR event value for a final state: 1 delivered, 16 rejected by the carrier ("SMSC reject"), 2 any other
/// failure.
pub fn kannel_event(state: MessageState) -> u8 {
    match state {
        MessageState::Delivered => 1,
        MessageState::Rejected => 16,
        _ => 2,
    }
}

/// What a Kannel `dlr-url`'s escapes are replaced with.
#[derive(Debug)]
pub struct DlrValues<'a> {
    /// `%d`.
    pub event: u8,
    /// `%A`: the receipt as text (`id:… stat:… err:…`), or `ACK/` for event 8.
    pub answer: String,
    /// The message's state: `%I`, `%p`, `%P`, `%i`, `%A`.
    pub status: &'a MessageStatus,
    /// `%F`: the carrier's id.
    pub carrier_message_id: String,
    /// `%n`.
    pub username: &'a str,
    /// `%T` and `%t`.
    pub now_unix: i64,
}

/// Replaces the escapes Kannel documents for `dlr-url` (user guide, "Delivery reports" and the sms-service escape
/// table): `%d` event, `%A` the receipt text (or `ACK/`), `%I` our id, `%F` the carrier's id, `%p` sender, `%P` recipient, `%i` the
/// carrier, `%n` the username, `%T` Unix time, `%t` `YYYY-MM-DD HH:MM:SS`, `%%` a `%`. Values are URL-encoded; other
/// `%` sequences (an already-encoded `%20`) are left as they are.
pub fn kannel_dlr_url(template: &str, v: &DlrValues<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let value = match chars.peek() {
            Some('d') => v.event.to_string(),
            Some('A') => v.answer.clone(),
            Some('I') => v.status.id.clone(),
            Some('F') => v.carrier_message_id.clone(),
            Some('p') => v.status.from.clone(),
            Some('P') => v.status.to.clone(),
            Some('i') => v.status.carrier.clone().unwrap_or_default(),
            Some('n') => v.username.to_string(),
            Some('T') => v.now_unix.to_string(),
            Some('t') => rfc3339(v.now_unix).replace('T', " ").replace('Z', ""),
            Some('%') => "%".to_string(),
            _ => {
                out.push('%');
                continue;
            }
        };
        chars.next();
        out.push_str(&url_encode(&value));
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a signature as a receiver would: for tests and for documentation.
pub fn verify(secret: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = hex(&mac.finalize().into_bytes());
    // Constant time: compare every octet.
    expected.len() == hex_sig.len()
        && expected
            .bytes()
            .zip(hex_sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Class;

    fn status() -> MessageStatus {
        MessageStatus {
            id: "65600000000000AB".into(),
            state: MessageState::Delivered,
            to: "+4915123456789".into(),
            from: "ACME".into(),
            class: Class::Otp,
            segments: 1,
            encoding: "gsm7",
            carrier: Some("sim".into()),
            client_ref: None,
            error_code: 0,
            submitted_at: rfc3339(0),
            sent_at: None,
            done_at: None,
        }
    }

    #[test]
    fn kannel_escapes_are_replaced_and_encoded() {
        let s = status();
        let v = DlrValues {
            event: 1,
            answer: "id:65600000000000AB stat:DELIVRD err:000".into(),
            status: &s,
            carrier_message_id: "abc".into(),
            username: "demo",
            now_unix: 0,
        };
        let url = kannel_dlr_url(
            "http://h/dlr?type=%d&to=%P&id=%I&f=%F&n=%n&t=%t&x=%20&pct=%%&A=%A",
            &v,
        );
        assert_eq!(
            url,
            "http://h/dlr?type=1&to=%2B4915123456789&id=65600000000000AB&f=abc&n=demo&t=1970-01-01%2000%3A00%3A00&x=%20&pct=%25&A=id%3A65600000000000AB%20stat%3ADELIVRD%20err%3A000"
        );
    }

    #[test]
    fn a_signature_verifies_and_a_changed_body_does_not() {
        let sig = signature("s3cret", 1700000000, b"{\"a\":1}");
        assert!(verify("s3cret", 1700000000, b"{\"a\":1}", &sig));
        assert!(!verify("s3cret", 1700000000, b"{\"a\":2}", &sig));
        assert!(!verify("other", 1700000000, b"{\"a\":1}", &sig));
    }
}
