//! Sluice, an SMPP gateway and router.
//!
//! The flow of a message: an ESME's `submit_sm` (or an HTTP request) → validate (addresses, sender-ID registry, coding,
//! rate) → route (longest prefix, per account and class, least cost, carriers that can carry the sender) → the chosen
//! carrier's priority queue → `submit_sm_resp` with Sluice's id → a carrier session sends it within its window and rate →
//! the carrier's id is recorded against ours → the carrier's receipt is matched → a receipt `deliver_sm` goes to the
//! client's bind (or its webhook).
//!
//! Modules, in pipeline order: [`config`] → [`server`] (ESME connections) → [`gateway`] (validate, route, queue, store)
//! with the I/O-free policy in [`routing`], [`queue`] and [`dlr`] → [`upstream`] (carrier sessions) → back through
//! [`gateway`] to the client's bind. [`http`] is the JSON API, Kannel's `sendsms`, webhooks and the admin listener;
//! [`sim`] is a built-in carrier and [`load`] a load generator; [`app`] starts and stops it all.

pub mod app;
pub mod config;
pub mod conn;
pub mod dlr;
pub mod gateway;
pub mod http;
pub mod load;
pub mod message;
pub mod metrics;
pub mod probe;
pub mod queue;
pub mod routing;
pub mod server;
pub mod shutdown;
pub mod sim;
pub mod upstream;
