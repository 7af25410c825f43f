//! cairn-testkit: what cairn's tests, benches and load generators share.
//!
//! - [`fixtures`]: the real Claude Code captures under `../shared/fixtures/`.
//! - [`memory::MemoryIngest`]: an ingest that keeps batches and can be told
//!   to push back.
//! - [`gateway::TestGateway`]: the real receivers on loopback port 0.
//! - [`grpc`]: a raw gRPC unary client (any bytes, any headers).
//! - [`siem`]: contract-faithful local fakes of the SIEM intake APIs.
//! - [`tls`]: throwaway CAs and certificates.
//! - [`eventually!`]: wait for a condition, with a bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod fixtures;
pub mod gateway;
pub mod grpc;
pub mod memory;
pub mod siem;
pub mod tls;

/// Waits until `cond` holds, polling every 10 ms, for at most `secs` seconds
/// (default 10); panics with the condition's text if it never does.
#[macro_export]
macro_rules! eventually {
    ($cond:expr) => {
        $crate::eventually!($cond, 10)
    };
    ($cond:expr, $secs:expr) => {{
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs($secs);
        loop {
            if $cond {
                break;
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "condition never held within {}s: {}",
                    $secs,
                    stringify!($cond)
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }};
}
