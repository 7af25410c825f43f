//! cairn-sinks: where records go after the writer has them.
//!
//! [`driver`] is shared by every sink: it batches by count, bytes and delay,
//! classifies failures as retryable or permanent (a type, not a guess from a
//! message), backs off exponentially with jitter while honouring the
//! server's own `Retry-After` / `RetryInfo`, and writes what can never be
//! delivered to a dead-letter file with its reason. The pieces are sans-IO
//! (time and randomness are passed in), so their behaviour is tested without
//! a network or a clock.

pub mod driver;
