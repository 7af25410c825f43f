//! The prompt-chain audit record (`proto/cairn/audit/v1/chain.proto`) and
//! its two outward forms: a JSON line (the proto3 JSON mapping) and an OTLP
//! log record with `event.name = cairn.prompt_chain`.
//!
//! The structs are generated at build time by prost (compiled with protox,
//! no system `protoc`), their serde impls by pbjson. The correlator that
//! fills them lives in `cairn-pipeline`.

use opentelemetry_proto::tonic::{
    common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value},
    logs::v1::LogRecord,
};
use sha2::{Digest, Sha256};

/// The generated `cairn.audit.v1` package.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/cairn.audit.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/cairn.audit.v1.serde.rs"));
}

pub use v1::PromptChain;

mod rfc3339;

use crate::value::kv_str;

/// `event.name` (and the log record's `event_name`) of an exported chain.
pub const CHAIN_EVENT_NAME: &str = "cairn.prompt_chain";

/// The stable chain id: hex of the first 16 bytes of
/// SHA-256(tenant, session.id, prompt.id), each length-prefixed.
pub fn chain_id(tenant: &str, session_id: &str, prompt_id: &str) -> String {
    let mut h = Sha256::new();
    for part in [tenant, session_id, prompt_id] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    lower_hex(h.finalize().get(..16).unwrap_or_default())
}

/// Lower-case hex of `bytes`, as `hex::encode` writes it: digits from a
/// table into a buffer of the final size (`hex::encode` goes through a
/// `char` iterator, ~900 instructions for a chain id).
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = vec![0u8; 2 * bytes.len()];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Formats Unix nanoseconds as RFC 3339 with milliseconds, UTC.
pub fn rfc3339_millis(unix_nano: u64) -> String {
    rfc3339::millis(unix_nano)
}

/// Parses an RFC 3339 time (`event.timestamp`) into Unix nanoseconds.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let t =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    u64::try_from(t.unix_timestamp_nanos()).ok()
}

impl PromptChain {
    /// The chain as JSON (proto3 JSON mapping).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The chain as an OTLP log record: the body is the chain as a map (its
    /// JSON form), attributes carry the keys SIEM searches filter on.
    pub fn to_log_record(&self) -> LogRecord {
        let when = self.when.as_ref();
        let time = when.map(|w| w.last_unix_nano).unwrap_or(0);
        let mut attributes = vec![
            kv_str("event.name", CHAIN_EVENT_NAME),
            kv_str("chain.id", self.chain_id.clone()),
            kv_str("session.id", self.session_id.clone()),
            kv_str("prompt.id", self.prompt_id.clone()),
        ];
        if self.amendment > 0 {
            attributes.push(KeyValue {
                key: "chain.amendment".into(),
                value: Some(AnyValue {
                    value: Some(Value::IntValue(i64::from(self.amendment))),
                }),
                ..Default::default()
            });
        }
        if let Some(who) = &self.who {
            for (k, v) in [
                ("user.id", &who.user_id),
                ("user.account_uuid", &who.account_uuid),
                ("user.email", &who.email),
                ("organization.id", &who.organization_id),
                ("cairn.tenant", &who.tenant),
            ] {
                if !v.is_empty() {
                    attributes.push(kv_str(k, v.clone()));
                }
            }
        }
        if let Some(cc) = &self.cost_center
            && !cc.cost_center.is_empty()
        {
            attributes.push(kv_str("cost_center", cc.cost_center.clone()));
        }
        LogRecord {
            time_unix_nano: time,
            observed_time_unix_nano: time,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(json_to_any(&self.to_json())),
            attributes,
            event_name: CHAIN_EVENT_NAME.into(),
            ..Default::default()
        }
    }
}

/// Converts JSON to an OTLP `AnyValue` (objects become key-value lists).
pub fn json_to_any(v: &serde_json::Value) -> AnyValue {
    use serde_json::Value as J;
    let value = match v {
        J::Null => None,
        J::Bool(b) => Some(Value::BoolValue(*b)),
        J::Number(n) => n
            .as_i64()
            .map(Value::IntValue)
            .or_else(|| n.as_f64().map(Value::DoubleValue)),
        J::String(s) => Some(Value::StringValue(s.clone())),
        J::Array(a) => Some(Value::ArrayValue(ArrayValue {
            values: a.iter().map(json_to_any).collect(),
        })),
        J::Object(o) => Some(Value::KvlistValue(KeyValueList {
            values: o
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: Some(json_to_any(v)),
                    ..Default::default()
                })
                .collect(),
        })),
    };
    AnyValue { value }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::value::{Attrs, to_json};

    fn sample() -> PromptChain {
        PromptChain {
            chain_id: chain_id("", "s1", "p1"),
            session_id: "s1".into(),
            prompt_id: "p1".into(),
            when: Some(v1::When {
                first_unix_nano: 1_795_458_664_308_000_000,
                last_unix_nano: 1_795_458_664_496_000_000,
                first_time: rfc3339_millis(1_795_458_664_308_000_000),
                last_time: rfc3339_millis(1_795_458_664_496_000_000),
                duration_ms: 188,
            }),
            completeness: Some(v1::Completeness {
                complete: true,
                closed_by: v1::Closure::IdleTimeout as i32,
                ..Default::default()
            }),
            steps: vec![v1::Step {
                sequence: 5,
                agent_id: String::new(),
                kind: Some(v1::step::Kind::Tool(v1::ToolCall {
                    tool_use_id: "toolu_1".into(),
                    outcome: v1::ToolOutcome::Rejected as i32,
                    ..Default::default()
                })),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn event_timestamps_parse_to_unix_nanos() {
        let n = parse_rfc3339("2026-11-23T18:31:04.308Z").unwrap();
        assert_eq!(n, 1_795_458_664_308_000_000);
        assert_eq!(rfc3339_millis(n), "2026-11-23T18:31:04.308Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
        // Other RFC 3339 forms still parse (offsets, other precisions).
        assert_eq!(parse_rfc3339("2026-11-23T19:31:04.308+01:00"), Some(n));
        assert_eq!(parse_rfc3339(" 2026-11-23T18:31:04.308000Z "), Some(n));
        assert_eq!(parse_rfc3339("2026-02-30T00:00:00.000Z"), None);
    }

    #[test]
    fn chain_ids_are_hex_of_the_first_half_of_the_sha256() {
        let mut h = Sha256::new();
        for part in ["t", "s", "p"] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        assert_eq!(chain_id("t", "s", "p"), hex::encode(&h.finalize()[..16]));
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&all), hex::encode(&all));
    }

    #[test]
    fn chain_ids_are_stable_and_separate_their_parts() {
        assert_eq!(chain_id("t", "s", "p"), chain_id("t", "s", "p"));
        assert_ne!(chain_id("t", "sp", ""), chain_id("t", "s", "p"));
        assert_ne!(chain_id("", "s", "p"), chain_id("t", "s", "p"));
        assert_eq!(chain_id("", "s", "p").len(), 32);
    }

    #[test]
    fn json_follows_the_proto3_mapping_and_round_trips() {
        let c = sample();
        let j = c.to_json();
        assert_eq!(j["when"]["firstTime"], "2026-11-23T18:31:04.308Z");
        assert_eq!(j["when"]["firstUnixNano"], "1795458664308000000");
        assert_eq!(j["completeness"]["closedBy"], "CLOSURE_IDLE_TIMEOUT");
        assert_eq!(j["steps"][0]["tool"]["outcome"], "TOOL_OUTCOME_REJECTED");
        let back: PromptChain = serde_json::from_value(j).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn the_log_record_carries_the_chain_and_its_keys() {
        let c = sample();
        let log = c.to_log_record();
        let a = Attrs(&log.attributes);
        assert_eq!(a.str("event.name"), Some(CHAIN_EVENT_NAME));
        assert_eq!(a.str("prompt.id"), Some("p1"));
        assert_eq!(a.str("chain.id"), Some(c.chain_id.as_str()));
        assert_eq!(log.time_unix_nano, 1_795_458_664_496_000_000);
        let body = to_json(log.body.as_ref().unwrap());
        assert_eq!(body, c.to_json());
    }
}
