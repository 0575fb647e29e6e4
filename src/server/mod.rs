//! The ESME-facing side, where Sluice is the SMSC: the listener, and one task per connection that authenticates binds,
//! accepts submits, answers queries and cancels, and delivers the account's receipts and MO to receiver binds.

mod connection;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::ServerConfig;
use crate::gateway::Gateway;
use crate::shutdown::Shutdown;

/// What each ESME connection needs from `[server]`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Our `system_id` in bind responses.
    pub system_id: String,
    /// Session timers and windows.
    pub session: smpp::session::Config,
    /// Largest PDU accepted.
    pub max_pdu_len: usize,
}

impl ServerSettings {
    /// Settings from `[server]`.
    pub fn from_config(c: &ServerConfig) -> Self {
        ServerSettings {
            system_id: c.system_id.clone(),
            session: smpp::session::Config {
                role: smpp::session::Role::Smsc,
                window: c.window,
                inbound_window: c.inbound_window,
                response_timeout: c.response_timeout,
                enquire_link_interval: c.enquire_link_interval,
                inactivity_timeout: Some(c.inactivity_timeout),
                bind_timeout: Duration::from_secs(10),
            },
            max_pdu_len: c.max_pdu_len,
        }
    }
}

/// Accepts ESME connections until shutdown, then waits for every connection to unbind.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    settings: Arc<ServerSettings>,
    max_connections: usize,
    mut shutdown: Shutdown,
) {
    let permits = Arc::new(Semaphore::new(max_connections));
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.wait() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, max_connections, "connection refused: at the connection limit");
                    drop(stream);
                    continue;
                };
                let (gateway, settings, shutdown) = (gateway.clone(), settings.clone(), shutdown.clone());
                tasks.spawn(async move {
                    connection::run(stream, peer, gateway, settings, shutdown).await;
                    drop(permit);
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
}
