//! The scenario file: how long to load, which streams of traffic (class, rate, sizes, binds), and how to set up the
//! in-process gateway and simulator for the run. Parsed once, strictly (`deny_unknown_fields`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Config;
use crate::message::Class;

/// A load scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// How long streams submit.
    #[serde(with = "humantime_serde")]
    pub duration: Duration,
    /// How long to wait after the last submit for responses and receipts still due.
    #[serde(default = "default_drain", with = "humantime_serde")]
    pub drain: Duration,
    /// How long a bind stops submitting after an ESME_RTHROTTLED or ESME_RMSGQFUL answer, as a well-behaved ESME
    /// does; 0 resubmits at once (a flood of refused submits, which takes CPU from the carrier side).
    #[serde(default = "default_throttle_backoff", with = "humantime_serde")]
    pub throttle_backoff: Duration,
    /// The credentials to bind with.
    #[serde(default)]
    pub login: Login,
    /// Changes to the gateway config, applied when the gateway runs in-process.
    #[serde(default)]
    pub gateway: GatewayOverrides,
    /// The traffic (`[[stream]]`).
    #[serde(rename = "stream")]
    pub streams: Vec<Stream>,
}

fn default_throttle_backoff() -> Duration {
    Duration::from_millis(10)
}

fn default_drain() -> Duration {
    Duration::from_secs(30)
}

/// The account the load generator binds as.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// `system_id`.
    pub system_id: String,
    /// `password` (SMPP compares its first 8 octets).
    pub password: String,
}

impl Default for Login {
    fn default() -> Self {
        Login {
            system_id: "demo".into(),
            password: "demo-secret".into(),
        }
    }
}

/// Settings a scenario changes in the gateway config it starts in-process; absent ones keep the config's value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayOverrides {
    /// The bound account's submit rate and burst (messages per second), so the load, not policy, is the limit.
    pub account_rate: Option<f64>,
    /// Sessions per carrier.
    pub carrier_sessions: Option<usize>,
    /// Window per carrier session.
    pub carrier_window: Option<usize>,
    /// The simulator's delay before a receipt.
    #[serde(default, with = "humantime_serde")]
    pub receipt_delay: Option<Duration>,
    /// The simulator drops a carrier connection after this many submits.
    pub disconnect_every: Option<u64>,
    /// Fastest reconnect after a carrier connection is lost.
    #[serde(default, with = "humantime_serde")]
    pub reconnect_min: Option<Duration>,
    /// The simulator refuses every carrier bind, so messages only queue (for the memory target).
    #[serde(default)]
    pub carrier_down: bool,
    /// Messages a carrier queue holds.
    pub queue_max_messages: Option<usize>,
    /// Octets a carrier queue holds.
    pub queue_max_bytes: Option<usize>,
    /// The queue's headroom for higher classes (`[queue] headroom`); 0 lets every class fill the whole queue.
    pub queue_headroom: Option<f64>,
}

impl GatewayOverrides {
    /// Applies the overrides to `config` (for the account named `system_id`), and moves both listeners to free ports.
    pub fn apply(&self, config: &mut Config, system_id: &str) {
        let f = &mut config.file;
        f.server.smpp_listen = SocketAddr::from(([127, 0, 0, 1], 0));
        if let Some(sim) = f.simulator.as_mut() {
            sim.listen = SocketAddr::from(([127, 0, 0, 1], 0));
            if let Some(d) = self.receipt_delay {
                sim.behaviour.receipt_delay = d;
            }
            if self.disconnect_every.is_some() {
                sim.behaviour.disconnect_every = self.disconnect_every;
            }
            if self.carrier_down {
                // A password no carrier bind sends: every bind is refused and the carrier never comes up.
                sim.behaviour.password = Some("\u{1}refuse".into());
            }
        }
        if let Some(rate) = self.account_rate {
            for a in f
                .accounts
                .iter_mut()
                .filter(|a| a.system_id.get_ref() == system_id)
            {
                a.rate = rate;
                a.burst = Some(rate.clamp(1.0, f64::from(u32::MAX)) as u32);
            }
        }
        for c in &mut f.carriers {
            if let Some(s) = self.carrier_sessions {
                c.sessions = s;
            }
            if let Some(w) = self.carrier_window {
                c.window = w;
            }
            if let Some(r) = self.reconnect_min {
                c.reconnect_min = r;
                c.reconnect_max = c.reconnect_max.max(r);
            }
        }
        if let Some(n) = self.queue_max_messages {
            f.queue.max_messages = n;
        }
        if let Some(n) = self.queue_max_bytes {
            f.queue.max_bytes = n;
        }
        if let Some(h) = self.queue_headroom {
            f.queue.headroom = toml::Spanned::new(0..0, h);
        }
    }
}

/// One stream of traffic: its own binds, class markers, rate and message sizes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// Its name in the report.
    pub name: String,
    /// `service_type` sent (the gateway's class rules may map it to a class).
    #[serde(default)]
    pub service_type: String,
    /// `priority_flag` sent.
    #[serde(default)]
    pub priority_flag: u8,
    /// Submits per second across the stream's binds; absent means as fast as the windows allow.
    pub rate: Option<f64>,
    /// Transceiver binds.
    #[serde(default = "one")]
    pub sessions: usize,
    /// Unanswered submits per bind.
    #[serde(default = "default_window")]
    pub window: usize,
    /// The share of each message kind; every segment of a long message is one submit.
    #[serde(default)]
    pub mix: Mix,
    /// Stamp each submit with its send time (a vendor TLV, see [`crate::probe`]), so the built-in simulator can report
    /// submit → carrier for this stream. Adds 13 octets to each submit_sm.
    #[serde(default)]
    pub probe: bool,
}

fn one() -> usize {
    1
}

fn default_window() -> usize {
    100
}

/// Weights of the message kinds.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    /// One GSM 7-bit segment.
    #[serde(default)]
    pub gsm: f64,
    /// One UCS-2 segment.
    #[serde(default)]
    pub ucs2: f64,
    /// A GSM 7-bit text of three segments (8-bit-reference UDH).
    #[serde(default)]
    pub long: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            gsm: 1.0,
            ucs2: 0.0,
            long: 0.0,
        }
    }
}

/// Why a scenario could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::parse(&text).map_err(|message| ScenarioError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses and checks scenario text.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let s: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        if s.streams.is_empty() {
            return Err("a scenario needs at least one [[stream]]".into());
        }
        if s.streams.len() > usize::from(u8::MAX) {
            return Err("at most 255 streams".into());
        }
        for st in &s.streams {
            if st.sessions == 0 || st.window == 0 {
                return Err(format!(
                    "stream {}: sessions and window must be at least 1",
                    st.name
                ));
            }
            if st.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
                return Err(format!("stream {}: rate must be positive", st.name));
            }
            let m = &st.mix;
            if [m.gsm, m.ucs2, m.long].iter().any(|w| *w < 0.0) || m.gsm + m.ucs2 + m.long <= 0.0 {
                return Err(format!(
                    "stream {}: mix weights must be >= 0 and not all 0",
                    st.name
                ));
            }
            if st.service_type.len() > 5 {
                return Err(format!(
                    "stream {}: service_type is at most 5 characters (SMPP 3.4 §5.2.11)",
                    st.name
                ));
            }
        }
        Ok(s)
    }
}

/// The class a stream's messages get from a gateway config's rules, or the account's default.
pub fn class_of(stream: &Stream, config: &Config, system_id: &str) -> Option<Class> {
    let f = &config.file;
    f.classes
        .class_for(&stream.service_type, stream.priority_flag)
        .or_else(|| {
            f.accounts
                .iter()
                .find(|a| a.system_id.get_ref() == system_id)
                .map(|a| a.default_class)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_scenario_with_defaults() {
        let s = Scenario::parse(
            r#"
            duration = "10s"
            [[stream]]
            name = "otp"
            service_type = "OTP"
            rate = 50
            "#,
        )
        .unwrap();
        assert_eq!(s.duration, Duration::from_secs(10));
        assert_eq!(s.drain, Duration::from_secs(30));
        assert_eq!(s.login.system_id, "demo");
        assert_eq!(s.streams[0].sessions, 1);
        assert_eq!(s.streams[0].rate, Some(50.0));
        assert_eq!(s.streams[0].mix.gsm, 1.0);
    }

    #[test]
    fn rejects_a_scenario_without_streams() {
        assert!(Scenario::parse("duration = \"1s\"\nstream = []").is_err());
    }

    #[test]
    fn rejects_unknown_fields() {
        let e =
            Scenario::parse("duration = \"1s\"\nspeed = 3\n[[stream]]\nname = \"a\"").unwrap_err();
        assert!(e.contains("speed"), "{e}");
    }

    #[test]
    fn the_bundled_scenarios_parse() {
        for name in [
            "throughput",
            "marketing-flood",
            "otp-under-flood",
            "carrier-flap",
            "queue-1m",
        ] {
            let path = format!(
                "{}/benches/scenarios/{name}.toml",
                env!("CARGO_MANIFEST_DIR")
            );
            Scenario::load(Path::new(&path)).unwrap();
        }
    }
}
