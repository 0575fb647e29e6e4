//! Configuration: one TOML file, parsed once into typed structs and validated across sections (every route names a real
//! carrier, every password hash parses). A bad file stops start-up with the file, line and field at fault.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use crate::message::Class;
use crate::routing::senders::AlphaPolicy;

/// The whole configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The ESME-facing SMPP listener.
    pub server: ServerConfig,
    /// Queue bounds.
    #[serde(default)]
    pub queue: QueueConfig,
    /// Message classes: validity, shares and the rules that pick a class.
    #[serde(default)]
    pub classes: ClassesConfig,
    /// Client accounts (`[[account]]`).
    #[serde(default, rename = "account")]
    pub accounts: Vec<AccountConfig>,
    /// Upstream carriers (`[[carrier]]`).
    #[serde(default, rename = "carrier")]
    pub carriers: Vec<CarrierConfig>,
    /// Routes (`[[route]]`).
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
    /// Sender-ID policies per destination country.
    #[serde(default)]
    pub senders: SendersConfig,
    /// The built-in SMSC simulator, started in-process.
    #[serde(default)]
    pub simulator: Option<SimulatorConfig>,
    /// Webhook delivery: retries and bounds.
    #[serde(default)]
    pub webhooks: WebhooksConfig,
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where ESMEs bind.
    pub smpp_listen: SocketAddr,
    /// The `system_id` Sluice answers binds with.
    #[serde(default = "default_system_id")]
    pub system_id: String,
    /// Most simultaneous ESME connections.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most unacknowledged requests Sluice sends an ESME (receipts, MO).
    #[serde(default = "default_window")]
    pub window: usize,
    /// Most unanswered requests an ESME may have; more are answered ESME_RTHROTTLED.
    #[serde(default = "default_inbound_window")]
    pub inbound_window: usize,
    /// How long Sluice waits for a response.
    #[serde(default = "default_response_timeout", with = "humantime_serde")]
    pub response_timeout: Duration,
    /// Idle time after which Sluice sends enquire_link.
    #[serde(default = "default_enquire_link", with = "humantime_serde")]
    pub enquire_link_interval: Duration,
    /// A bind that sends nothing for this long is unbound.
    #[serde(default = "default_inactivity", with = "humantime_serde")]
    pub inactivity_timeout: Duration,
    /// Largest PDU accepted, in octets.
    #[serde(default = "default_max_pdu")]
    pub max_pdu_len: usize,
    /// Receipts and MO kept per account while none of its receivers is bound.
    #[serde(default = "default_backlog")]
    pub receipt_backlog: usize,
    /// How long a message's record stays queryable (query_sm, HTTP GET) after its final state.
    #[serde(default = "default_retention", with = "humantime_serde")]
    pub record_retention: Duration,
    /// Most final records kept; beyond it the oldest are forgotten before their retention is over, so memory stays
    /// bounded at any message rate.
    #[serde(default = "default_max_final_records")]
    pub max_final_records: usize,
    /// Where the HTTP API listens (not started when absent).
    #[serde(default)]
    pub http_listen: Option<SocketAddr>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served (not started when absent).
    #[serde(default)]
    pub admin_listen: Option<SocketAddr>,
    /// Most segments one HTTP message may be split into; longer texts are refused.
    #[serde(default = "default_http_max_segments")]
    pub http_max_segments: usize,
    /// Most HTTP API requests in progress at once; more are answered 503 with Retry-After.
    #[serde(default = "default_http_max_requests")]
    pub http_max_requests: usize,
}

/// `[webhooks]`: how receipts and MO are POSTed to clients' callback URLs.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Attempts per delivery, the first included; after the last one the delivery is counted as failed and logged.
    #[serde(default = "default_webhook_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry; doubled after each failure.
    #[serde(default = "default_webhook_backoff", with = "humantime_serde")]
    pub initial_backoff: Duration,
    /// Longest wait between retries.
    #[serde(default = "default_webhook_max_backoff", with = "humantime_serde")]
    pub max_backoff: Duration,
    /// Time allowed for one request.
    #[serde(default = "default_webhook_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Most deliveries pending (in flight or waiting to retry); more are dropped, counted and logged.
    #[serde(default = "default_webhook_queue")]
    pub queue: usize,
    /// Most requests in flight at once.
    #[serde(default = "default_webhook_concurrency")]
    pub concurrency: usize,
    /// Most requests in flight at once to one account's endpoints, so one slow endpoint cannot hold every slot.
    #[serde(default = "default_webhook_account_concurrency")]
    pub account_concurrency: usize,
    /// Accept callback URLs given in requests (`callback_url`, Kannel's `dlr-url`) whose host is a loopback, private,
    /// link-local or unspecified IP address. Off by default: a client could otherwise make Sluice send requests into
    /// the operator's own network. Accounts' configured `callback_url`s are the operator's and are not checked.
    #[serde(default)]
    pub allow_private_addresses: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            max_attempts: default_webhook_attempts(),
            initial_backoff: default_webhook_backoff(),
            max_backoff: default_webhook_max_backoff(),
            timeout: default_webhook_timeout(),
            queue: default_webhook_queue(),
            concurrency: default_webhook_concurrency(),
            account_concurrency: default_webhook_account_concurrency(),
            allow_private_addresses: false,
        }
    }
}

/// `[queue]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// Most messages queued per carrier.
    #[serde(default = "default_max_messages")]
    pub max_messages: usize,
    /// Most message bytes queued per carrier.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Share of the bounds kept free of each lower class, per step down from OTP: with 0.05, transactional may fill
    /// 95 %, notification 90 % and marketing 85 % of them, and only OTPs the rest.
    #[serde(default = "default_headroom")]
    pub headroom: Spanned<f64>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_messages: default_max_messages(),
            max_bytes: default_max_bytes(),
            headroom: default_headroom(),
        }
    }
}

/// One class's settings.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    /// Validity when the message gives none.
    #[serde(with = "humantime_serde")]
    pub validity: Duration,
    /// Least share of sends (0.0 to 1.0) the class gets while higher classes are busy.
    #[serde(default)]
    pub min_share: f64,
}

/// A rule that gives a class to SMPP messages by `service_type` and/or `priority_flag`; the first match wins.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ClassRule {
    /// Matches this `service_type` (case-insensitive).
    pub service_type: Option<String>,
    /// Matches this `priority_flag` or higher.
    pub priority_flag: Option<u8>,
    /// The class given.
    pub class: Class,
}

/// `[classes]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassesConfig {
    /// `[classes.otp]`.
    #[serde(default = "default_otp")]
    pub otp: ClassConfig,
    /// `[classes.transactional]`.
    #[serde(default = "default_transactional")]
    pub transactional: ClassConfig,
    /// `[classes.notification]`.
    #[serde(default = "default_notification")]
    pub notification: ClassConfig,
    /// `[classes.marketing]`.
    #[serde(default = "default_marketing")]
    pub marketing: ClassConfig,
    /// `[[classes.rule]]`.
    #[serde(default, rename = "rule")]
    pub rules: Vec<ClassRule>,
}

impl Default for ClassesConfig {
    fn default() -> Self {
        ClassesConfig {
            otp: default_otp(),
            transactional: default_transactional(),
            notification: default_notification(),
            marketing: default_marketing(),
            rules: Vec::new(),
        }
    }
}

impl ClassesConfig {
    /// A class's settings.
    pub fn get(&self, class: Class) -> &ClassConfig {
        match class {
            Class::Otp => &self.otp,
            Class::Transactional => &self.transactional,
            Class::Notification => &self.notification,
            Class::Marketing => &self.marketing,
        }
    }

    /// The class an SMPP message gets from the rules, if any matches.
    pub fn class_for(&self, service_type: &str, priority_flag: u8) -> Option<Class> {
        self.rules
            .iter()
            .find(|r| {
                r.service_type
                    .as_deref()
                    .is_none_or(|s| s.eq_ignore_ascii_case(service_type))
                    && r.priority_flag.is_none_or(|p| priority_flag >= p)
            })
            .map(|r| r.class)
    }
}

/// SMPP bind types, as named in config.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum BindTypeName {
    /// bind_transmitter.
    Transmitter,
    /// bind_receiver.
    Receiver,
    /// bind_transceiver.
    Transceiver,
}

/// `[[account]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The SMPP `system_id` (also the account's name in metrics).
    pub system_id: Spanned<String>,
    /// An argon2 PHC string, made by `sluice hash-password`.
    pub password_hash: Spanned<String>,
    /// Bind types allowed.
    #[serde(default = "all_bind_types")]
    pub bind_types: Vec<BindTypeName>,
    /// Most simultaneous binds.
    #[serde(default = "default_max_binds")]
    pub max_binds: usize,
    /// Messages per second accepted (segments count one each).
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// Messages accepted in a burst above the rate.
    #[serde(default)]
    pub burst: Option<u32>,
    /// Source networks the account may bind from (empty: any).
    #[serde(default)]
    pub allowed_networks: Vec<IpNet>,
    /// Class when nothing else gives one.
    #[serde(default = "default_class")]
    pub default_class: Class,
    /// Sender IDs the account owns (`*` for any).
    #[serde(default)]
    pub sender_ids: Vec<String>,
    /// Numbers whose mobile-originated messages go to this account.
    #[serde(default)]
    pub numbers: Vec<String>,
    /// Country code for national destination numbers (e.g. "49").
    #[serde(default)]
    pub default_country: Option<String>,
    /// SHA-256 hashes (64 hex digits) of the account's HTTP API keys, made by `sluice hash-api-key`.
    ///
    /// A fast hash is enough because API keys are long random strings (`sluice hash-api-key` with no argument makes
    /// one of 256 bits): nobody can search that space, salted or not. Argon2 would cost tens of milliseconds of CPU on
    /// every request, which is what it is for with passwords people choose, and what an API at thousands of requests
    /// per second cannot pay.
    #[serde(default)]
    pub api_key_hashes: Vec<Spanned<String>>,
    /// Where receipts of HTTP messages go when a message names no `callback_url`; when set, MO goes there too
    /// (instead of the account's SMPP receiver binds).
    #[serde(default)]
    pub callback_url: Option<Spanned<String>>,
    /// Key of the HMAC-SHA256 signature on every webhook; needed when the account has API keys or a callback URL.
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

/// `[[carrier]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierConfig {
    /// The carrier's name in routes, logs and metrics.
    pub name: Spanned<String>,
    /// Connect to the built-in simulator instead of `host`/`port`.
    #[serde(default)]
    pub simulator: bool,
    /// The carrier's SMSC host.
    #[serde(default)]
    pub host: Option<String>,
    /// The carrier's SMSC port.
    #[serde(default)]
    pub port: Option<u16>,
    /// Our `system_id` at the carrier.
    pub system_id: String,
    /// Our password at the carrier.
    pub password: String,
    /// `system_type` sent in the bind.
    #[serde(default)]
    pub system_type: String,
    /// Bind type.
    #[serde(default = "default_carrier_bind")]
    pub bind_type: BindTypeName,
    /// Sessions (connections) kept bound.
    #[serde(default = "default_sessions")]
    pub sessions: usize,
    /// Of those, sessions that send only OTPs: an OTP then never waits behind the marketing already in a window.
    #[serde(default)]
    pub otp_sessions: usize,
    /// Unacknowledged submit_sm per session.
    #[serde(default = "default_carrier_window")]
    pub window: usize,
    /// Messages per second across all sessions (unlimited when absent).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Messages per second per session (unlimited when absent).
    #[serde(default)]
    pub session_rate: Option<f64>,
    /// Idle time after which we send enquire_link.
    #[serde(default = "default_enquire_link", with = "humantime_serde")]
    pub enquire_link_interval: Duration,
    /// How long we wait for a response before the message goes back to the queue.
    #[serde(default = "default_response_timeout", with = "humantime_serde")]
    pub response_timeout: Duration,
    /// First reconnect delay; doubled (with jitter) up to `reconnect_max`.
    #[serde(default = "default_reconnect_min", with = "humantime_serde")]
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    #[serde(default = "default_reconnect_max", with = "humantime_serde")]
    pub reconnect_max: Duration,
    /// How long to hold off after ESME_RTHROTTLED.
    #[serde(default = "default_throttle_backoff", with = "humantime_serde")]
    pub throttle_backoff: Duration,
    /// Registered sender IDs this carrier accepts (`*` for any).
    #[serde(default)]
    pub sender_ids: Vec<String>,
}

/// One carrier of a route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCarrierConfig {
    /// A carrier's `name`.
    pub carrier: Spanned<String>,
    /// Price per segment.
    #[serde(default)]
    pub cost: f64,
    /// Share among carriers of equal cost.
    #[serde(default = "one")]
    pub weight: u32,
}

/// `[[route]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Destination prefix in E.164 digits ("" for every number).
    pub prefix: Spanned<String>,
    /// Only for these accounts' `system_id`s.
    #[serde(default)]
    pub accounts: Vec<Spanned<String>>,
    /// Only for these classes.
    #[serde(default)]
    pub classes: Vec<Class>,
    /// Carriers, tried least cost first.
    pub carriers: Vec<RouteCarrierConfig>,
}

/// A country's alphanumeric sender policy, as named in config.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AlphaPolicyName {
    /// Any owned sender ID.
    Allowed,
    /// Only IDs registered with the carrier.
    Registered,
    /// Replaced by a numeric sender.
    Replaced,
}

/// `[[senders.country]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountrySenders {
    /// E.164 country code, e.g. "91".
    pub country_code: Spanned<String>,
    /// The policy.
    pub alphanumeric: AlphaPolicyName,
    /// The numeric sender used with `replaced`.
    #[serde(default)]
    pub replacement: Option<String>,
}

/// `[senders]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SendersConfig {
    /// The policy for countries not listed (`allowed` when absent).
    #[serde(default)]
    pub default: Option<AlphaPolicyName>,
    /// `[[senders.country]]`.
    #[serde(default, rename = "country")]
    pub countries: Vec<CountrySenders>,
}

/// `[simulator]`: the built-in SMSC simulator.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Start it in-process.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where it listens.
    pub listen: SocketAddr,
    /// The simulator itself: outcomes, delays and faults.
    #[serde(flatten)]
    pub behaviour: SimBehaviour,
}

/// How the simulator behaves.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimBehaviour {
    /// Delay before a receipt is sent.
    #[serde(default = "default_receipt_delay", with = "humantime_serde")]
    pub receipt_delay: Duration,
    /// Share of messages reported UNDELIV.
    #[serde(default)]
    pub undeliverable: f64,
    /// Share of messages reported EXPIRED.
    #[serde(default)]
    pub expired: f64,
    /// Share of submit_sm answered with a permanent error (ESME_RSUBMITFAIL).
    #[serde(default)]
    pub reject: f64,
    /// Most submit_sm per second accepted; more are answered ESME_RTHROTTLED (unlimited when absent).
    #[serde(default)]
    pub max_rate: Option<u32>,
    /// Drop the connection after this many submit_sm (never when absent).
    #[serde(default)]
    pub disconnect_every: Option<u64>,
    /// Credentials checked on bind (any accepted when absent).
    #[serde(default)]
    pub system_id: Option<String>,
    /// Password checked on bind.
    #[serde(default)]
    pub password: Option<String>,
}

impl Default for SimBehaviour {
    fn default() -> Self {
        SimBehaviour {
            receipt_delay: default_receipt_delay(),
            undeliverable: 0.0,
            expired: 0.0,
            reject: 0.0,
            max_rate: None,
            disconnect_every: None,
            system_id: None,
            password: None,
        }
    }
}

fn default_system_id() -> String {
    "SLUICE".into()
}
fn default_max_connections() -> usize {
    1000
}
fn default_window() -> usize {
    100
}
fn default_inbound_window() -> usize {
    1000
}
fn default_response_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_enquire_link() -> Duration {
    Duration::from_secs(30)
}
fn default_inactivity() -> Duration {
    Duration::from_secs(300)
}
fn default_max_pdu() -> usize {
    smpp::DEFAULT_MAX_PDU_LEN
}
fn default_retention() -> Duration {
    Duration::from_secs(3600)
}
fn default_max_final_records() -> usize {
    1_000_000
}
fn default_backlog() -> usize {
    100_000
}
fn default_max_messages() -> usize {
    1_000_000
}
fn default_headroom() -> Spanned<f64> {
    Spanned::new(0..0, 0.05)
}
fn default_max_bytes() -> usize {
    256 * 1024 * 1024
}
fn class_config(validity_secs: u64, min_share: f64) -> ClassConfig {
    ClassConfig {
        validity: Duration::from_secs(validity_secs),
        min_share,
    }
}
fn default_otp() -> ClassConfig {
    class_config(300, 0.0)
}
fn default_transactional() -> ClassConfig {
    class_config(24 * 3600, 0.2)
}
fn default_notification() -> ClassConfig {
    class_config(24 * 3600, 0.1)
}
fn default_marketing() -> ClassConfig {
    class_config(48 * 3600, 0.05)
}
fn all_bind_types() -> Vec<BindTypeName> {
    vec![
        BindTypeName::Transmitter,
        BindTypeName::Receiver,
        BindTypeName::Transceiver,
    ]
}
fn default_max_binds() -> usize {
    4
}
fn default_rate() -> f64 {
    100.0
}
fn default_class() -> Class {
    Class::Transactional
}
fn default_carrier_bind() -> BindTypeName {
    BindTypeName::Transceiver
}
fn default_sessions() -> usize {
    1
}
fn default_carrier_window() -> usize {
    10
}
fn default_reconnect_min() -> Duration {
    Duration::from_secs(1)
}
fn default_reconnect_max() -> Duration {
    Duration::from_secs(60)
}
fn default_throttle_backoff() -> Duration {
    Duration::from_secs(1)
}
fn default_receipt_delay() -> Duration {
    Duration::from_millis(100)
}
fn default_http_max_segments() -> usize {
    10
}
fn default_http_max_requests() -> usize {
    1024
}
fn default_webhook_attempts() -> u32 {
    8
}
fn default_webhook_backoff() -> Duration {
    Duration::from_secs(1)
}
fn default_webhook_max_backoff() -> Duration {
    Duration::from_secs(300)
}
fn default_webhook_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_webhook_queue() -> usize {
    10_000
}
fn default_webhook_concurrency() -> usize {
    32
}
fn default_webhook_account_concurrency() -> usize {
    8
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

/// A config file that cannot be used: where and why.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}:{column}: {field}: {message}", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when the error has no place in the file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field at fault, as a TOML path.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A loaded, validated configuration and the file it came from.
#[derive(Debug)]
pub struct Config {
    /// The parsed file.
    pub file: ConfigFile,
    /// Where it was read from.
    pub path: PathBuf,
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_owned(),
            line: 0,
            column: 0,
            field: "(file)".into(),
            message: format!("cannot read the file: {e}"),
        })?;
        Config::parse(path, &text)
    }

    /// Parses and validates config text; `path` is only used in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            let message = e.message().to_string();
            let field = field_from_message(&message).unwrap_or_else(|| "(syntax)".into());
            ConfigError {
                path: path.to_owned(),
                line,
                column,
                field,
                message,
            }
        })?;
        let config = Config {
            file,
            path: path.to_owned(),
        };
        config.validate(text)?;
        Ok(config)
    }

    fn validate(&self, text: &str) -> Result<(), ConfigError> {
        let err = |span: std::ops::Range<usize>, field: String, message: String| {
            let (line, column) = line_col(text, span.start);
            ConfigError {
                path: self.path.clone(),
                line,
                column,
                field,
                message,
            }
        };
        let f = &self.file;
        let headroom = *f.queue.headroom.get_ref();
        if !(0.0..=0.25).contains(&headroom) {
            return Err(err(
                f.queue.headroom.span(),
                "queue.headroom".into(),
                "must be between 0.0 and 0.25 (marketing may then fill 100 % down to 25 % of the queue)".into(),
            ));
        }
        let mut names = HashSet::new();
        for (i, a) in f.accounts.iter().enumerate() {
            if !names.insert(a.system_id.get_ref().clone()) {
                return Err(err(
                    a.system_id.span(),
                    format!("account[{i}].system_id"),
                    "duplicate system_id".into(),
                ));
            }
            if a.system_id.get_ref().is_empty() || a.system_id.get_ref().len() > 15 {
                return Err(err(
                    a.system_id.span(),
                    format!("account[{i}].system_id"),
                    "must be 1 to 15 characters (SMPP 3.4 §4.1.1)".into(),
                ));
            }
            if let Err(e) = argon2::PasswordHash::new(a.password_hash.get_ref()) {
                return Err(err(
                    a.password_hash.span(),
                    format!("account[{i}].password_hash"),
                    format!("not an argon2 PHC string ({e}); make one with `sluice hash-password`"),
                ));
            }
            for (j, h) in a.api_key_hashes.iter().enumerate() {
                let ok = h.get_ref().len() == 64
                    && h.get_ref()
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if !ok {
                    return Err(err(
                        h.span(),
                        format!("account[{i}].api_key_hashes[{j}]"),
                        "not a SHA-256 hash (64 lower-case hex digits); make one with `sluice hash-api-key`".into(),
                    ));
                }
            }
            if let Some(url) = &a.callback_url {
                let ok = reqwest::Url::parse(url.get_ref())
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
                if !ok {
                    return Err(err(
                        url.span(),
                        format!("account[{i}].callback_url"),
                        "must be an absolute http:// or https:// URL".into(),
                    ));
                }
            }
            if (a.callback_url.is_some() || !a.api_key_hashes.is_empty())
                && a.webhook_secret.as_deref().is_none_or(str::is_empty)
            {
                return Err(err(
                    a.system_id.span(),
                    format!("account[{i}].webhook_secret"),
                    "an account with API keys or a callback_url needs a webhook_secret to sign its webhooks".into(),
                ));
            }
            if a.rate.is_nan() || a.rate <= 0.0 {
                return Err(err(
                    a.system_id.span(),
                    format!("account[{i}].rate"),
                    "must be a positive number of messages per second".into(),
                ));
            }
        }
        // Fields without a span: the error names the field, with no line.
        let unplaced = |field: &str, message: &str| ConfigError {
            path: self.path.clone(),
            line: 0,
            column: 0,
            field: field.into(),
            message: message.into(),
        };
        let w = &f.webhooks;
        if w.max_attempts == 0 || w.queue == 0 || w.concurrency == 0 || w.account_concurrency == 0 {
            return Err(unplaced(
                "webhooks",
                "max_attempts, queue, concurrency and account_concurrency must be at least 1",
            ));
        }
        if f.server.http_max_requests == 0 {
            return Err(unplaced("server.http_max_requests", "must be at least 1"));
        }
        if f.server.http_max_segments == 0 || f.server.http_max_segments > 255 {
            return Err(unplaced(
                "server.http_max_segments",
                "must be 1 to 255 (a concatenated message has at most 255 parts)",
            ));
        }
        let mut carriers = HashSet::new();
        for (i, c) in f.carriers.iter().enumerate() {
            if !carriers.insert(c.name.get_ref().clone()) {
                return Err(err(
                    c.name.span(),
                    format!("carrier[{i}].name"),
                    "duplicate carrier name".into(),
                ));
            }
            if c.otp_sessions >= c.sessions {
                return Err(err(
                    c.name.span(),
                    format!("carrier[{i}].otp_sessions"),
                    format!(
                        "must be fewer than sessions ({}): the other classes need at least one session",
                        c.sessions
                    ),
                ));
            }
            if c.simulator && f.simulator.as_ref().is_none_or(|s| !s.enabled) {
                return Err(err(
                    c.name.span(),
                    format!("carrier[{i}].simulator"),
                    "set, but there is no enabled [simulator] section".into(),
                ));
            }
            if !c.simulator && (c.host.is_none() || c.port.is_none()) {
                return Err(err(
                    c.name.span(),
                    format!("carrier[{i}].host"),
                    "a carrier needs host and port (or simulator = true)".into(),
                ));
            }
            if c.sessions == 0 || c.window == 0 {
                return Err(err(
                    c.name.span(),
                    format!("carrier[{i}].sessions"),
                    "sessions and window must be at least 1".into(),
                ));
            }
        }
        for (i, r) in f.routes.iter().enumerate() {
            if !r.prefix.get_ref().bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(
                    r.prefix.span(),
                    format!("route[{i}].prefix"),
                    "must be E.164 digits, without + or 00".into(),
                ));
            }
            if r.carriers.is_empty() {
                return Err(err(
                    r.prefix.span(),
                    format!("route[{i}].carriers"),
                    "a route needs at least one carrier".into(),
                ));
            }
            for (j, rc) in r.carriers.iter().enumerate() {
                if !carriers.contains(rc.carrier.get_ref()) {
                    return Err(err(
                        rc.carrier.span(),
                        format!("route[{i}].carriers[{j}].carrier"),
                        format!("no [[carrier]] is named {:?}", rc.carrier.get_ref()),
                    ));
                }
            }
            for (j, a) in r.accounts.iter().enumerate() {
                if !names.contains(a.get_ref()) {
                    return Err(err(
                        a.span(),
                        format!("route[{i}].accounts[{j}]"),
                        format!("no [[account]] has system_id {:?}", a.get_ref()),
                    ));
                }
            }
        }
        for (i, c) in f.senders.countries.iter().enumerate() {
            if c.alphanumeric == AlphaPolicyName::Replaced && c.replacement.is_none() {
                return Err(err(
                    c.country_code.span(),
                    format!("senders.country[{i}].replacement"),
                    "`replaced` needs a numeric replacement sender".into(),
                ));
            }
        }
        Ok(())
    }

    /// The sender policy for a config entry.
    pub fn alpha_policy(name: AlphaPolicyName, replacement: Option<&str>) -> AlphaPolicy {
        match name {
            AlphaPolicyName::Allowed => AlphaPolicy::Allowed,
            AlphaPolicyName::Registered => AlphaPolicy::Registered,
            AlphaPolicyName::Replaced => {
                AlphaPolicy::Replaced(replacement.unwrap_or_default().to_string())
            }
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// The field a serde message names ("unknown field `x`", "missing field `x`").
fn field_from_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$4w2HkTEcsUZ6D0lWvCAs2GDkRFDaPnYlbCRFr1n7ZR8";

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("test.toml"), text)
    }

    fn minimal() -> String {
        format!(
            r#"
[server]
smpp_listen = "127.0.0.1:2775"

[[account]]
system_id = "demo"
password_hash = "{HASH}"
sender_ids = ["ACME"]

[[carrier]]
name = "sim"
host = "127.0.0.1"
port = 2776
system_id = "sluice"
password = "pw"

[[route]]
prefix = ""
carriers = [{{ carrier = "sim" }}]
"#
        )
    }

    #[test]
    fn a_minimal_config_loads_with_defaults() {
        let c = parse(&minimal()).unwrap();
        assert_eq!(c.file.server.window, 100);
        assert_eq!(c.file.classes.otp.validity, Duration::from_secs(300));
        assert_eq!(c.file.accounts[0].max_binds, 4);
    }

    #[test]
    fn an_unknown_field_names_the_line_and_field() {
        let text = minimal().replace(
            "sender_ids = [\"ACME\"]",
            "sender_ids = [\"ACME\"]\nsenderid = \"X\"",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (9, "senderid"), "{e}");
        assert!(
            e.to_string()
                .starts_with("test.toml:9:1: senderid: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn a_route_to_an_unknown_carrier_is_refused_at_its_line() {
        let text = minimal().replace("carrier = \"sim\"", "carrier = \"nope\"");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.field, "route[0].carriers[0].carrier");
        assert_eq!(e.line, 19);
        assert!(e.message.contains("nope"));
    }

    #[test]
    fn otp_sessions_must_leave_a_session_for_the_other_classes() {
        let text = minimal().replace("password = \"pw\"", "password = \"pw\"\notp_sessions = 1");
        let e = parse(&text).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_str()),
            (11, "carrier[0].otp_sessions"),
            "{e}"
        );
        let text = minimal().replace(
            "password = \"pw\"",
            "password = \"pw\"\nsessions = 2\notp_sessions = 1",
        );
        assert_eq!(parse(&text).unwrap().file.carriers[0].otp_sessions, 1);
    }

    #[test]
    fn a_queue_headroom_out_of_range_is_refused_at_its_line() {
        let text = minimal() + "\n[queue]\nheadroom = 0.5\n";
        let e = parse(&text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (22, "queue.headroom"), "{e}");
    }

    #[test]
    fn a_bad_password_hash_says_how_to_make_one() {
        let e = parse(&minimal().replace(HASH, "plaintext")).unwrap_err();
        assert_eq!(e.field, "account[0].password_hash");
        assert!(e.message.contains("sluice hash-password"));
    }

    #[test]
    fn a_bad_duration_is_refused() {
        let text = minimal().replace(
            "smpp_listen = \"127.0.0.1:2775\"",
            "smpp_listen = \"127.0.0.1:2775\"\nresponse_timeout = \"soon\"",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn http_settings_load_with_their_defaults() {
        let text = minimal().replace(
            "smpp_listen = \"127.0.0.1:2775\"",
            "smpp_listen = \"127.0.0.1:2775\"\nhttp_listen = \"127.0.0.1:8080\"",
        );
        let c = parse(&text).unwrap();
        assert_eq!(
            c.file.server.http_listen,
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(c.file.server.admin_listen, None);
        assert_eq!(c.file.webhooks.max_attempts, 8);
    }

    #[test]
    fn an_api_key_hash_that_is_not_sha256_hex_is_refused() {
        let text = minimal().replace(
            "sender_ids = [\"ACME\"]",
            "sender_ids = [\"ACME\"]\napi_key_hashes = [\"demo-api-key\"]\nwebhook_secret = \"s\"",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.line),
            ("account[0].api_key_hashes[0]", 9)
        );
        assert!(e.message.contains("sluice hash-api-key"), "{e}");
    }

    #[test]
    fn api_keys_without_a_webhook_secret_are_refused() {
        let hash = "ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22";
        let text = minimal().replace(
            "sender_ids = [\"ACME\"]",
            &format!("sender_ids = [\"ACME\"]\napi_key_hashes = [\"{hash}\"]"),
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.field, "account[0].webhook_secret");
    }

    #[test]
    fn a_callback_url_must_be_absolute_http() {
        let text = minimal().replace(
            "sender_ids = [\"ACME\"]",
            "sender_ids = [\"ACME\"]\ncallback_url = \"ftp://x/y\"\nwebhook_secret = \"s\"",
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(e.field, "account[0].callback_url");
    }

    #[test]
    fn class_rules_match_service_type_and_priority() {
        let text = minimal()
            + r#"
[[classes.rule]]
service_type = "OTP"
class = "otp"

[[classes.rule]]
priority_flag = 2
class = "transactional"
"#;
        let c = parse(&text).unwrap();
        assert_eq!(c.file.classes.class_for("otp", 0), Some(Class::Otp));
        assert_eq!(c.file.classes.class_for("", 3), Some(Class::Transactional));
        assert_eq!(c.file.classes.class_for("", 0), None);
    }
}
