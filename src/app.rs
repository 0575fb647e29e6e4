//! Starts every part of the gateway from a config, and stops them: the ESME listener, the simulator (when enabled), one
//! task per carrier, the HTTP API and admin listeners (when configured), the webhook dispatcher, and the housekeeping
//! sweep. Listeners may use port 0; the bound addresses are reported back.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::http::{self, HttpMessages, HttpState};
use crate::message::CarrierId;
use crate::server::{self, ServerSettings};
use crate::shutdown::{self, ShutdownTrigger};
use crate::sim::Simulator;
use crate::upstream::{self, CarrierSettings};

/// A running gateway.
pub struct Running {
    /// Where ESMEs bind.
    pub smpp_addr: SocketAddr,
    /// Where the built-in simulator listens, when enabled.
    pub simulator_addr: Option<SocketAddr>,
    /// Where the HTTP API listens, when configured.
    pub http_addr: Option<SocketAddr>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served, when configured.
    pub admin_addr: Option<SocketAddr>,
    /// HTTP messages (for status and receipts).
    pub http_messages: Arc<HttpMessages>,
    /// The shared state.
    pub gateway: Arc<Gateway>,
    /// The simulator, when enabled.
    pub simulator: Option<Arc<Simulator>>,
    trigger: ShutdownTrigger,
    tasks: JoinSet<()>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("smpp_addr", &self.smpp_addr)
            .field("simulator_addr", &self.simulator_addr)
            .field("http_addr", &self.http_addr)
            .field("admin_addr", &self.admin_addr)
            .finish()
    }
}

/// Binds the listeners and starts every task.
pub async fn start(config: &Config) -> io::Result<Running> {
    let f = &config.file;
    if f.server.admin_listen.is_some() {
        // Before anything records a metric: the facade drops what is recorded while no recorder is installed.
        crate::metrics::prometheus();
    }
    let start_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let gateway = Arc::new(Gateway::new(config, start_unix));
    let (trigger, shutdown) = shutdown::channel();
    let mut tasks = JoinSet::new();

    let mut simulator = None;
    let mut simulator_addr = None;
    if let Some(sim) = f.simulator.as_ref().filter(|s| s.enabled) {
        let listener = TcpListener::bind(sim.listen).await?;
        simulator_addr = Some(listener.local_addr()?);
        let s = Simulator::new(sim.behaviour.clone());
        tasks.spawn(s.clone().serve(listener, shutdown.clone()));
        tracing::info!(addr = %simulator_addr.expect("set"), "SMSC simulator listening");
        simulator = Some(s);
    }

    for (i, c) in f.carriers.iter().enumerate() {
        let addr = if c.simulator {
            simulator_addr.expect("validated: a simulated carrier needs an enabled simulator")
        } else {
            let host = c.host.as_deref().expect("validated");
            let port = c.port.expect("validated");
            tokio::net::lookup_host((host, port))
                .await?
                .next()
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("carrier {}: {host} has no address", c.name.get_ref()),
                    )
                })?
        };
        let settings = Arc::new(CarrierSettings::from_config(CarrierId(i as u16), c, addr));
        tasks.spawn(upstream::run(gateway.clone(), settings, shutdown.clone()));
    }

    let listener = TcpListener::bind(f.server.smpp_listen).await?;
    let smpp_addr = listener.local_addr()?;
    tracing::info!(addr = %smpp_addr, "SMPP listening");
    let settings = Arc::new(ServerSettings::from_config(&f.server));
    tasks.spawn(server::serve(
        listener,
        gateway.clone(),
        settings,
        f.server.max_connections,
        shutdown.clone(),
    ));

    let http_messages = Arc::new(HttpMessages::default());
    if let Some(notices) = gateway.take_notices() {
        tasks.spawn(http::webhook::run(
            gateway.clone(),
            http_messages.clone(),
            f.webhooks.clone(),
            notices,
            shutdown.clone(),
        ));
    }
    let mut http_addr = None;
    if let Some(addr) = f.server.http_listen {
        let listener = TcpListener::bind(addr).await?;
        http_addr = Some(listener.local_addr()?);
        tracing::info!(addr = %listener.local_addr()?, "HTTP API listening");
        let router = http::router(HttpState {
            gateway: gateway.clone(),
            messages: http_messages.clone(),
            max_segments: f.server.http_max_segments,
            in_flight: Arc::new(tokio::sync::Semaphore::new(f.server.http_max_requests)),
            allow_private_callbacks: f.webhooks.allow_private_addresses,
        });
        tasks.spawn(http::serve(listener, router, shutdown.clone()));
    }
    let mut admin_addr = None;
    if let Some(addr) = f.server.admin_listen {
        let listener = TcpListener::bind(addr).await?;
        admin_addr = Some(listener.local_addr()?);
        tracing::info!(addr = %listener.local_addr()?, "admin listening (/metrics, /healthz, /readyz)");
        let router = http::admin::router(gateway.clone());
        tasks.spawn(http::serve(listener, router, shutdown.clone()));
    }

    let (gw, mut stop) = (gateway.clone(), shutdown.clone());
    tasks.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = stop.wait() => break,
                _ = tick.tick() => {
                    let (now, now_unix) = crate::conn::now();
                    gw.sweep(now, now_unix);
                    while gw.expire_records(now, 4096) {
                        tokio::task::yield_now().await;
                    }
                }
            }
        }
    });

    Ok(Running {
        smpp_addr,
        simulator_addr,
        http_addr,
        admin_addr,
        http_messages,
        gateway,
        simulator,
        trigger,
        tasks,
    })
}

impl Running {
    /// Tells every task to stop (binds are unbound, in-flight messages requeued) and waits up to `grace` for them.
    pub async fn shutdown(mut self, grace: Duration) {
        self.trigger.trigger();
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("shutdown grace period over; stopping the remaining tasks");
            self.tasks.abort_all();
        }
    }
}
