//! cairn-otlp: OTLP receivers over gRPC (tonic) and HTTP (axum), with auth,
//! TLS, limits, and one mapping from refusals to status codes per protocol.
//!
//! Flow of one request: authenticate ([`auth`]) → read the body within
//! limits ([`body`]) → decode and type it ([`receiver`]) → hand it to the
//! ingest → answer. [`grpc`] and [`http`] only adapt their transport;
//! [`serve`] owns the accept loops.

pub mod auth;
pub mod body;
pub mod error;
pub mod grpc;
pub mod http;
pub mod receiver;
pub mod serve;
pub mod stats;
pub mod tls;

pub use error::ReceiveError;
