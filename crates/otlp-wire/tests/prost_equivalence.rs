//! The decoder against prost itself: for every input, both fail or both give
//! the same request (compared through prost's encoding, so NaN doubles
//! compare by bits).
//!
//! Inputs are (1) the real Claude Code captures, (2) wire-level messages
//! generated from the logs, traces and metrics schemas with the irregular
//! parts protobuf allows: unknown fields and groups, repeated singular
//! fields, repeated oneof variants, non-canonical varints, packed and
//! unpacked numbers, wrong wire types and invalid UTF-8, each also
//! truncated, bit-flipped and spliced, and (3) the depth limit, where both
//! must start failing at the same nesting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_otlp_wire::{decode_logs, decode_metrics, decode_traces};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use proptest::prelude::*;
use prost::Message;

/// Both decoders' verdicts on a logs request, as the prost encoding of the
/// result.
fn both(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let theirs = ExportLogsServiceRequest::decode(bytes)
        .ok()
        .map(|r| r.encode_to_vec());
    let ours = decode_logs(bytes).ok().map(|r| r.encode_to_vec());
    (theirs, ours)
}

/// The same for a traces request.
fn both_traces(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let theirs = ExportTraceServiceRequest::decode(bytes)
        .ok()
        .map(|r| r.encode_to_vec());
    let ours = decode_traces(bytes).ok().map(|r| r.encode_to_vec());
    (theirs, ours)
}

/// The same for a metrics request.
fn both_metrics(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let theirs = ExportMetricsServiceRequest::decode(bytes)
        .ok()
        .map(|r| r.encode_to_vec());
    let ours = decode_metrics(bytes).ok().map(|r| r.encode_to_vec());
    (theirs, ours)
}

/// Both verdicts for a request of `kind` (logs, traces or metrics).
fn both_of(kind: Kind, bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    match kind {
        Kind::TraceRequest => both_traces(bytes),
        Kind::MetricsRequest => both_metrics(bytes),
        _ => both(bytes),
    }
}

#[test]
fn every_captured_body_decodes_as_prost_decodes_it() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");
    let (mut seen, mut seen_traces, mut seen_metrics) = (0, 0, 0);
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.starts_with("logs") && name.ends_with(".pb") {
                let bytes = std::fs::read(&path).unwrap();
                let theirs = ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap();
                let ours = decode_logs(&bytes).unwrap();
                assert_eq!(ours, theirs, "{}", path.display());
                assert!(!ours.resource_logs.is_empty(), "{}", path.display());
                seen += 1;
            } else if name.starts_with("metrics") && name.ends_with(".pb") {
                let bytes = std::fs::read(&path).unwrap();
                let theirs = ExportMetricsServiceRequest::decode(bytes.as_slice()).unwrap();
                let ours = decode_metrics(&bytes).unwrap();
                // Compared through the encoding: NaN points compare by bits.
                assert_eq!(
                    ours.encode_to_vec(),
                    theirs.encode_to_vec(),
                    "{}",
                    path.display()
                );
                assert!(!ours.resource_metrics.is_empty(), "{}", path.display());
                seen_metrics += 1;
            } else if name.starts_with("traces") && name.ends_with(".pb") {
                let bytes = std::fs::read(&path).unwrap();
                let theirs = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
                let ours = decode_traces(&bytes).unwrap();
                assert_eq!(ours, theirs, "{}", path.display());
                assert!(!ours.resource_spans.is_empty(), "{}", path.display());
                seen_traces += 1;
            }
        }
    }
    assert!(seen >= 5, "only {seen} captured logs bodies found");
    assert!(seen_traces >= 1, "no captured traces body found");
    assert!(seen_metrics >= 1, "no captured metrics body found");
}

// ---- wire-level generator ------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Kind {
    Request,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
    Resource,
    Scope,
    EntityRef,
    KeyValue,
    AnyValue,
    Array,
    KvList,
    TraceRequest,
    ResourceSpans,
    ScopeSpans,
    Span,
    SpanEvent,
    Link,
    Status,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    Gauge,
    Sum,
    Histogram,
    ExpHistogram,
    Summary,
    NumberPoint,
    HistogramPoint,
    ExpPoint,
    Buckets,
    SummaryPoint,
    Quantile,
    Exemplar,
}

#[derive(Clone, Copy, Debug)]
enum Field {
    Varint,
    Fixed64,
    Fixed32,
    Str,
    Bytes,
    Msg(Kind),
    /// A repeated `fixed64`/`double`: packed or one value at a time.
    Many64,
    /// A repeated `uint64`: packed or one value at a time.
    ManyVarint,
}

fn schema(kind: Kind) -> &'static [(u32, Field)] {
    use Field::*;
    match kind {
        Kind::Request => &[(1, Msg(Kind::ResourceLogs))],
        Kind::ResourceLogs => &[
            (1, Msg(Kind::Resource)),
            (2, Msg(Kind::ScopeLogs)),
            (3, Str),
        ],
        Kind::ScopeLogs => &[(1, Msg(Kind::Scope)), (2, Msg(Kind::LogRecord)), (3, Str)],
        Kind::LogRecord => &[
            (1, Fixed64),
            (2, Varint),
            (3, Str),
            (5, Msg(Kind::AnyValue)),
            (6, Msg(Kind::KeyValue)),
            (7, Varint),
            (8, Fixed32),
            (9, Bytes),
            (10, Bytes),
            (11, Fixed64),
            (12, Str),
        ],
        Kind::Resource => &[
            (1, Msg(Kind::KeyValue)),
            (2, Varint),
            (3, Msg(Kind::EntityRef)),
        ],
        Kind::Scope => &[(1, Str), (2, Str), (3, Msg(Kind::KeyValue)), (4, Varint)],
        Kind::EntityRef => &[(1, Str), (2, Str), (3, Str), (4, Str)],
        Kind::KeyValue => &[(1, Str), (2, Msg(Kind::AnyValue)), (3, Varint)],
        Kind::AnyValue => &[
            (1, Str),
            (2, Varint),
            (3, Varint),
            (4, Fixed64),
            (5, Msg(Kind::Array)),
            (6, Msg(Kind::KvList)),
            (7, Bytes),
            (8, Varint),
        ],
        Kind::Array => &[(1, Msg(Kind::AnyValue))],
        Kind::KvList => &[(1, Msg(Kind::KeyValue))],
        Kind::TraceRequest => &[(1, Msg(Kind::ResourceSpans))],
        Kind::ResourceSpans => &[
            (1, Msg(Kind::Resource)),
            (2, Msg(Kind::ScopeSpans)),
            (3, Str),
        ],
        Kind::ScopeSpans => &[(1, Msg(Kind::Scope)), (2, Msg(Kind::Span)), (3, Str)],
        Kind::Span => &[
            (1, Bytes),
            (2, Bytes),
            (3, Str),
            (4, Bytes),
            (5, Str),
            (6, Varint),
            (7, Fixed64),
            (8, Fixed64),
            (9, Msg(Kind::KeyValue)),
            (10, Varint),
            (11, Msg(Kind::SpanEvent)),
            (12, Varint),
            (13, Msg(Kind::Link)),
            (14, Varint),
            (15, Msg(Kind::Status)),
            (16, Fixed32),
        ],
        Kind::SpanEvent => &[
            (1, Fixed64),
            (2, Str),
            (3, Msg(Kind::KeyValue)),
            (4, Varint),
        ],
        Kind::Link => &[
            (1, Bytes),
            (2, Bytes),
            (3, Str),
            (4, Msg(Kind::KeyValue)),
            (5, Varint),
            (6, Fixed32),
        ],
        Kind::Status => &[(2, Str), (3, Varint)],
        Kind::MetricsRequest => &[(1, Msg(Kind::ResourceMetrics))],
        Kind::ResourceMetrics => &[
            (1, Msg(Kind::Resource)),
            (2, Msg(Kind::ScopeMetrics)),
            (3, Str),
        ],
        Kind::ScopeMetrics => &[(1, Msg(Kind::Scope)), (2, Msg(Kind::Metric)), (3, Str)],
        Kind::Metric => &[
            (1, Str),
            (2, Str),
            (3, Str),
            (5, Msg(Kind::Gauge)),
            (7, Msg(Kind::Sum)),
            (9, Msg(Kind::Histogram)),
            (10, Msg(Kind::ExpHistogram)),
            (11, Msg(Kind::Summary)),
            (12, Msg(Kind::KeyValue)),
        ],
        Kind::Gauge => &[(1, Msg(Kind::NumberPoint))],
        Kind::Sum => &[(1, Msg(Kind::NumberPoint)), (2, Varint), (3, Varint)],
        Kind::Histogram => &[(1, Msg(Kind::HistogramPoint)), (2, Varint)],
        Kind::ExpHistogram => &[(1, Msg(Kind::ExpPoint)), (2, Varint)],
        Kind::Summary => &[(1, Msg(Kind::SummaryPoint))],
        Kind::NumberPoint => &[
            (2, Fixed64),
            (3, Fixed64),
            (4, Fixed64),
            (5, Msg(Kind::Exemplar)),
            (6, Fixed64),
            (7, Msg(Kind::KeyValue)),
            (8, Varint),
        ],
        Kind::HistogramPoint => &[
            (2, Fixed64),
            (3, Fixed64),
            (4, Fixed64),
            (5, Fixed64),
            (6, Many64),
            (7, Many64),
            (8, Msg(Kind::Exemplar)),
            (9, Msg(Kind::KeyValue)),
            (10, Varint),
            (11, Fixed64),
            (12, Fixed64),
        ],
        Kind::ExpPoint => &[
            (1, Msg(Kind::KeyValue)),
            (2, Fixed64),
            (3, Fixed64),
            (4, Fixed64),
            (5, Fixed64),
            (6, Varint),
            (7, Fixed64),
            (8, Msg(Kind::Buckets)),
            (9, Msg(Kind::Buckets)),
            (10, Varint),
            (11, Msg(Kind::Exemplar)),
            (12, Fixed64),
            (13, Fixed64),
            (14, Fixed64),
        ],
        Kind::Buckets => &[(1, Varint), (2, ManyVarint)],
        Kind::SummaryPoint => &[
            (2, Fixed64),
            (3, Fixed64),
            (4, Fixed64),
            (5, Fixed64),
            (6, Msg(Kind::Quantile)),
            (7, Msg(Kind::KeyValue)),
            (8, Varint),
        ],
        Kind::Quantile => &[(1, Fixed64), (2, Fixed64)],
        Kind::Exemplar => &[
            (2, Fixed64),
            (3, Fixed64),
            (4, Bytes),
            (5, Bytes),
            (6, Fixed64),
            (7, Msg(Kind::KeyValue)),
        ],
    }
}

/// xorshift64*: the generator is driven by one proptest seed. Half the
/// seeds also plant faults (wrong wire types, invalid UTF-8, mismatched
/// group ends); the other half only use what protobuf allows.
struct Rng {
    state: u64,
    faults: bool,
}

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut rng = Rng {
            state: seed | 1,
            faults: false,
        };
        rng.faults = rng.chance(50);
        rng
    }
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn fault(&mut self, percent: u64) -> bool {
        self.faults && self.chance(percent)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint, sometimes padded to a non-canonical length (still valid).
fn put_loose_varint(out: &mut Vec<u8>, v: u64, rng: &mut Rng) {
    if rng.fault(3) {
        // Ten bytes whose last may overflow 64 bits (valid only if it is 0
        // or 1), or eleven.
        for _ in 0..9 + rng.below(2) {
            out.push(0x80 | rng.next() as u8);
        }
        out.push(rng.below(4) as u8);
    } else if rng.chance(5) && v < (1 << 35) {
        let mut v = v;
        for _ in 0..5 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    } else {
        put_varint(out, v);
    }
}

fn put_key(out: &mut Vec<u8>, tag: u32, wire: u8) {
    put_varint(out, (u64::from(tag) << 3) | u64::from(wire));
}

fn random_u64(rng: &mut Rng) -> u64 {
    match rng.below(4) {
        0 => rng.below(128),
        1 => rng.below(1 << 20),
        2 => u64::MAX - rng.below(4),
        _ => rng.next(),
    }
}

fn random_text(rng: &mut Rng) -> Vec<u8> {
    const PIECES: [&str; 8] = [
        "a",
        "event.name",
        "é",
        "日本",
        "🦀",
        " ",
        "\"\\",
        "user_prompt",
    ];
    let mut s = Vec::new();
    for _ in 0..rng.below(6) {
        s.extend_from_slice(PIECES[rng.below(8) as usize].as_bytes());
    }
    if rng.fault(3) {
        // Invalid UTF-8: a lone continuation byte or a truncated sequence.
        s.push(if rng.chance(50) { 0x80 } else { 0xe6 });
    }
    s
}

fn put_len(out: &mut Vec<u8>, body: &[u8], rng: &mut Rng) {
    put_loose_varint(out, body.len() as u64, rng);
    out.extend_from_slice(body);
}

/// An unknown field of any wire type, groups with nested content included.
fn put_unknown(out: &mut Vec<u8>, rng: &mut Rng, depth: u32) {
    let tag = 17 + rng.below(6) as u32;
    let wire = [0u8, 1, 2, 3, 5][rng.below(5) as usize];
    put_key(out, tag, wire);
    match wire {
        0 => put_varint(out, random_u64(rng)),
        1 => out.extend_from_slice(&rng.next().to_le_bytes()),
        2 => {
            let body = random_text(rng);
            put_len(out, &body, rng);
        }
        3 => {
            if depth < 4 {
                for _ in 0..rng.below(3) {
                    put_unknown(out, rng, depth + 1);
                }
            }
            // Mostly the matching end, sometimes another group's.
            let end = if rng.fault(5) { tag + 1 } else { tag };
            put_key(out, end, 4);
        }
        _ => out.extend_from_slice(&(rng.next() as u32).to_le_bytes()),
    }
}

fn put_field(out: &mut Vec<u8>, tag: u32, field: Field, rng: &mut Rng, depth: u32) {
    if rng.fault(2) {
        // A known field under a wrong wire type, with a payload that the
        // field's own wire type would read cleanly: only the wire-type check
        // tells them apart.
        match field {
            Field::Varint => {
                put_key(out, tag, 2);
                out.push(0);
            }
            Field::Fixed64 | Field::Many64 => {
                put_key(out, tag, 0);
                out.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
            }
            Field::ManyVarint => {
                put_key(out, tag, 5);
                out.extend_from_slice(&[0x80, 0x80, 0x80, 0x00]);
            }
            Field::Fixed32 => {
                put_key(out, tag, 0);
                out.extend_from_slice(&[0x80, 0x80, 0x80, 0x01]);
            }
            Field::Str | Field::Bytes | Field::Msg(_) => {
                put_key(out, tag, 0);
                out.push(0);
            }
        }
        return;
    }
    match field {
        Field::Varint => {
            put_key(out, tag, 0);
            let v = random_u64(rng);
            put_loose_varint(out, v, rng);
        }
        Field::Fixed64 => {
            put_key(out, tag, 1);
            let v = if rng.chance(10) {
                f64::NAN.to_bits() ^ rng.below(8)
            } else {
                random_u64(rng)
            };
            out.extend_from_slice(&v.to_le_bytes());
        }
        Field::Fixed32 => {
            put_key(out, tag, 5);
            out.extend_from_slice(&(random_u64(rng) as u32).to_le_bytes());
        }
        Field::Str => {
            put_key(out, tag, 2);
            let s = random_text(rng);
            put_len(out, &s, rng);
        }
        Field::Bytes => {
            put_key(out, tag, 2);
            let b: Vec<u8> = (0..rng.below(17)).map(|_| rng.next() as u8).collect();
            put_len(out, &b, rng);
        }
        Field::Msg(kind) => {
            put_key(out, tag, 2);
            let body = message(kind, rng, depth + 1);
            put_len(out, &body, rng);
        }
        Field::Many64 if rng.chance(50) => {
            put_key(out, tag, 2);
            let mut packed = Vec::new();
            for _ in 0..rng.below(5) {
                packed.extend_from_slice(&random_u64(rng).to_le_bytes());
            }
            if rng.fault(10) {
                // A run that is not a whole number of values.
                packed.extend_from_slice(&[1, 2, 3]);
            }
            put_len(out, &packed, rng);
        }
        Field::Many64 => {
            put_key(out, tag, 1);
            out.extend_from_slice(&random_u64(rng).to_le_bytes());
        }
        Field::ManyVarint if rng.chance(50) => {
            put_key(out, tag, 2);
            let mut packed = Vec::new();
            for _ in 0..rng.below(5) {
                put_varint(&mut packed, random_u64(rng));
            }
            if rng.fault(10) {
                // A last value cut short.
                packed.push(0x80);
            }
            put_len(out, &packed, rng);
        }
        Field::ManyVarint => {
            put_key(out, tag, 0);
            put_varint(out, random_u64(rng));
        }
    }
}

fn message(kind: Kind, rng: &mut Rng, depth: u32) -> Vec<u8> {
    let fields = schema(kind);
    let max = match depth {
        0..=1 => 4,
        2..=4 => 6,
        5..=7 => 3,
        _ => 0,
    };
    let mut out = Vec::new();
    for _ in 0..rng.below(max + 1) {
        if rng.chance(5) {
            put_unknown(&mut out, rng, 0);
        } else {
            let (tag, field) = fields[rng.below(fields.len() as u64) as usize];
            put_field(&mut out, tag, field, rng, depth);
        }
    }
    out
}

/// The same bytes damaged one way, chosen by the seed.
fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    if b.is_empty() {
        return vec![rng.next() as u8];
    }
    let at = rng.below(b.len() as u64) as usize;
    match rng.below(4) {
        0 => b.truncate(at),
        1 => b[at] ^= 1 << rng.below(8),
        2 => b[at] = rng.next() as u8,
        _ => b.insert(at, rng.next() as u8),
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

    #[test]
    fn generated_and_damaged_messages_decode_as_prost_decodes_them(
        seed in any::<u64>(),
        signal in 0..3u8,
    ) {
        let kind = [Kind::Request, Kind::TraceRequest, Kind::MetricsRequest][usize::from(signal)];
        let mut rng = Rng::new(seed);
        let body = message(kind, &mut rng, 0);
        let (theirs, ours) = both_of(kind, &body);
        prop_assert_eq!(&ours, &theirs, "generated {:?} body {:02x?}", kind, body);
        for _ in 0..4 {
            let damaged = mutate(&body, &mut rng);
            let (theirs, ours) = both_of(kind, &damaged);
            prop_assert_eq!(&ours, &theirs, "damaged {:?} body {:02x?}", kind, damaged);
        }
    }

    #[test]
    fn arbitrary_bytes_decode_as_prost_decodes_them(
        bytes in proptest::collection::vec(any::<u8>(), 0..64)
    ) {
        let (theirs, ours) = both(&bytes);
        prop_assert_eq!(ours, theirs);
        let (theirs, ours) = both_traces(&bytes);
        prop_assert_eq!(ours, theirs);
        let (theirs, ours) = both_metrics(&bytes);
        prop_assert_eq!(ours, theirs);
    }
}

/// The generator is worth something only if it reaches both outcomes.
#[test]
fn the_generator_produces_both_valid_and_invalid_bodies() {
    let (mut ok, mut err, mut records) = (0, 0, 0);
    let (mut span_ok, mut spans) = (0, 0);
    let (mut metric_ok, mut points) = (0, 0);
    for seed in 1..2000u64 {
        let body = message(Kind::MetricsRequest, &mut Rng::new(seed), 0);
        if let Ok(r) = ExportMetricsServiceRequest::decode(body.as_slice()) {
            metric_ok += 1;
            points += r
                .resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .flat_map(|sm| &sm.metrics)
                .filter(|m| m.data.is_some())
                .count();
        }
        let body = message(Kind::TraceRequest, &mut Rng::new(seed), 0);
        if let Ok(r) = ExportTraceServiceRequest::decode(body.as_slice()) {
            span_ok += 1;
            spans += r
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len())
                .sum::<usize>();
        }
        let body = message(Kind::Request, &mut Rng::new(seed), 0);
        match ExportLogsServiceRequest::decode(body.as_slice()) {
            Ok(r) => {
                ok += 1;
                records += r
                    .resource_logs
                    .iter()
                    .flat_map(|rl| &rl.scope_logs)
                    .map(|sl| sl.log_records.len())
                    .sum::<usize>();
            }
            Err(_) => err += 1,
        }
    }
    assert!(ok > 200 && err > 200, "ok {ok}, err {err}");
    assert!(records > 500, "only {records} log records in valid bodies");
    assert!(
        span_ok > 200 && span_ok < 1800,
        "{span_ok} valid traces bodies"
    );
    assert!(spans > 500, "only {spans} spans in valid traces bodies");
    assert!(
        metric_ok > 200 && metric_ok < 1800,
        "{metric_ok} valid metrics bodies"
    );
    assert!(
        points > 300,
        "only {points} metrics with data in valid bodies"
    );
}

// ---- depth ----------------------------------------------------------------

/// A request whose one log record's body is `depth` arrays deep.
fn nested(depth: usize) -> Vec<u8> {
    let mut v = AnyValue {
        value: Some(Value::StringValue("leaf".into())),
    };
    for _ in 0..depth {
        v = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
        };
    }
    request_with_body(v)
}

/// A body of `arrays` arrays around `lists` key-value lists around a
/// scalar: each list puts a `KeyValue` one level deeper, and the arrays
/// shift where the innermost one falls against the limit.
fn nested_lists(lists: usize, arrays: usize, leaf: Value) -> Vec<u8> {
    let mut v = AnyValue { value: Some(leaf) };
    for _ in 0..lists {
        v = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![KeyValue {
                    key: "k".into(),
                    value: Some(v),
                    key_strindex: 0,
                }],
            })),
        };
    }
    for _ in 0..arrays {
        v = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
        };
    }
    request_with_body(v)
}

fn request_with_body(v: AnyValue) -> Vec<u8> {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(v),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn nesting_fails_at_the_same_depth_as_prost() {
    let mut outcomes = Vec::new();
    for depth in 40..56 {
        let body = nested(depth);
        let (theirs, ours) = both(&body);
        assert_eq!(ours, theirs, "depth {depth}");
        outcomes.push(theirs.is_some());
    }
    // The range straddles the limit: the shallow ones decode, the deep fail.
    assert!(outcomes.first() == Some(&true) && outcomes.last() == Some(&false));
}

#[test]
fn key_values_at_the_depth_limit_fail_as_in_prost() {
    // Every alignment of the innermost `KeyValue` against the limit, with
    // each scalar a value can hold.
    let leaves = [
        Value::StringValue("v".into()),
        Value::IntValue(7),
        Value::BoolValue(true),
        Value::DoubleValue(0.5),
    ];
    let (mut ok, mut err) = (0, 0);
    for leaf in leaves {
        for arrays in 0..3 {
            for lists in 28..36 {
                let body = nested_lists(lists, arrays, leaf.clone());
                let (theirs, ours) = both(&body);
                assert_eq!(ours, theirs, "{lists} lists, {arrays} arrays");
                if theirs.is_some() { ok += 1 } else { err += 1 }
            }
        }
    }
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

#[test]
fn deep_unknown_groups_fail_at_the_same_depth_as_prost() {
    let mut outcomes = Vec::new();
    for depth in 95..104 {
        let mut body = Vec::new();
        for _ in 0..depth {
            put_key(&mut body, 15, 3);
        }
        for _ in 0..depth {
            put_key(&mut body, 15, 4);
        }
        let (theirs, ours) = both(&body);
        assert_eq!(ours, theirs, "depth {depth}");
        outcomes.push(theirs.is_some());
    }
    assert!(outcomes.first() == Some(&true) && outcomes.last() == Some(&false));
}

#[test]
fn a_ten_thousand_deep_body_is_an_error_not_a_stack_overflow() {
    let mut body = Vec::new();
    for _ in 0..10_000 {
        put_key(&mut body, 1, 3);
    }
    assert!(decode_logs(&body).is_err());
    // Arrays 10,000 deep in a log record's body, built as bytes: a value
    // that deep could not even be dropped without overflowing the stack.
    let mut value = vec![0x0a, 0x01, b'x'];
    for _ in 0..10_000 {
        let mut array = Vec::new();
        put_key(&mut array, 1, 2);
        put_varint(&mut array, value.len() as u64);
        array.extend_from_slice(&value);
        value.clear();
        put_key(&mut value, 5, 2);
        put_varint(&mut value, array.len() as u64);
        value.extend_from_slice(&array);
    }
    let mut body = Vec::new();
    for tag in [5, 2, 2, 1] {
        // body of LogRecord, log_records, scope_logs, resource_logs
        let mut outer = Vec::new();
        put_key(&mut outer, tag, 2);
        put_varint(&mut outer, value.len() as u64);
        outer.extend_from_slice(&value);
        value = outer;
    }
    body.extend_from_slice(&value);
    assert!(ExportLogsServiceRequest::decode(body.as_slice()).is_err());
    assert!(decode_logs(&body).is_err());
}
