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
    let mut out = String::with_capacity(32);
    push_hex(&mut out, &h.finalize()[..16]);
    out
}

/// Appends the lowercase hex of `bytes` to `out` (what `hex::encode` gives).
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`), for non-negative counts.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn push_digits(out: &mut String, n: u64, width: u32) {
    let mut div = 10u64.pow(width.saturating_sub(1));
    while div > 0 {
        out.push(char::from(b'0' + ((n / div) % 10) as u8));
        div /= 10;
    }
}

/// Formats Unix nanoseconds as RFC 3339 with milliseconds, UTC.
pub fn rfc3339_millis(unix_nano: u64) -> String {
    // Every u64 of nanoseconds is a date before the year 2555, so four year
    // digits always suffice; the `time` crate formats the same text.
    let secs = unix_nano / 1_000_000_000;
    let millis = (unix_nano % 1_000_000_000) / 1_000_000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    let mut out = String::with_capacity(24);
    push_digits(&mut out, year, 4);
    out.push('-');
    push_digits(&mut out, month, 2);
    out.push('-');
    push_digits(&mut out, day, 2);
    out.push('T');
    push_digits(&mut out, rem / 3600, 2);
    out.push(':');
    push_digits(&mut out, rem / 60 % 60, 2);
    out.push(':');
    push_digits(&mut out, rem % 60, 2);
    out.push('.');
    push_digits(&mut out, millis, 3);
    out.push('Z');
    out
}

/// [`rfc3339_millis`] through the `time` crate (the reference the fast form
/// is tested against).
#[cfg(test)]
fn rfc3339_millis_reference(unix_nano: u64) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_nano))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 time (`event.timestamp`) into Unix nanoseconds.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let text = text.trim();
    match parse_rfc3339_millis_utc(text) {
        Some(n) => u64::try_from(n).ok(),
        None => parse_rfc3339_reference(text),
    }
}

/// The common form Claude Code sends, `YYYY-MM-DDTHH:MM:SS.mmmZ`, parsed
/// without the general parser; `None` for anything else (left to it).
fn parse_rfc3339_millis_utc(text: &str) -> Option<i128> {
    let b: &[u8; 24] = text.as_bytes().try_into().ok()?;
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &c in b.get(range)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let millis = num(20..23)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(millis) * 1_000_000)
}

/// The general RFC 3339 parser (the `time` crate).
fn parse_rfc3339_reference(text: &str) -> Option<u64> {
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
    }

    #[test]
    fn the_fast_time_forms_match_the_time_crate() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut samples = vec![0, 1, 999_999, 1_000_000, u64::MAX, u64::MAX - 1];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(x);
            samples.push(x % 4_102_444_800_000_000_000);
        }
        // Month and year ends, leap days.
        for day in [59u64, 60, 365, 366, 789, 10_956, 11_016, 11_017, 47_541] {
            samples.push(day * 86_400_000_000_000 - 1);
            samples.push(day * 86_400_000_000_000);
        }
        for n in samples {
            let text = rfc3339_millis(n);
            assert_eq!(text, rfc3339_millis_reference(n), "{n}");
            let millis = n - n % 1_000_000;
            assert_eq!(parse_rfc3339(&text), Some(millis), "{text}");
            assert_eq!(parse_rfc3339(&text), parse_rfc3339_reference(&text));
        }
        for text in [
            "2026-02-29T00:00:00.000Z",
            "2024-02-29T00:00:00.000Z",
            "2100-02-29T00:00:00.000Z",
            "2000-02-29T23:59:59.999Z",
            "2026-04-31T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-00-01T00:00:00.000Z",
            "2026-01-00T00:00:00.000Z",
            "2026-01-01T24:00:00.000Z",
            "2026-01-01T23:60:00.000Z",
            "2026-06-30T23:59:60.000Z",
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2554-07-21T23:34:33.709Z",
            "2554-07-21T23:34:33.710Z",
            "2026-11-23t18:31:04.308z",
            "2026-11-23T18:31:04.308+01:00",
            "2026-11-23T18:31:04Z",
            "2026-11-23T18:31:04.3Z",
            " 2026-11-23T18:31:04.308Z ",
            "2026-11-23T18:31:04.3O8Z",
            "+026-11-23T18:31:04.308Z",
        ] {
            assert_eq!(
                parse_rfc3339(text),
                parse_rfc3339_reference(text.trim()),
                "{text}"
            );
        }
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
