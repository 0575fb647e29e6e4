//! The admin listener: `/metrics` (Prometheus text format), `/healthz` (the process answers) and `/readyz` (every route
//! has at least one carrier with a bound session).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::gateway::Gateway;
use crate::message::Class;
use crate::metrics as m;

/// The admin router.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(gateway)
}

async fn metrics_text(State(gw): State<Arc<Gateway>>) -> Response {
    // Queue depth is read when scraped rather than tracked on every push and pop: exact, and free on the hot path.
    for (_, c) in gw.carriers() {
        let depth = c.queue.depth();
        for class in Class::ALL {
            metrics::gauge!(m::QUEUE_DEPTH, "carrier" => c.name.clone(), "class" => class.as_str())
                .set(depth[class.index()] as f64);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m::prometheus().render(),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(gw): State<Arc<Gateway>>) -> Response {
    let missing = gw.routes_without_carrier();
    if missing.is_empty() {
        (StatusCode::OK, Json(json!({"ready": true}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "routes_without_bound_carrier": missing})),
        )
            .into_response()
    }
}
