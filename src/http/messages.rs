//! HTTP messages: one id for the client however many segments the text took, where its receipt goes, and its state
//! as the client sees it (gathered from the gateway's records of its parts).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use serde::Serialize;
use smpp::encoding::TextEncoding;

use crate::gateway::Gateway;
use crate::message::{AccountId, Class, MessageId, MessageState};

/// Where a message's final state is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// A signed JSON POST to this URL, or to the account's `callback_url` when `None` (no webhook when neither is set).
    Json(Option<String>),
    /// A Kannel `dlr-url`, fetched with GET after `%`-substitution when the outcome is in `mask`.
    Kannel {
        /// The URL with its `%d`-style escapes.
        url: String,
        /// Kannel's `dlr-mask`: 1 delivered, 2 failed, 8 acknowledged by the carrier, 16 rejected by the carrier.
        mask: u8,
        /// The `sendsms` username (`%n`).
        username: String,
    },
}

/// One message submitted over HTTP.
#[derive(Debug, Clone)]
pub struct HttpMessage {
    /// The submitting account.
    pub account: AccountId,
    /// The gateway ids of its segments; the first is the message's id.
    pub parts: Box<[MessageId]>,
    /// The alphabet its text went in.
    pub encoding: TextEncoding,
    /// Where its receipt goes.
    pub callback: Callback,
    /// The client's own reference, echoed in status and webhooks.
    pub client_ref: Option<String>,
    /// Set once its receipt was handed to the webhook dispatcher, so it is sent once.
    pub reported: bool,
}

/// Every HTTP message still known, by its id, and each part's message.
#[derive(Debug, Default)]
pub struct HttpMessages {
    messages: DashMap<MessageId, HttpMessage>,
    part_of: DashMap<MessageId, MessageId>,
}

/// A message's state as the API reports it (GET and receipt webhooks).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MessageStatus {
    /// The message's id.
    pub id: String,
    /// Where it is: queued, sent, delivered, undeliverable, expired, rejected or cancelled.
    pub state: MessageState,
    /// The recipient as submitted.
    pub to: String,
    /// The sender as submitted.
    pub from: String,
    /// Its class.
    pub class: Class,
    /// Segments the text took.
    pub segments: usize,
    /// `gsm7` or `ucs2`.
    pub encoding: &'static str,
    /// The carrier it went to (or is queued for).
    pub carrier: Option<String>,
    /// The client's reference.
    pub client_ref: Option<String>,
    /// The carrier's or Sluice's error code for a failure (receipt `err:`), 0 otherwise.
    pub error_code: u16,
    /// When it was accepted (RFC 3339).
    pub submitted_at: String,
    /// When the carrier took its last segment.
    pub sent_at: Option<String>,
    /// When it reached its final state.
    pub done_at: Option<String>,
}

/// The API's name of an alphabet.
pub fn encoding_name(e: TextEncoding) -> &'static str {
    match e {
        TextEncoding::Gsm7 => "gsm7",
        TextEncoding::Latin1 => "latin1",
        TextEncoding::Ucs2 => "ucs2",
    }
}

/// Unix seconds as RFC 3339.
pub fn rfc3339(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The wall clock in Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl HttpMessages {
    /// Records a newly accepted message.
    pub fn insert(&self, message: HttpMessage) -> MessageId {
        let id = message.parts[0];
        for &p in message.parts.iter() {
            self.part_of.insert(p, id);
        }
        self.messages.insert(id, message);
        id
    }

    /// Forgets a message that was not accepted after all.
    pub fn remove(&self, id: MessageId) {
        if let Some((_, m)) = self.messages.remove(&id) {
            for p in m.parts.iter() {
                self.part_of.remove(p);
            }
        }
    }

    /// A copy of a message.
    pub fn get(&self, id: MessageId) -> Option<HttpMessage> {
        self.messages.get(&id).map(|m| m.clone())
    }

    /// The message a part belongs to.
    pub fn message_of(&self, part: MessageId) -> Option<MessageId> {
        self.part_of.get(&part).map(|m| *m)
    }

    /// Marks a message's receipt as reported; false when it already was.
    pub fn try_mark_reported(&self, id: MessageId) -> bool {
        self.messages.get_mut(&id).is_some_and(|mut m| {
            let first = !m.reported;
            m.reported = true;
            first
        })
    }

    /// The state of a message, gathered from its parts: queued while any part is, sent while any is in flight, then
    /// delivered when every part was, else the outcome of the first part that was not. `None` once the gateway has
    /// forgotten it.
    pub fn status(&self, gw: &Gateway, id: MessageId) -> Option<(HttpMessage, MessageStatus)> {
        let m = self.get(id)?;
        let records: Vec<_> = m
            .parts
            .iter()
            .map(|&p| gw.store().get(p))
            .collect::<Option<_>>()?;
        let first = &records[0];
        let state = if records.iter().any(|r| r.state == MessageState::Queued) {
            MessageState::Queued
        } else if records.iter().any(|r| r.state == MessageState::Sent) {
            MessageState::Sent
        } else {
            records
                .iter()
                .map(|r| r.state)
                .find(|&s| s != MessageState::Delivered)
                .unwrap_or(MessageState::Delivered)
        };
        let all_sent = records.iter().all(|r| r.sent_at.is_some());
        let (source, dest) = first.addresses();
        let status = MessageStatus {
            id: id.to_string(),
            state,
            to: dest.addr.to_str_lossy().into_owned(),
            from: source.addr.to_str_lossy().into_owned(),
            class: first.class,
            segments: records.len(),
            encoding: encoding_name(m.encoding),
            carrier: first.carrier.get().map(|c| gw.carrier(c).name.clone()),
            client_ref: m.client_ref.clone(),
            error_code: records
                .iter()
                .map(|r| r.error)
                .find(|&e| e != 0)
                .unwrap_or(0),
            submitted_at: rfc3339(first.submitted_at.get()),
            sent_at: records
                .iter()
                .filter_map(|r| r.sent_at)
                .max()
                .filter(|_| all_sent)
                .map(|t| rfc3339(t.get())),
            done_at: records
                .iter()
                .map(|r| r.done_at)
                .collect::<Option<Vec<_>>>()
                .and_then(|d| d.into_iter().max())
                .filter(|_| state.is_final())
                .map(|t| rfc3339(t.get())),
        };
        Some((m, status))
    }

    /// The carrier's id for a message's first part, for Kannel's `%F`.
    pub fn carrier_message_id(&self, gw: &Gateway, id: MessageId) -> Option<String> {
        gw.store()
            .get(id)
            .and_then(|r| r.carrier_message_id().map(String::from))
    }

    /// Forgets messages whose parts the gateway no longer keeps.
    pub fn sweep(&self, gw: &Gateway) {
        self.messages.retain(|id, m| {
            let keep = gw.store().get(*id).is_some();
            if !keep {
                for p in m.parts.iter() {
                    self.part_of.remove(p);
                }
            }
            keep
        });
    }

    /// Messages known.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when none is known.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::store::{CarrierSlot, Origin, Record, Strings, UnixSecs};
    use crate::message::Stamp;
    use smpp::types::{Address, RegisteredDelivery};
    use std::time::Instant;

    fn gateway() -> Gateway {
        let text = r#"
[server]
smpp_listen = "127.0.0.1:0"
[[carrier]]
name = "sim"
host = "127.0.0.1"
port = 1
system_id = "s"
password = "p"
"#;
        let config = crate::config::Config::parse(std::path::Path::new("t.toml"), text).unwrap();
        Gateway::new(&config, 0)
    }

    fn record(state: MessageState, error: u16) -> Record {
        Record {
            account: AccountId(0),
            class: Class::Otp,
            origin: Origin::Http { report_sent: false },
            state,
            carrier: CarrierSlot::NONE,
            strings: Strings::new(&Address::default(), &Address::default()),
            registered_delivery: RegisteredDelivery::NONE,
            submitted_at: UnixSecs::new(1),
            sent_at: None,
            done_at: state.is_final().then_some(UnixSecs::new(5)),
            error,
            accepted: Stamp::of(Instant::now()),
        }
    }

    fn state_of(parts: &[(MessageState, u16)]) -> (MessageState, u16) {
        let gw = gateway();
        let messages = HttpMessages::default();
        let ids: Vec<MessageId> = (0..parts.len() as u64).map(MessageId).collect();
        for (&id, &(state, error)) in ids.iter().zip(parts) {
            gw.store().insert(id, record(state, error));
        }
        let id = messages.insert(HttpMessage {
            account: AccountId(0),
            parts: ids.into(),
            encoding: TextEncoding::Gsm7,
            callback: Callback::Json(None),
            client_ref: None,
            reported: false,
        });
        let (_, s) = messages.status(&gw, id).unwrap();
        (s.state, s.error_code)
    }

    #[test]
    fn a_message_is_queued_while_any_part_is_and_sent_while_any_is_at_the_carrier() {
        use MessageState::*;
        assert_eq!(state_of(&[(Delivered, 0), (Queued, 0)]).0, Queued);
        assert_eq!(state_of(&[(Sent, 0), (Delivered, 0)]).0, Sent);
    }

    #[test]
    fn a_message_is_delivered_only_when_every_part_was() {
        use MessageState::*;
        assert_eq!(state_of(&[(Delivered, 0), (Delivered, 0)]), (Delivered, 0));
        assert_eq!(
            state_of(&[(Delivered, 0), (Undeliverable, 34)]),
            (Undeliverable, 34)
        );
    }
}
