//! A generator of protobuf wire bytes for the OTLP export requests, driven
//! by one seed: messages built field by field from each schema, with the
//! irregular parts protobuf allows (unknown fields and groups, repeats,
//! non-canonical varints, packed and unpacked numbers) and, for half the
//! seeds, planted faults (wrong wire types, invalid UTF-8, mismatched group
//! ends, overlong varints, cut packed runs).

#![allow(dead_code)]
#[derive(Clone, Copy, Debug)]
pub enum Kind {
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
pub enum Field {
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

pub fn schema(kind: Kind) -> &'static [(u32, Field)] {
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
pub struct Rng {
    state: u64,
    faults: bool,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
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

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
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

pub fn put_key(out: &mut Vec<u8>, tag: u32, wire: u8) {
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

pub fn message(kind: Kind, rng: &mut Rng, depth: u32) -> Vec<u8> {
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
pub fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
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
