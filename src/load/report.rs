//! What a load run measured: counts and latency histograms per stream (and, in-process, the gateway's own per-class
//! histograms), printed as a text table or as JSON.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// A latency histogram in microseconds, 1 µs to 10 min at three significant figures (about 0.1% error).
#[derive(Clone)]
pub struct Latency(Histogram<u64>);

impl std::fmt::Debug for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Latency({} samples)", self.0.len())
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"))
    }
}

impl Latency {
    /// Records one sample.
    pub fn record(&mut self, d: Duration) {
        self.record_micros(d.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    /// Records one sample in microseconds (clamped to the histogram's range).
    pub fn record_micros(&mut self, us: u64) {
        self.0.saturating_record(us.max(1));
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    fn ms(&self, q: f64) -> f64 {
        self.0.value_at_quantile(q) as f64 / 1000.0
    }

    /// The summary as JSON: count and milliseconds at p50, p90, p99, p99.9 and max.
    pub fn to_json(&self) -> Value {
        if self.0.is_empty() {
            return json!({ "count": 0 });
        }
        json!({
            "count": self.0.len(),
            "p50_ms": self.ms(0.5),
            "p90_ms": self.ms(0.9),
            "p99_ms": self.ms(0.99),
            "p999_ms": self.ms(0.999),
            "max_ms": self.0.max() as f64 / 1000.0,
        })
    }

    /// The summary as one line of text.
    pub fn to_text(&self) -> String {
        if self.0.is_empty() {
            return "no samples".into();
        }
        format!(
            "p50 {:>8.3}  p90 {:>8.3}  p99 {:>8.3}  p99.9 {:>8.3}  max {:>9.3} ms  (n={})",
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.ms(0.999),
            self.0.max() as f64 / 1000.0,
            self.0.len()
        )
    }
}

/// Latencies one stream saw.
#[derive(Debug, Default, Clone)]
pub struct StreamLatency {
    /// Our submit_sm written → its submit_sm_resp read.
    pub submit_to_resp: Latency,
    /// Our submit_sm written → the receipt deliver_sm for it read.
    pub submit_to_receipt: Latency,
    /// Our submit_sm written → read by the carrier (the built-in simulator, for streams with `probe = true`).
    pub submit_to_carrier: Latency,
}

impl StreamLatency {
    /// Adds another's samples.
    pub fn merge(&mut self, other: &StreamLatency) {
        self.submit_to_resp.merge(&other.submit_to_resp);
        self.submit_to_receipt.merge(&other.submit_to_receipt);
        self.submit_to_carrier.merge(&other.submit_to_carrier);
    }
}

/// One stream's results.
#[derive(Debug)]
pub struct StreamReport {
    /// Its name.
    pub name: String,
    /// The class the gateway gives it, when known.
    pub class: Option<&'static str>,
    /// submit_sm sent.
    pub submitted: u64,
    /// Answered ESME_ROK.
    pub accepted: u64,
    /// Answered ESME_RTHROTTLED or ESME_RMSGQFUL.
    pub throttled: u64,
    /// Answered with another error.
    pub refused: u64,
    /// No answer within the response timeout.
    pub timed_out: u64,
    /// Receipts matched to this stream's messages.
    pub receipts: u64,
    /// Latencies.
    pub latency: StreamLatency,
}

/// A gateway-side histogram for one class.
#[derive(Debug)]
pub struct GatewayLatency {
    /// The class.
    pub class: String,
    /// Accepted by the gateway → the carrier's submit_sm_resp (`sluice_submit_to_carrier_seconds`).
    pub accept_to_carrier: Latency,
    /// Accepted by the gateway → the carrier's final receipt (`sluice_submit_to_receipt_seconds`).
    pub accept_to_receipt: Latency,
}

/// The whole run.
#[derive(Debug)]
pub struct Report {
    /// The scenario's file name.
    pub scenario: String,
    /// Time spent submitting.
    pub submit_window: Duration,
    /// Time from the first submit to the last receipt (or the end of the drain).
    pub total: Duration,
    /// Per stream.
    pub streams: Vec<StreamReport>,
    /// Receipts whose id matched no submit of this run.
    pub unmatched_receipts: u64,
    /// Per class, from the gateway's own metrics; empty when the gateway is not in-process.
    pub gateway: Vec<GatewayLatency>,
    /// Extra facts about the run (simulator counters, queue depth, RSS).
    pub notes: Vec<(String, Value)>,
}

fn per_sec(n: u64, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

impl Report {
    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let streams: Vec<Value> = self
            .streams
            .iter()
            .map(|s| {
                let mut v = json!({
                    "name": s.name,
                    "class": s.class,
                    "submitted": s.submitted,
                    "accepted": s.accepted,
                    "throttled": s.throttled,
                    "refused": s.refused,
                    "timed_out": s.timed_out,
                    "receipts": s.receipts,
                    "accepted_per_s": per_sec(s.accepted, self.submit_window),
                    "receipts_per_s": per_sec(s.receipts, self.total),
                    "submit_to_resp": s.latency.submit_to_resp.to_json(),
                    "submit_to_receipt": s.latency.submit_to_receipt.to_json(),
                });
                if s.latency.submit_to_carrier.count() > 0 {
                    v["submit_to_carrier"] = s.latency.submit_to_carrier.to_json();
                }
                v
            })
            .collect();
        let gateway: Vec<Value> = self
            .gateway
            .iter()
            .map(|g| {
                json!({
                    "class": g.class,
                    "accept_to_carrier": g.accept_to_carrier.to_json(),
                    "accept_to_receipt": g.accept_to_receipt.to_json(),
                })
            })
            .collect();
        let (accepted, receipts) = self.totals();
        json!({
            "scenario": self.scenario,
            "submit_window_s": self.submit_window.as_secs_f64(),
            "total_s": self.total.as_secs_f64(),
            "accepted": accepted,
            "receipts": receipts,
            "accepted_per_s": per_sec(accepted, self.submit_window),
            "receipts_per_s": per_sec(receipts, self.total),
            "unmatched_receipts": self.unmatched_receipts,
            "streams": streams,
            "gateway": gateway,
            "notes": self.notes.iter().cloned().collect::<serde_json::Map<_, _>>(),
        })
    }

    fn totals(&self) -> (u64, u64) {
        self.streams
            .iter()
            .fold((0, 0), |(a, r), s| (a + s.accepted, r + s.receipts))
    }

    /// The report as text.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let (accepted, receipts) = self.totals();
        let _ = writeln!(
            out,
            "scenario {}: submitted for {:.1} s, last receipt at {:.1} s",
            self.scenario,
            self.submit_window.as_secs_f64(),
            self.total.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "total: {accepted} accepted ({:.0}/s), {receipts} receipts ({:.0}/s), {} unmatched receipts",
            per_sec(accepted, self.submit_window),
            per_sec(receipts, self.total),
            self.unmatched_receipts
        );
        for s in &self.streams {
            let _ = writeln!(
                out,
                "\nstream {} (class {}): submitted {}, accepted {} ({:.0}/s), throttled {}, refused {}, timed out {}, receipts {} ({:.0}/s)",
                s.name,
                s.class.unwrap_or("?"),
                s.submitted,
                s.accepted,
                per_sec(s.accepted, self.submit_window),
                s.throttled,
                s.refused,
                s.timed_out,
                s.receipts,
                per_sec(s.receipts, self.total),
            );
            let _ = writeln!(
                out,
                "  submit -> submit_sm_resp   {}",
                s.latency.submit_to_resp.to_text()
            );
            let _ = writeln!(
                out,
                "  submit -> receipt          {}",
                s.latency.submit_to_receipt.to_text()
            );
            if s.latency.submit_to_carrier.count() > 0 {
                let _ = writeln!(
                    out,
                    "  submit -> carrier (read)   {}",
                    s.latency.submit_to_carrier.to_text()
                );
            }
        }
        if !self.gateway.is_empty() {
            let _ = writeln!(out, "\ngateway-side, from its own histograms (accepted = submit_sm decoded by the gateway):");
            for g in &self.gateway {
                let _ = writeln!(
                    out,
                    "  {:<13} accept -> carrier resp  {}",
                    g.class,
                    g.accept_to_carrier.to_text()
                );
                let _ = writeln!(
                    out,
                    "  {:<13} accept -> receipt       {}",
                    "",
                    g.accept_to_receipt.to_text()
                );
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out);
            for (k, v) in &self.notes {
                let _ = writeln!(out, "{k}: {v}");
            }
        }
        out
    }
}
