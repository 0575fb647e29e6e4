//! The HTTP side: the JSON API application servers submit through (`/v1/…`), the Kannel-compatible `sendsms`
//! endpoint, the webhooks that carry receipts and MO back, and the admin listener (`/metrics`, `/healthz`, `/readyz`).
//!
//! HTTP submits go through the same [`Gateway::submit_parts`] as SMPP ones, so they meet the same checks (E.164,
//! sender-ID registry, class, length, account rate); only the answers differ (HTTP status codes and JSON errors that
//! name the field).

pub mod admin;
pub mod api;
pub mod error;
pub mod kannel;
pub mod messages;
pub mod webhook;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;

use crate::gateway::Gateway;
use crate::message::AccountId;
use crate::metrics as m;
use crate::shutdown::Shutdown;

pub use error::ApiError;
pub use messages::HttpMessages;

/// What the HTTP handlers share.
#[derive(Clone, Debug)]
pub struct HttpState {
    /// The gateway.
    pub gateway: Arc<Gateway>,
    /// HTTP messages: their parts, callbacks and client references.
    pub messages: Arc<HttpMessages>,
    /// Most segments one message may take.
    pub max_segments: usize,
    /// Permits for requests in progress.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// Whether callback URLs in requests may name private IP addresses.
    pub allow_private_callbacks: bool,
}

/// The API router: `/v1/…`, `/cgi-bin/sendsms`, with request metrics.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(kannel::routes())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.in_flight.clone(),
            limit_requests,
        ))
        // After the fallbacks, so that unmatched requests are counted too (as route "unmatched").
        .layer(axum::middleware::from_fn(count_requests))
        .with_state(state)
}

/// Serves `router` on `listener` until shutdown, then lets requests in progress finish.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: Shutdown) {
    use axum::serve::ListenerExt;
    // Answers are small and written whole: Nagle's algorithm would only hold them back.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "HTTP listener failed");
    }
}

/// Answers 503 rather than queue requests without end when `http_max_requests` are already in progress.
async fn limit_requests(
    axum::extract::State(in_flight): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    use axum::response::IntoResponse;
    match in_flight.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "too many requests in progress; retry after the Retry-After seconds",
            )
        }
        .into_response(),
    }
}

/// Counts requests by route pattern (never the path itself: it holds message ids) and status, and times them.
async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(m::HTTP_DURATION, "route" => route.clone(), "method" => method.clone())
        .record(start.elapsed().as_secs_f64());
    metrics::counter!(m::HTTP_REQUESTS, "route" => route, "method" => method, "status" => response.status().as_u16().to_string())
        .increment(1);
    response
}

/// The account a request is authenticated as, by `Authorization: Bearer <API key>`.
#[derive(Clone, Copy, Debug)]
pub struct Client(pub AccountId);

impl FromRequestParts<HttpState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthorized("send your API key as `Authorization: Bearer <key>`")
            })?;
        // The scheme is case-insensitive (RFC 7235 §2.1).
        let key = header
            .to_str()
            .ok()
            .filter(|h| h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer "))
            .map(|h| h[7..].trim())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "the Authorization header must be `Bearer <key>` with your API key",
                )
            })?;
        state
            .gateway
            .account_by_api_key(key)
            .map(|a| Client(a.id))
            .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))
    }
}
