//! One WAL frame's payload: an acknowledged batch or a group of closed
//! prompt chains, in a form that survives a restart.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | format version (`1`) |
//! | 1 | kind: 1 logs, 2 metrics, 3 traces, 4 chains |
//! | 1 | protocol the batch arrived over (0 for chains) |
//! | 8 | received time, Unix nanoseconds (0 for chains) |
//! | 2 | tenant length `n` (`0xFFFF` = no tenant) |
//! | n | tenant, UTF-8 |
//! | … | body: the OTLP export request as protobuf, or the chains as a `repeated PromptChain` field 1 |
//!
//! A batch is stored as the OTLP request its records rebuild exactly (see
//! `cairn_core::record`), already redacted and enriched, so decoding types it
//! again into an equal [`Batch`].

use std::sync::Arc;

use cairn_core::{
    chain::PromptChain,
    otlp::{logs::v1::LogRecord, metrics::v1::Metric, trace::v1::Span},
    record::{Batch, Origin, Record, RecordBody},
    signal::{Protocol, Signal},
};
use prost::{
    Message,
    encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len, message},
};

const VERSION: u8 = 1;
const KIND_CHAINS: u8 = 4;
const NO_TENANT: u16 = u16::MAX;
const HEADER: usize = 1 + 1 + 1 + 8 + 2;

/// What a frame holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// An acknowledged batch.
    Batch(Arc<Batch>),
    /// Closed prompt chains.
    Chains(Arc<Vec<PromptChain>>),
}

/// A payload that is not an entry this version of cairn wrote.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
    /// Shorter than its header says.
    #[error("truncated WAL entry")]
    Truncated,
    /// An unknown version, kind or protocol byte.
    #[error("unknown WAL entry {what} {value}")]
    Unknown {
        /// Which field.
        what: &'static str,
        /// Its value.
        value: u8,
    },
    /// The tenant is not UTF-8.
    #[error("WAL entry tenant is not UTF-8")]
    Tenant,
    /// The body does not decode.
    #[error("WAL entry body: {0}")]
    Body(String),
}

fn signal_kind(signal: Signal) -> u8 {
    match signal {
        Signal::Logs => 1,
        Signal::Metrics => 2,
        Signal::Traces => 3,
    }
}

fn protocol_byte(protocol: Protocol) -> u8 {
    match protocol {
        Protocol::Grpc => 1,
        Protocol::HttpProtobuf => 2,
        Protocol::HttpJson => 3,
    }
}

fn header(out: &mut Vec<u8>, kind: u8, protocol: u8, received: u64, tenant: Option<&str>) {
    out.push(VERSION);
    out.push(kind);
    out.push(protocol);
    out.extend_from_slice(&received.to_le_bytes());
    // Tenants are token labels from config; one longer than the field can
    // say is cut at a character boundary rather than refused.
    match tenant {
        Some(t) => {
            let mut end = t.len().min(usize::from(NO_TENANT - 1));
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            let len = u16::try_from(end).unwrap_or(0);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&t.as_bytes()[..usize::from(len)]);
        }
        None => out.extend_from_slice(&NO_TENANT.to_le_bytes()),
    }
}

/// Appends the entry form of `batch` to `out`.
pub fn encode_batch(batch: &Batch, out: &mut Vec<u8>) {
    let o = &batch.origin;
    header(
        out,
        signal_kind(o.signal),
        protocol_byte(o.protocol),
        o.received_unix_nano,
        o.tenant.as_deref(),
    );
    // The same bytes `batch.to_*_request().encode(..)` would give, written
    // from the records in place: no copy of the records on the writer
    // thread. The three requests share one shape: field 1 repeats
    // Resource{resource = 1, scopes = 2, schema_url = 3}, each scope is
    // Scope{scope = 1, items = 2, schema_url = 3}.
    match o.signal {
        Signal::Logs => encode_grouped(&batch.records, event_log, out),
        Signal::Metrics => encode_grouped(&batch.records, metric, out),
        Signal::Traces => encode_grouped(&batch.records, span, out),
    }
}

fn event_log(r: &Record) -> Option<&LogRecord> {
    match &r.body {
        RecordBody::Event(e) => Some(&e.log),
        _ => None,
    }
}

fn metric(r: &Record) -> Option<&Metric> {
    match &r.body {
        RecordBody::Metric(m) => Some(&m.metric),
        _ => None,
    }
}

fn span(r: &Record) -> Option<&Span> {
    match &r.body {
        RecordBody::Span(s) => Some(&s.span),
        _ => None,
    }
}

/// Length of a length-delimited field of `len` bytes under `tag`.
fn ld_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn ld_head(tag: u32, len: usize, out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(len as u64, out);
}

fn optional_len<M: Message>(m: Option<&M>) -> usize {
    m.map_or(0, |m| message::encoded_len(1, m))
}

fn schema_len(url: &str) -> usize {
    if url.is_empty() {
        0
    } else {
        ld_len(3, url.len())
    }
}

fn put_schema(url: &str, out: &mut Vec<u8>) {
    if !url.is_empty() {
        ld_head(3, url.len(), out);
        out.extend_from_slice(url.as_bytes());
    }
}

/// Writes the export request of the records `pick` selects, grouped into
/// runs of the same resource and scope (records keep them as `Arc`s shared
/// by one request's records, so runs rebuild the request's own grouping).
fn encode_grouped<'a, M: Message + 'a>(
    records: &'a [Record],
    pick: impl Fn(&'a Record) -> Option<&'a M>,
    out: &mut Vec<u8>,
) {
    let items: Vec<(&Record, &M, usize)> = records
        .iter()
        .filter_map(|r| pick(r).map(|m| (r, m, m.encoded_len())))
        .collect();
    // Scope runs: (start, end, encoded length of the Scope message).
    let mut scopes: Vec<(usize, usize, usize)> = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let first = items[start].0;
        let mut end = start + 1;
        while end < items.len()
            && Arc::ptr_eq(&items[end].0.resource, &first.resource)
            && Arc::ptr_eq(&items[end].0.scope, &first.scope)
        {
            end += 1;
        }
        let len = optional_len(first.scope.scope.as_ref())
            + items[start..end]
                .iter()
                .map(|(_, _, n)| ld_len(2, *n))
                .sum::<usize>()
            + schema_len(&first.scope.schema_url);
        scopes.push((start, end, len));
        start = end;
    }
    let mut i = 0;
    while i < scopes.len() {
        let res = &items[scopes[i].0].0.resource;
        let mut j = i + 1;
        while j < scopes.len() && Arc::ptr_eq(&items[scopes[j].0].0.resource, res) {
            j += 1;
        }
        let len = optional_len(res.resource.as_ref())
            + scopes[i..j].iter().map(|s| ld_len(2, s.2)).sum::<usize>()
            + schema_len(&res.schema_url);
        ld_head(1, len, out);
        if let Some(r) = &res.resource {
            message::encode(1, r, out);
        }
        for &(a, b, scope_len) in &scopes[i..j] {
            let scope = &items[a].0.scope;
            ld_head(2, scope_len, out);
            if let Some(s) = &scope.scope {
                message::encode(1, s, out);
            }
            for (_, m, n) in &items[a..b] {
                ld_head(2, *n, out);
                // `encode_raw` writes the fields without measuring them
                // again (`encode` would re-walk the message for its length).
                m.encode_raw(out);
            }
            put_schema(&scope.schema_url, out);
        }
        put_schema(&res.schema_url, out);
        i = j;
    }
}

/// Appends the entry form of `chains` to `out`.
pub fn encode_chains(chains: &[PromptChain], out: &mut Vec<u8>) {
    header(out, KIND_CHAINS, 0, 0, None);
    for chain in chains {
        prost::encoding::message::encode(1, chain, out);
    }
}

/// The chains of an entry body: `repeated PromptChain chains = 1`.
#[derive(Clone, PartialEq, prost::Message)]
struct ChainList {
    #[prost(message, repeated, tag = "1")]
    chains: Vec<PromptChain>,
}

/// Decodes a frame payload written by [`encode_batch`] or [`encode_chains`].
pub fn decode(payload: &[u8]) -> Result<Entry, EntryError> {
    let head = payload.get(..HEADER).ok_or(EntryError::Truncated)?;
    let [version, kind, protocol, rest @ ..] = head else {
        return Err(EntryError::Truncated);
    };
    if *version != VERSION {
        return Err(EntryError::Unknown {
            what: "version",
            value: *version,
        });
    }
    let (received, tenant_len) = rest.split_at(8);
    let received = u64::from_le_bytes(received.try_into().map_err(|_| EntryError::Truncated)?);
    let tenant_len = u16::from_le_bytes(tenant_len.try_into().map_err(|_| EntryError::Truncated)?);
    let (tenant, body) = if tenant_len == NO_TENANT {
        (None, &payload[HEADER..])
    } else {
        let end = HEADER + usize::from(tenant_len);
        let t = payload.get(HEADER..end).ok_or(EntryError::Truncated)?;
        let t = std::str::from_utf8(t).map_err(|_| EntryError::Tenant)?;
        (Some(Arc::<str>::from(t)), &payload[end..])
    };
    fn body_err(e: impl std::fmt::Display) -> EntryError {
        EntryError::Body(e.to_string())
    }
    if *kind == KIND_CHAINS {
        let list = ChainList::decode(body).map_err(body_err)?;
        return Ok(Entry::Chains(Arc::new(list.chains)));
    }
    let protocol = match protocol {
        1 => Protocol::Grpc,
        2 => Protocol::HttpProtobuf,
        3 => Protocol::HttpJson,
        other => {
            return Err(EntryError::Unknown {
                what: "protocol",
                value: *other,
            });
        }
    };
    let origin = |signal| Origin {
        signal,
        protocol,
        tenant: tenant.clone(),
        received_unix_nano: received,
    };
    // Every record was checked when it was received, so nothing is rejected
    // here; a record that somehow were would be logged by the caller's
    // count mismatch, never silently kept.
    let (batch, _rejected) = match kind {
        1 => Batch::from_logs(
            origin(Signal::Logs),
            cairn_otlp_wire::decode_logs(body).map_err(body_err)?,
        ),
        2 => Batch::from_metrics(
            origin(Signal::Metrics),
            cairn_otlp_wire::decode_metrics(body).map_err(body_err)?,
        ),
        3 => Batch::from_traces(
            origin(Signal::Traces),
            cairn_otlp_wire::decode_traces(body).map_err(body_err)?,
        ),
        other => {
            return Err(EntryError::Unknown {
                what: "kind",
                value: *other,
            });
        }
    };
    Ok(Entry::Batch(Arc::new(batch)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn roundtrip(batch: &Batch) -> Batch {
        let mut buf = Vec::new();
        encode_batch(batch, &mut buf);
        match decode(&buf).unwrap() {
            Entry::Batch(b) => Arc::unwrap_or_clone(b),
            Entry::Chains(_) => panic!("a batch decoded as chains"),
        }
    }

    #[test]
    fn every_fixture_batch_survives_the_log_unchanged() {
        let mut seen = 0;
        for payload in cairn_testkit::fixtures::payloads() {
            if payload.is_grpc_frame() {
                continue;
            }
            let Some(mut batch) = payload.batch(Some("team-ü")) else {
                continue;
            };
            batch.origin.received_unix_nano = 1_700_000_000_123_456_789;
            assert_eq!(roundtrip(&batch), batch, "{}", payload.path);
            seen += batch.records.len();
        }
        assert!(seen > 50, "only {seen} records");
    }

    #[test]
    fn the_body_is_byte_for_byte_the_request_prost_writes() {
        for payload in cairn_testkit::fixtures::payloads() {
            let Some(batch) = payload.batch(None).filter(|_| !payload.is_grpc_frame()) else {
                continue;
            };
            let mut buf = Vec::new();
            encode_batch(&batch, &mut buf);
            let want = match batch.origin.signal {
                Signal::Logs => batch.to_logs_request().encode_to_vec(),
                Signal::Metrics => batch.to_metrics_request().encode_to_vec(),
                Signal::Traces => batch.to_traces_request().encode_to_vec(),
            };
            assert_eq!(&buf[HEADER..], &want[..], "{}", payload.path);
        }
    }

    #[test]
    fn chains_survive_the_log_unchanged() {
        let chain = PromptChain {
            chain_id: "c1".into(),
            prompt_id: "p1".into(),
            ..Default::default()
        };
        let chains = vec![chain.clone(), PromptChain::default(), chain];
        let mut buf = Vec::new();
        encode_chains(&chains, &mut buf);
        assert_eq!(decode(&buf).unwrap(), Entry::Chains(Arc::new(chains)));
    }

    #[test]
    fn damaged_payloads_are_errors_not_panics() {
        let batch = cairn_testkit::fixtures::scenario_batches("http-protobuf")
            .into_iter()
            .next()
            .unwrap();
        let mut buf = Vec::new();
        encode_batch(&batch, &mut buf);
        for cut in 0..HEADER {
            assert_eq!(decode(&buf[..cut]), Err(EntryError::Truncated));
        }
        let mut bad = buf.clone();
        bad[0] = 9;
        assert!(matches!(decode(&bad), Err(EntryError::Unknown { .. })));
        let mut bad = buf.clone();
        bad[1] = 7;
        assert!(matches!(decode(&bad), Err(EntryError::Unknown { .. })));
        // A body cut mid-message does not decode.
        assert!(matches!(
            decode(&buf[..buf.len() - 3]),
            Err(EntryError::Body(_))
        ));
        // Any byte string at all: an error or an entry, never a panic.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..400 {
            let junk: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            let _ = decode(&junk);
        }
    }
}
