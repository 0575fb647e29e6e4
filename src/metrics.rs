//! Metric names (constants, so a typo is a compile error) and the label values Sluice uses. Labels are low-cardinality:
//! account, carrier, class, reason, state; never phone numbers or message text.

/// Messages accepted from clients. Labels: account, class.
pub const ACCEPTED: &str = "sluice_messages_accepted_total";
/// Submits refused. Labels: account, class, reason. Accepted and refused count segments: each is a message at the carrier.
pub const REJECTED: &str = "sluice_messages_rejected_total";
/// Messages acknowledged by a carrier. Labels: account, carrier, class.
pub const SENT: &str = "sluice_messages_sent_total";
/// Messages that reached a final state. Labels: account, carrier, class, state (DELIVRD, UNDELIV, EXPIRED, REJECTD,
/// DELETED).
pub const FINISHED: &str = "sluice_messages_finished_total";
/// Carrier answers that put a message back or moved it to another carrier. Labels: carrier, reason.
pub const REQUEUED: &str = "sluice_messages_requeued_total";
/// Carrier receipts that matched no message. Labels: carrier.
pub const RECEIPTS_UNMATCHED: &str = "sluice_receipts_unmatched_total";
/// Receipts and MO dropped because an account's outbox was full. Labels: account.
pub const OUTBOX_DROPPED: &str = "sluice_outbox_dropped_total";
/// ESME_RTHROTTLED answers from carriers. Labels: carrier.
pub const CARRIER_THROTTLED: &str = "sluice_carrier_throttled_total";
/// Seconds from acceptance to the carrier's submit_sm_resp. Labels: class.
pub const SUBMIT_TO_CARRIER: &str = "sluice_submit_to_carrier_seconds";
/// Seconds from acceptance to the carrier's final receipt. Labels: class.
pub const SUBMIT_TO_RECEIPT: &str = "sluice_submit_to_receipt_seconds";
/// Client binds up. Labels: account.
pub const ESME_BINDS: &str = "sluice_esme_binds";
/// Carrier sessions bound. Labels: carrier.
pub const CARRIER_BINDS: &str = "sluice_carrier_binds";
/// Messages queued. Labels: carrier, class. Set when `/metrics` is scraped.
pub const QUEUE_DEPTH: &str = "sluice_queue_depth";
/// submit_sm sent to a carrier and not yet answered, per session. Labels: carrier, session.
pub const CARRIER_WINDOW_IN_USE: &str = "sluice_carrier_window_in_use";
/// HTTP requests answered. Labels: route (the route pattern, never the path), method, status.
pub const HTTP_REQUESTS: &str = "sluice_http_requests_total";
/// Seconds to answer an HTTP request. Labels: route, method.
pub const HTTP_DURATION: &str = "sluice_http_request_duration_seconds";
/// Webhooks the client's server accepted (2xx). Labels: account, kind (receipt, mo, kannel_dlr).
pub const WEBHOOKS_DELIVERED: &str = "sluice_webhooks_delivered_total";
/// Webhook attempts that failed and will be retried. Labels: account, kind.
pub const WEBHOOKS_RETRIED: &str = "sluice_webhooks_retried_total";
/// Webhooks given up after every attempt failed. Labels: account, kind.
pub const WEBHOOKS_FAILED: &str = "sluice_webhooks_failed_total";
/// Webhooks never attempted: the queue was full, or the gateway stopped first. Labels: account, reason.
pub const WEBHOOKS_DROPPED: &str = "sluice_webhooks_dropped_total";

/// Latency buckets, in seconds, for every `_seconds` histogram: from a millisecond (an OTP through the simulator) to
/// ten minutes (a carrier's slow receipt).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0,
];

/// The process's Prometheus recorder, installed on first use.
///
/// The `metrics` facade has one global recorder per process; installing it here, once, lets every gateway started in
/// the same process (the test suite starts many) share it. When something else installed a recorder first, Sluice's
/// metrics go there and this handle renders only what it recorded (nothing), which is logged.
pub fn prometheus() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        handle
    })
}

/// Handles of the metrics recorded for every message, kept by small keys (account, carrier and class indexes) so that
/// recording one is a lookup and an atomic add. The `counter!` macro with labels builds the label strings, the key and
/// a registry lookup on every call: five times per message, most of it allocation.
#[derive(Debug)]
pub struct PerMessage<K: std::hash::Hash + Eq> {
    handles: dashmap::DashMap<K, metrics::Counter>,
}

impl<K: std::hash::Hash + Eq> Default for PerMessage<K> {
    fn default() -> Self {
        PerMessage {
            handles: dashmap::DashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq> PerMessage<K> {
    /// Adds `n` to the counter for `key`, registering it with `make` the first time.
    pub fn increment(&self, key: K, n: u64, make: impl FnOnce() -> metrics::Counter) {
        if let Some(c) = self.handles.get(&key) {
            c.increment(n);
            return;
        }
        self.handles.entry(key).or_insert_with(make).increment(n);
    }
}

/// One histogram handle per class, registered on first use.
#[derive(Debug, Default)]
pub struct PerClass([std::sync::OnceLock<metrics::Histogram>; 4]);

impl PerClass {
    /// Records `seconds` for `class`, registering the handle with `make` the first time.
    pub fn record(
        &self,
        class: crate::message::Class,
        seconds: f64,
        make: impl FnOnce() -> metrics::Histogram,
    ) {
        self.0[class.index()].get_or_init(make).record(seconds);
    }
}
