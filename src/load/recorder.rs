//! A `metrics` recorder that keeps the gateway's two latency histograms per class (accepted → carrier's
//! submit_sm_resp, accepted → carrier's receipt) in HDR histograms, so an in-process load run can report the time the
//! gateway itself measured. Every other metric is dropped.

use std::sync::{Arc, Mutex};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

use super::report::{GatewayLatency, Latency};
use crate::message::Class;
use crate::metrics as m;

#[derive(Debug, Default)]
struct Cell(Mutex<Latency>);

impl HistogramFn for Cell {
    fn record(&self, seconds: f64) {
        let us = (seconds * 1e6).max(0.0) as u64;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record_micros(us);
    }
}

/// The gateway's latency histograms: [accept → carrier, accept → receipt] × class. Fixed cells, so recording takes
/// only the one cell's lock.
#[derive(Debug, Default, Clone)]
pub struct GatewayHistograms {
    cells: Arc<[[Arc<Cell>; 4]; 2]>,
}

impl GatewayHistograms {
    /// Installs a recorder feeding these histograms as the process's global recorder; `None` if one was already set.
    pub fn install() -> Option<GatewayHistograms> {
        let h = GatewayHistograms::default();
        metrics::set_global_recorder(h.clone()).ok().map(|()| h)
    }

    /// A copy of what was recorded, per class.
    pub fn snapshot(&self) -> Vec<GatewayLatency> {
        let read = |metric: usize, class: usize| {
            self.cells[metric][class]
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        };
        Class::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| GatewayLatency {
                class: c.as_str().to_string(),
                accept_to_carrier: read(0, i),
                accept_to_receipt: read(1, i),
            })
            .filter(|g| g.accept_to_carrier.count() + g.accept_to_receipt.count() > 0)
            .collect()
    }
}

impl Recorder for GatewayHistograms {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let metric = match key.name() {
            n if n == m::SUBMIT_TO_CARRIER => 0,
            n if n == m::SUBMIT_TO_RECEIPT => 1,
            _ => return Histogram::noop(),
        };
        let class = key
            .labels()
            .find(|l| l.key() == "class")
            .and_then(|l| Class::ALL.iter().position(|c| c.as_str() == l.value()));
        match class {
            Some(class) => Histogram::from_arc(self.cells[metric][class].clone()),
            None => Histogram::noop(),
        }
    }
}
