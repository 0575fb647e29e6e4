//! `sluice`: run the gateway, run the SMSC simulator alone, check a config, or hash a password or an API key.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sluice::config::{Config, SimBehaviour};

// glibc malloc was ~17% of the gateway's CPU under load (malloc, free, consolidation across per-thread arenas);
// mimalloc's thread-local free lists make the many small per-message allocations cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "sluice", version, about = "An SMPP gateway and router")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the gateway.
    Run {
        /// The config file.
        #[arg(long, short, default_value = "config/sluice.toml")]
        config: PathBuf,
    },
    /// Checks a config file without starting anything.
    CheckConfig {
        /// The config file.
        config: PathBuf,
    },
    /// Prints an argon2id hash of a password for an account's `password_hash` (reads stdin when no password is given).
    HashPassword {
        /// The password.
        password: Option<String>,
    },
    /// Prints the SHA-256 hash of an HTTP API key for an account's `api_key_hashes`; with no key, makes a new random
    /// one and prints the key and its hash.
    HashApiKey {
        /// The key.
        key: Option<String>,
    },
    /// Runs the built-in SMSC simulator alone, as a carrier for another gateway.
    Sim {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:2776")]
        listen: SocketAddr,
        /// Delay before each receipt.
        #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
        receipt_delay: Duration,
        /// Share of messages reported UNDELIV (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        undeliverable: f64,
        /// Share of messages reported EXPIRED.
        #[arg(long, default_value_t = 0.0)]
        expired: f64,
        /// Share of submits refused with ESME_RSUBMITFAIL.
        #[arg(long, default_value_t = 0.0)]
        reject: f64,
        /// Most submits per second; more are answered ESME_RTHROTTLED.
        #[arg(long)]
        max_rate: Option<u32>,
        /// Drop the connection after every N submits.
        #[arg(long)]
        disconnect_every: Option<u64>,
    },
    /// Runs a load scenario: against a fresh in-process gateway and simulator (--gateway-config), or a running gateway
    /// (--connect). Prints a progress line each second on stderr and the summary on stdout.
    Load {
        /// The scenario file (see benches/scenarios/).
        #[arg(long)]
        scenario: PathBuf,
        /// Start a gateway from this config in this process (the scenario's [gateway] overrides apply).
        #[arg(long, default_value = "config/sluice.toml", conflicts_with = "connect")]
        gateway_config: PathBuf,
        /// Load a gateway already running at this address instead.
        #[arg(long)]
        connect: Option<SocketAddr>,
        /// Submit for this long instead of the scenario's duration.
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { config } => match Config::load(&config) {
            Ok(_) => {
                println!("{}: ok", config.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        Command::HashPassword { password } => {
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    if std::io::stdin().lock().read_line(&mut line).is_err() {
                        eprintln!("could not read a password from stdin");
                        return ExitCode::from(2);
                    }
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let significant = sluice::gateway::accounts::SIGNIFICANT_PASSWORD_OCTETS;
            if password.len() > significant {
                eprintln!("note: SMPP compares only the first {significant} octets of a password (SMPP 3.4 §4.1.1)");
            }
            println!("{}", sluice::gateway::accounts::hash_password(&password));
            ExitCode::SUCCESS
        }
        Command::HashApiKey { key } => {
            use sluice::gateway::accounts::{api_key_digest, generate_api_key, hex};
            match key {
                Some(k) => println!("{}", hex(&api_key_digest(&k))),
                None => {
                    let (key, hash) = generate_api_key();
                    println!("key:  {key}\nhash: {hash}");
                }
            }
            ExitCode::SUCCESS
        }
        Command::Run { config } => {
            let config = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            init_tracing();
            report(runtime().and_then(|rt| rt.block_on(run(config))))
        }
        Command::Sim {
            listen,
            receipt_delay,
            undeliverable,
            expired,
            reject,
            max_rate,
            disconnect_every,
        } => {
            init_tracing();
            let behaviour = SimBehaviour {
                receipt_delay,
                undeliverable,
                expired,
                reject,
                max_rate,
                disconnect_every,
                ..SimBehaviour::default()
            };
            report(runtime().and_then(|rt| rt.block_on(sim(listen, behaviour))))
        }
        Command::Load {
            scenario,
            gateway_config,
            connect,
            duration,
            json,
        } => {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn".into());
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .init();
            report(runtime().and_then(|rt| {
                rt.block_on(load(&scenario, &gateway_config, connect, duration, json))
            }))
        }
    }
}

async fn load(
    path: &std::path::Path,
    gateway_config: &std::path::Path,
    connect: Option<SocketAddr>,
    duration: Option<Duration>,
    json: bool,
) -> anyhow::Result<()> {
    use sluice::load::{self, recorder::GatewayHistograms, scenario::Scenario};
    let mut scenario = Scenario::load(path)?;
    if let Some(d) = duration {
        scenario.duration = d;
    }
    let name = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let report = match connect {
        Some(addr) => {
            load::run(
                &scenario,
                &name,
                addr,
                vec![None; scenario.streams.len()],
                None,
                None,
            )
            .await?
        }
        None => {
            let config = Config::load(gateway_config).map_err(|e| anyhow::anyhow!("{e}"))?;
            let histograms = GatewayHistograms::install();
            load::run_in_process(&scenario, &name, config, histograms).await?
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn run(config: Config) -> anyhow::Result<()> {
    let running = sluice::app::start(&config)
        .await
        .with_context(|| format!("starting from {}", config.path.display()))?;
    tracing::info!(smpp = %running.smpp_addr, http = ?running.http_addr, admin = ?running.admin_addr, "sluice is running; Ctrl-C to stop");
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.shutdown(Duration::from_secs(10)).await;
    Ok(())
}

async fn sim(listen: SocketAddr, behaviour: SimBehaviour) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(addr = %listener.local_addr()?, "SMSC simulator listening");
    let (trigger, shutdown) = sluice::shutdown::channel();
    let task = tokio::spawn(sluice::sim::Simulator::new(behaviour).serve(listener, shutdown));
    wait_for_signal().await;
    trigger.trigger();
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
