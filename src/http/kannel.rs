//! Kannel's `sendsms` interface (`GET`, or `POST` with a form or with the text as the body and `X-Kannel-*` headers,
//! to `/cgi-bin/sendsms`), so applications written for Kannel's
//! smsbox move to Sluice unchanged: `username`, `password`, `from`, `to`, `text`, `coding`, `validity` (minutes),
//! `dlr-mask` and `dlr-url`, answered as Kannel answers (`202 0: Accepted for delivery`).
//!
//! `username` is the account's `system_id` and `password` one of its API keys (hashed with SHA-256 like every API
//! key, not argon2: `sendsms` authenticates every request). Not supported, and refused with 400 so nothing is silently
//! dropped: several recipients in `to`, `coding=1` (8-bit binary), `udh`, `deferred` (scheduling) and `mclass`/`mwi`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use smpp::encoding::TextEncoding;

use super::api::{build_parts, check_callback_url, OutgoingText};
use super::messages::{Callback, HttpMessage};
use super::{ApiError, HttpState};
use crate::gateway::store::Origin;

/// The `/cgi-bin/sendsms` route.
pub fn routes() -> Router<HttpState> {
    Router::new().route("/cgi-bin/sendsms", get(send_get).post(send_post))
}

async fn send_get(
    State(state): State<HttpState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    send(&state, &params)
}

/// A POST: parameters as a form body, or (as Kannel's own POST) the text as the body with the other parameters in
/// `X-Kannel-*` headers (`X-Kannel-To`, `X-Kannel-DLR-Url`, …) or the query string.
async fn send_post(
    State(state): State<HttpState>,
    Query(mut params): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        match Form::<HashMap<String, String>>::from_request(request, &state).await {
            Ok(Form(form)) => params.extend(form),
            Err(e) => return answer(StatusCode::BAD_REQUEST, e.body_text()),
        }
    } else {
        for (name, value) in request.headers() {
            if let (Some(param), Ok(value)) =
                (name.as_str().strip_prefix("x-kannel-"), value.to_str())
            {
                params.insert(param.to_string(), value.to_string());
            }
        }
        match Bytes::from_request(request, &state).await {
            Ok(body) => match String::from_utf8(body.to_vec()) {
                Ok(text) => {
                    params.insert("text".into(), text);
                }
                Err(_) => {
                    return answer(StatusCode::BAD_REQUEST, "The text is not UTF-8, rejected")
                }
            },
            Err(e) => return answer(e.status(), e.body_text()),
        }
    }
    send(&state, &params)
}

/// A Kannel-style answer: a status and one line of text.
fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    (status, text.into()).into_response()
}

fn send(state: &HttpState, p: &HashMap<String, String>) -> Response {
    match try_send(state, p) {
        Ok(()) => answer(StatusCode::ACCEPTED, "0: Accepted for delivery"),
        Err(e) => answer(e.status, e.message),
    }
}

fn try_send(state: &HttpState, p: &HashMap<String, String>) -> Result<(), ApiError> {
    let gw = &state.gateway;
    let bad = |field: &str, message: &str| {
        ApiError::field(StatusCode::BAD_REQUEST, "invalid_parameter", field, message)
    };
    let account = match (p.get("username"), p.get("password")) {
        (Some(user), Some(key)) => gw.account_by_api_key(key).filter(|a| &a.system_id == user),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "unauthorized",
            "Authorization failed for sendsms",
        )
    })?;
    let to = p
        .get("to")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("to", "Missing receiver number, rejected"))?;
    if to.contains(char::is_whitespace) {
        return Err(bad(
            "to",
            "Only one receiver per request is supported; send one request per number",
        ));
    }
    let from = p
        .get("from")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| bad("from", "Sender missing and no global set, rejected"))?;
    let text = p.get("text").map_or("", String::as_str);
    for unsupported in ["udh", "deferred", "mclass", "mwi"] {
        if p.get(unsupported).is_some_and(|v| !v.is_empty()) {
            return Err(bad(
                unsupported,
                &format!("{unsupported} is not supported by this gateway, rejected"),
            ));
        }
    }
    let encoding =
        match p.get("coding").map(String::as_str) {
            None | Some("") => None,
            Some("0") => Some(TextEncoding::Gsm7),
            Some("2") => Some(TextEncoding::Ucs2),
            Some(_) => return Err(bad(
                "coding",
                "coding must be 0 (7-bit) or 2 (UCS-2); 8-bit binary is not supported, rejected",
            )),
        };
    let validity = match p.get("validity").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map(|minutes| std::time::Duration::from_secs(minutes * 60))
                .map_err(|_| bad("validity", "validity must be a number of minutes, rejected"))?,
        ),
    };
    let mask = match p.get("dlr-mask").filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => v.parse::<u8>().map_err(|_| {
            bad(
                "dlr-mask",
                "dlr-mask must be a number from 0 to 31, rejected",
            )
        })?,
    };
    let dlr_url = p.get("dlr-url").filter(|u| !u.is_empty());
    if let Some(url) = dlr_url {
        check_callback_url(url, "dlr-url", state.allow_private_callbacks).map_err(|e| {
            ApiError {
                status: StatusCode::BAD_REQUEST,
                ..e
            }
        })?;
    }
    let message = OutgoingText {
        to,
        from,
        text,
        encoding,
        validity,
    };
    let (parts, encoding) = build_parts(&message, state.max_segments).map_err(to_400)?;
    let class = account.default_class;
    let callback = match dlr_url {
        Some(url) if mask != 0 => Callback::Kannel {
            url: url.clone(),
            mask,
            username: account.system_id.clone(),
        },
        // Kannel sends no report without both; neither does Sluice (the account's JSON webhook is not used either).
        _ => Callback::Kannel {
            url: String::new(),
            mask: 0,
            username: account.system_id.clone(),
        },
    };
    let (now, now_unix) = crate::conn::now();
    let mut registered = None;
    let submitted = gw.submit_parts(
        account.id,
        parts,
        class,
        Origin::Http {
            report_sent: dlr_url.is_some() && mask & super::webhook::KANNEL_SENT != 0,
        },
        now,
        now_unix,
        |ids| {
            // Recorded before any part is queued, so a receipt that comes back at once finds its message.
            registered = Some(state.messages.insert(HttpMessage {
                account: account.id,
                parts: ids.into(),
                encoding,
                callback,
                client_ref: None,
                reported: false,
            }));
        },
    );
    if let Err(e) = submitted {
        if let Some(id) = registered {
            state.messages.remove(id);
        }
        return Err(to_400(ApiError::from(e)));
    }
    Ok(())
}

/// Kannel answers a refused message with a 4xx and a line of text; 422 becomes 400 as Kannel has no 422. Overload
/// keeps its 429 / 503.
fn to_400(e: ApiError) -> ApiError {
    if e.status == StatusCode::UNPROCESSABLE_ENTITY {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            ..e
        }
    } else {
        e
    }
}
