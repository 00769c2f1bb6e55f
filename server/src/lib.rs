//! The Pennon control plane: storage, the admin API, snapshot distribution to SDKs,
//! OFREP, and observability. The `pennon` binary's `serve` subcommand runs it.

pub mod serve;
