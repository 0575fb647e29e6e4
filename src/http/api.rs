//! `/v1/…`: submit one message or a batch, read a message's state, cancel a queued one, and the OpenAPI document.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use serde::{Deserialize, Serialize};
use smpp::encoding::{split, ConcatMethod, SplitError, TextEncoding};
use smpp::pdu::SubmitSm;
use smpp::time::SmppTime;
use smpp::types::{
    Address, COctetString, DataCoding, EsmClass, Npi, OctetString, RegisteredDelivery, Ton,
};

use super::error::scheduling_unsupported;
use super::messages::{encoding_name, Callback, HttpMessage, MessageStatus};
use super::{ApiError, Client, HttpState};
use crate::gateway::store::Origin;
use crate::message::{AccountId, Class, MessageId, MessageState};

/// The OpenAPI 3 description of this API, checked in at `openapi/sluice.json`.
pub const OPENAPI: &str = include_str!("../../openapi/sluice.json");

/// Most messages in one batch.
pub const MAX_BATCH: usize = 1000;

/// Largest request body: a full batch of long texts fits.
pub const MAX_BODY: usize = 4 << 20;

/// The `/v1` routes.
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/v1/messages", post(submit))
        .route("/v1/messages/batch", post(submit_batch))
        .route("/v1/messages/{id}", get(status).delete(cancel))
        .route("/v1/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// The body, or a JSON error when it could not be read (too large, cut off).
fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "body_too_large",
                format!(
                    "the body is over {} MiB; send fewer messages per batch",
                    MAX_BODY >> 20
                ),
            )
        } else {
            ApiError::new(status, "invalid_body", e.body_text())
        }
    })
}

/// `POST /v1/messages` and each item of a batch.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The recipient, E.164 (`+4915123456789`) or national with the account's default country.
    pub to: String,
    /// A sender ID registered to the account, or a number.
    pub from: String,
    /// The text, UTF-8; sent as GSM 7-bit when every character fits, else UCS-2, split into segments as needed.
    pub text: String,
    /// The class; the account's default when absent.
    #[serde(default)]
    pub class: Option<Class>,
    /// How long the message may wait, e.g. "10m"; the class's validity when absent.
    #[serde(default)]
    pub validity: Option<String>,
    /// Where the receipt goes; the account's `callback_url` when absent.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// The client's own reference, echoed back (at most 64 characters).
    #[serde(default)]
    pub client_ref: Option<String>,
    /// Not supported: refused with 422.
    #[serde(default)]
    pub scheduled_at: Option<serde_json::Value>,
}

/// The answer to an accepted message.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The message's id, for `GET /v1/messages/{id}` and in its receipt.
    pub id: String,
    /// Segments the text took (each is billed as a message).
    pub segments: usize,
    /// `gsm7` or `ucs2`.
    pub encoding: &'static str,
}

/// `POST /v1/messages/batch`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    messages: Vec<serde_json::Value>,
}

/// One item's outcome in a batch answer.
#[derive(Serialize, Debug)]
#[serde(untagged)]
enum BatchItem {
    Accepted(Accepted),
    Rejected {
        error: super::error::ErrorDetailOwned,
    },
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(ApiError::from_json)
}

async fn submit(
    State(state): State<HttpState>,
    Client(account): Client,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: SubmitRequest = parse_json(&read_body(body)?)?;
    let accepted = accept(&state, account, req)?;
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}

async fn submit_batch(
    State(state): State<HttpState>,
    Client(account): Client,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let batch: BatchRequest = parse_json(&read_body(body)?)?;
    if batch.messages.is_empty() || batch.messages.len() > MAX_BATCH {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "invalid_batch",
            "messages",
            format!(
                "a batch holds 1 to {MAX_BATCH} messages, not {}; split it",
                batch.messages.len()
            ),
        ));
    }
    let mut accepted = 0;
    let results: Vec<BatchItem> = batch
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let prefix = format!("messages[{i}]");
            let outcome = serde_path_to_error::deserialize::<_, SubmitRequest>(item)
                .map_err(ApiError::from_json)
                .and_then(|req| accept(&state, account, req));
            match outcome {
                Ok(a) => {
                    accepted += 1;
                    BatchItem::Accepted(a)
                }
                Err(e) => BatchItem::Rejected {
                    error: e.within(&prefix).into_owned_detail(),
                },
            }
        })
        .collect();
    let rejected = results.len() - accepted;
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({
            "accepted": accepted,
            "rejected": rejected,
            "results": results,
        })),
    )
        .into_response())
}

/// Validates and submits one message for `account`, and records it for status and receipts.
pub fn accept(
    state: &HttpState,
    account: AccountId,
    req: SubmitRequest,
) -> Result<Accepted, ApiError> {
    if req.scheduled_at.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(scheduling_unsupported());
    }
    if let Some(url) = &req.callback_url {
        check_callback_url(url, "callback_url", state.allow_private_callbacks)?;
    }
    if req
        .client_ref
        .as_ref()
        .is_some_and(|r| r.chars().count() > 64)
    {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_ref",
            "client_ref",
            "client_ref is at most 64 characters; shorten it",
        ));
    }
    let validity = req
        .validity
        .as_deref()
        .map(|v| {
            humantime::parse_duration(v).map_err(|e| {
                ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_validity",
                    "validity",
                    format!("{v:?} is not a duration ({e}); give one such as \"10m\" or \"2h\""),
                )
            })
        })
        .transpose()?;
    let gw = &state.gateway;
    let class = req.class.unwrap_or(gw.account(account).default_class);
    let message = OutgoingText {
        to: &req.to,
        from: &req.from,
        text: &req.text,
        encoding: None,
        validity,
    };
    let (parts, encoding) = build_parts(&message, state.max_segments)?;
    let segments = parts.len();
    let (now, now_unix) = crate::conn::now();
    let mut first = None;
    let origin = Origin::Http { report_sent: false };
    let submitted = gw.submit_parts(account, parts, class, origin, now, now_unix, |ids| {
        // Recorded before any part is queued, so a receipt that comes back at once finds its message.
        first = Some(state.messages.insert(HttpMessage {
            account,
            parts: ids.into(),
            encoding,
            callback: Callback::Json(req.callback_url),
            client_ref: req.client_ref,
            reported: false,
        }));
    });
    let id = match submitted {
        Ok(ids) => ids[0],
        Err(e) => {
            if let Some(id) = first {
                state.messages.remove(id);
            }
            return Err(e.into());
        }
    };
    Ok(Accepted {
        id: id.to_string(),
        segments,
        encoding: encoding_name(encoding),
    })
}

/// Refuses a callback URL that is not an absolute http(s) URL, or (unless allowed) whose host is an IP address of a
/// private network. Host names are not resolved here: this stops the plain case, not DNS tricks.
pub fn check_callback_url(url: &str, field: &str, allow_private: bool) -> Result<(), ApiError> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let parsed = reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| {
            ApiError::field(
                unprocessable,
                "invalid_callback_url",
                field,
                format!("{url:?} is not an absolute http:// or https:// URL"),
            )
        })?;
    let host = parsed.host_str().unwrap_or_default();
    let private = match host.trim_start_matches('[').trim_end_matches(']').parse() {
        Ok(std::net::IpAddr::V4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            // Loopback, unspecified, unique local (fc00::/7) and link-local (fe80::/10).
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if private && !allow_private {
        return Err(ApiError::field(
            unprocessable,
            "invalid_callback_url",
            field,
            "the callback URL names a private IP address; use a public host name (or ask the operator to set [webhooks] allow_private_addresses)",
        ));
    }
    Ok(())
}

/// A text to send, before it is cut into submit_sm.
#[derive(Debug, Clone)]
pub struct OutgoingText<'a> {
    /// The recipient.
    pub to: &'a str,
    /// The sender.
    pub from: &'a str,
    /// The text.
    pub text: &'a str,
    /// A forced alphabet (Kannel's `coding`), else the cheapest.
    pub encoding: Option<TextEncoding>,
    /// How long it may wait.
    pub validity: Option<std::time::Duration>,
}

/// Cuts a text into the submit_sm of its segments (8-bit-reference concatenation UDH when it takes more than one).
pub fn build_parts(
    m: &OutgoingText<'_>,
    max_segments: usize,
) -> Result<(Vec<SubmitSm>, TextEncoding), ApiError> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if m.text.is_empty() {
        return Err(ApiError::field(
            unprocessable,
            "invalid_text",
            "text",
            "text is empty; give the message text",
        ));
    }
    let encoding = m.encoding.unwrap_or_else(|| TextEncoding::cheapest(m.text));
    let reference = rand::rng().random::<u8>();
    let segments =
        split(m.text, encoding, ConcatMethod::Udh8 { reference }).map_err(|e| match e {
            SplitError::TooManySegments { needed } => too_long(m.text, needed, max_segments),
            SplitError::Unmappable(e) => ApiError::field(
                unprocessable,
                "invalid_text",
                "text",
                format!("{e}; send it without forcing the 7-bit coding"),
            ),
        })?;
    if segments.len() > max_segments {
        return Err(too_long(m.text, segments.len(), max_segments));
    }
    let dest_addr = Address::new(Ton::UNKNOWN, Npi::ISDN, m.to.trim()).map_err(|_| {
        ApiError::field(
            unprocessable,
            "invalid_number",
            "to",
            "the recipient is too long; give it in E.164 form, e.g. +4915123456789",
        )
    })?;
    let numeric = m.from.trim_start_matches('+');
    let source_addr = if !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()) {
        Address::new(Ton::INTERNATIONAL, Npi::ISDN, numeric)
    } else {
        Address::new(Ton::ALPHANUMERIC, Npi::UNKNOWN, m.from)
    }
    .map_err(|_| {
        ApiError::field(
            unprocessable,
            "unregistered_sender",
            "from",
            "the sender is too long: use a sender ID of up to 11 characters or a number of up to 15 digits",
        )
    })?;
    let validity_period = match m.validity {
        None => COctetString::empty(),
        Some(d) => {
            let formatted = SmppTime::Relative(d).format().map_err(|_| {
                ApiError::field(
                    unprocessable,
                    "invalid_validity",
                    "validity",
                    "the validity is too long; give less than 99 years",
                )
            })?;
            COctetString::new(bytes::Bytes::copy_from_slice(&formatted)).expect("16 characters fit")
        }
    };
    let parts = segments
        .into_iter()
        .map(|s| SubmitSm {
            source_addr: source_addr.clone(),
            dest_addr: dest_addr.clone(),
            esm_class: EsmClass::DEFAULT.with_udh(s.udhi),
            validity_period: validity_period.clone(),
            // HTTP receipts go out as webhooks; the gateway still asks the carrier for one.
            registered_delivery: RegisteredDelivery::NONE,
            data_coding: DataCoding(encoding.data_coding()),
            short_message: OctetString::new(s.payload).expect("a segment fits in short_message"),
            ..SubmitSm::default()
        })
        .collect();
    Ok((parts, encoding))
}

fn too_long(text: &str, needed: usize, max: usize) -> ApiError {
    ApiError::field(
        StatusCode::UNPROCESSABLE_ENTITY,
        "text_too_long",
        "text",
        format!(
            "the text ({} characters) needs {needed} segments; at most {max} are allowed, so shorten it",
            text.chars().count()
        ),
    )
}

fn parse_id(id: &str) -> Result<MessageId, ApiError> {
    if id.len() != 16 {
        return Err(not_found_id(id));
    }
    id.parse().map_err(|_| not_found_id(id))
}

fn not_found_id(id: &str) -> ApiError {
    ApiError::field(
        StatusCode::NOT_FOUND,
        "not_found",
        "id",
        format!("no message {id:?} of this account is known (ids are kept for an hour after their final state)"),
    )
}

fn lookup(
    state: &HttpState,
    account: AccountId,
    id: &str,
) -> Result<(MessageId, MessageStatus), ApiError> {
    let mid = parse_id(id)?;
    match state.messages.status(&state.gateway, mid) {
        Some((m, status)) if m.account == account => Ok((mid, status)),
        _ => Err(not_found_id(id)),
    }
}

async fn status(
    State(state): State<HttpState>,
    Client(account): Client,
    Path(id): Path<String>,
) -> Result<Json<MessageStatus>, ApiError> {
    lookup(&state, account, &id).map(|(_, s)| Json(s))
}

async fn cancel(
    State(state): State<HttpState>,
    Client(account): Client,
    Path(id): Path<String>,
) -> Result<Json<MessageStatus>, ApiError> {
    let (mid, status) = lookup(&state, account, &id)?;
    if status.state != MessageState::Queued {
        return Err(not_queued(status.state));
    }
    let m = state.messages.get(mid).ok_or_else(|| not_found_id(&id))?;
    let (now, now_unix) = crate::conn::now();
    let mut all = true;
    for &part in m.parts.iter() {
        all &= state.gateway.cancel(account, part, now, now_unix).is_ok();
    }
    let (_, after) = lookup(&state, account, &id)?;
    if all {
        Ok(Json(after))
    } else {
        Err(not_queued(after.state))
    }
}

fn not_queued(state: MessageState) -> ApiError {
    ApiError::field(
        StatusCode::CONFLICT,
        "not_queued",
        "id",
        format!(
            "the message is {} (in part, for a long message); only queued messages can be cancelled",
            state.as_str()
        ),
    )
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Any other path: 404 in the API's error shape.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /v1/openapi.json",
    )
}

/// A known path with another method: 405 in the API's error shape.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take that method; see /v1/openapi.json",
    )
}
