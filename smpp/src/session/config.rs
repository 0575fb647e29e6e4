//! The knobs of one session: role, windows and timers (SMPP 3.4 §2.8, §2.9, §7.2).

use std::time::Duration;

use super::Role;

/// How one session behaves; see [`Config::default`] for the defaults and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Which side this endpoint plays.
    pub role: Role,
    /// The most requests we sent that may await a response at once (SMPP 3.4 §2.8); 0 is taken as 1.
    pub window: usize,
    /// The most requests from the peer that may await our answer at once; the next one is answered `ESME_RTHROTTLED`.
    pub inbound_window: usize,
    /// How long a request we sent may wait for its response before it times out (SMPP 3.4 §7.2 `response_timer`).
    pub response_timeout: Duration,
    /// How long nothing may be received before we send `enquire_link` (SMPP 3.4 §7.2 `enquire_link_timer`);
    /// `Duration::ZERO` turns our probes off (we still answer the peer's).
    pub enquire_link_interval: Duration,
    /// How long nothing may be received before we unbind (SMPP 3.4 §7.2 `inactivity_timer`); `None` never unbinds.
    pub inactivity_timeout: Option<Duration>,
    /// SMSC role: how long after [`Session::new`](super::Session::new) the peer has to complete a bind before the
    /// session closes (SMPP 3.4 §7.2 `session_init_timer`).
    pub bind_timeout: Duration,
}

impl Config {
    /// The defaults for an ESME (we bind to an SMSC).
    pub fn esme() -> Config {
        Config::default()
    }

    /// The defaults for an SMSC (peers bind to us).
    pub fn smsc() -> Config {
        Config {
            role: Role::Smsc,
            ..Config::default()
        }
    }
}

impl Default for Config {
    /// ESME role; a window of 10 (what most SMSCs allow per bind); an inbound window of 100 (a burst from a fast
    /// client is absorbed, a flood is throttled); a 30 s response timeout and a 30 s enquire_link interval (Kannel's and
    /// most carriers' values, so a dead link is found within a minute); no inactivity unbind, because enquire_link
    /// already finds dead links and idle binds are normal for receivers; a 10 s bind timeout, ample for a TCP client
    /// that means to bind and short enough that idle sockets do not pile up.
    fn default() -> Config {
        Config {
            role: Role::Esme,
            window: 10,
            inbound_window: 100,
            response_timeout: Duration::from_secs(30),
            enquire_link_interval: Duration::from_secs(30),
            inactivity_timeout: None,
            bind_timeout: Duration::from_secs(10),
        }
    }
}
