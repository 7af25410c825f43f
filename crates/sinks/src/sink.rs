//! The interface every destination implements, and what the driver hands it.
//!
//! A sink does two things: it encodes records into its wire unit (one
//! [`Encoded`] per record, or per request for OTLP) and it sends a batch of
//! those units in one request, answering with a [`Report`] or a typed
//! [`SinkError`]. Everything else (batching, concurrency, retries with
//! backoff, splitting on "too large", dead letters, counters) is the
//! driver's, shared by all sinks.

use std::{cell::RefCell, future::Future, time::Duration};

use cairn_core::{
    chain::PromptChain,
    record::{Batch, Origin, Record},
    render::SharedJson,
};

use crate::{
    detail::Detail, driver::BatchLimits, driver::SinkError, item::AuditItem, route::Route,
};

thread_local! {
    /// Where a record's protobuf is written while its id is hashed, kept
    /// per encoding thread so its allocation is reused.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`Sink::encode_record`], the members shared with the other records of
/// its batch from `shared`.
fn encode_one<S: Sink + ?Sized>(
    sink: &S,
    record: &Record,
    origin: &Origin,
    shared: Option<&RefCell<SharedJson>>,
) -> Result<Encoded, EncodeError> {
    let (item, proto_len) = SCRATCH.with_borrow_mut(|scratch| {
        let item = AuditItem::without_detail(record, origin, scratch);
        (item, scratch.len())
    });
    // The record's JSON in an envelope takes about four times its
    // protobuf: one allocation rather than a doubling series.
    let mut buf = Vec::with_capacity(proto_len.saturating_mul(4).max(1024));
    let detail = Detail::Record {
        record,
        origin,
        shared,
    };
    sink.encode_with(&item, detail, &mut buf)?;
    Ok(Encoded::one(buf))
}

/// One encoded unit: a record (or, for OTLP, one request's records) in the
/// sink's wire form, ready to be joined into a request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The wire bytes of this unit (a JSON line, an NDJSON pair, a protobuf
    /// message, a syslog message, …).
    pub bytes: Vec<u8>,
    /// How many records the unit holds (1 except for OTLP requests).
    pub records: u32,
    /// Which request stream it belongs to; units of different lanes never
    /// share a request (OTLP: logs, metrics, traces). 0 for most sinks.
    pub lane: u8,
}

impl Encoded {
    /// One record's unit on lane 0.
    pub fn one(bytes: Vec<u8>) -> Encoded {
        Encoded {
            bytes,
            records: 1,
            lane: 0,
        }
    }
}

/// What happened to a batch that got an answer. Units not named here were
/// delivered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Indices (into the batch sent) to send again later, alone.
    pub retry: Vec<usize>,
    /// Indices refused for good, each with the reason (dead-lettered).
    pub rejected: Vec<(usize, String)>,
    /// Records the server refused without saying which (OTLP partial
    /// success): counted and dead-lettered as a count, never resent.
    pub rejected_unattributed: Option<(u64, String)>,
    /// Units the server already had (Elastic `409` on `create`): delivered.
    pub duplicates: u64,
    /// The server's hint for the next attempt at `retry`.
    pub retry_after: Option<Duration>,
}

impl Report {
    /// Everything delivered.
    pub fn delivered() -> Report {
        Report::default()
    }
}

/// Why a record could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("encoding failed: {0}")]
pub struct EncodeError(pub String);

/// A destination for records.
pub trait Sink: Send + Sync + 'static {
    /// The batch limits of this destination (its documented request caps).
    fn limits(&self) -> BatchLimits;

    /// How many lanes [`Encoded::lane`] may use (1 for most sinks).
    fn lanes(&self) -> u8 {
        1
    }

    /// Encodes one record for a SIEM-style sink, its detail from
    /// `item.detail`.
    fn encode_item(&self, item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_with(item, Detail::Tree(&item.detail), out)
    }

    /// Encodes `item` with its detail taken from `detail` rather than from
    /// `item.detail` (which is `Null` when `detail` is a record): the SIEM
    /// sinks write a record's JSON straight into `out`.
    fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError>;

    /// Encodes the records of a batch that `route` accepts. The default
    /// builds an [`AuditItem`] per record; OTLP overrides it to keep the
    /// request's resource grouping.
    fn encode_batch(
        &self,
        batch: &Batch,
        route: &Route,
        out: &mut Vec<Result<Encoded, EncodeError>>,
    ) {
        // The batch's records share their origin and a few resources and
        // scopes: their JSON is rendered once.
        let shared = RefCell::new(SharedJson::default());
        for record in batch
            .records
            .iter()
            .filter(|r| route.accepts_record(r, &batch.origin))
        {
            out.push(encode_one(self, record, &batch.origin, Some(&shared)));
        }
    }

    /// Encodes one record through its [`AuditItem`], the detail written
    /// from the record itself (no tree).
    fn encode_record(&self, record: &Record, origin: &Origin) -> Result<Encoded, EncodeError> {
        encode_one(self, record, origin, None)
    }

    /// Encodes one prompt chain (the caller has applied the route).
    fn encode_chain(&self, chain: &PromptChain) -> Result<Encoded, EncodeError> {
        let mut buf = Vec::new();
        self.encode_item(&AuditItem::from_chain(chain), &mut buf)?;
        Ok(Encoded::one(buf))
    }

    /// Sends one batch (all units share a lane) as one request.
    fn send(&self, batch: &[Encoded]) -> impl Future<Output = Result<Report, SinkError>> + Send;
}
