//! The Pennon control plane: storage, the admin API, snapshot distribution to SDKs,
//! OFREP, and observability. The `pennon` binary's `serve` subcommand runs it; see
//! `docs/control-plane.md` for the HTTP contract.

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod body;
pub mod change;
pub mod context_sets;
pub mod controller;
pub mod dashboard;
pub mod edit;
pub mod error;
pub mod events;
pub mod experiment;
pub mod metrics;
pub mod ofrep;
pub mod ops;
pub mod outcomes;
pub mod publish;
pub mod rollout;
pub mod rollouts_api;
pub mod sdk;
pub mod series;
pub mod serve;
pub mod store;
pub mod time;
pub mod what_if;
