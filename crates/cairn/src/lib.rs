//! The cairn gateway as a library: configuration ([`config`]), the topology
//! that wires receivers to outputs ([`topology`]), the admin endpoint
//! ([`admin`]) and the command line ([`cli`]). `main.rs` only calls [`cli::main`].

pub mod admin;
pub mod archive_cli;
pub mod cli;
pub mod config;
pub mod topology;
pub mod wal_metrics;
