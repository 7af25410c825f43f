//! AuditItem → one HEC `/event` envelope (contract §2): epoch-seconds `time`
//! with a millisecond fraction, `host`/`source`/`sourcetype`/`index`
//! metadata, an `event` object with Splunk CIM field names plus the full
//! record as `detail`, and `fields`, the flat string map HEC indexes.
//!
//! Each envelope is written followed by a newline, so a request body is the
//! units concatenated (HEC wants envelopes back to back, no array).

use std::{cmp::Ordering, iter::Peekable};

use cairn_core::json::Object;

use super::config::Config;
use crate::{
    cim::{self, session_host},
    detail::Detail,
    item::AuditItem,
    sink::EncodeError,
};

/// Epoch seconds with exactly the millisecond fraction: the f64 nearest to
/// `ms / 1000` prints back as that decimal (13 significant digits fit).
fn epoch_seconds(item: &AuditItem) -> Option<f64> {
    let ms = item.unix_millis();
    (ms > 0).then(|| ms as f64 / 1000.0)
}

/// Writes `item`'s envelope and a newline to `out`.
pub fn envelope(config: &Config, item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    envelope_with(config, item, Detail::Tree(&item.detail), out)
}

/// Writes `item`'s envelope, its detail from `detail`, and a newline.
///
/// Members in a fixed order: `time` (epoch seconds with a millisecond
/// fraction; absent: HEC uses receipt time), `host`, `source`,
/// `sourcetype`, `index`, the CIM-named `event` object (the names shared
/// with Sumo, then HEC's `signature`, `result`, `status`, `object`,
/// `object_category`) and `fields`, sorted by name.
pub fn envelope_with(
    config: &Config,
    item: &AuditItem,
    detail: Detail<'_>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let kind = item.kind.as_str();
    let outcome = item.outcome.as_str();
    let mut env = Object::open(out);
    if let Some(time) = epoch_seconds(item) {
        env.f64("time", time);
    }
    env.opt_str("host", config.host.as_deref().or(session_host(item)));
    env.str("source", &config.source);
    env.str("sourcetype", config.sourcetypes.of(item.kind));
    env.opt_str("index", config.index.as_deref());
    let mut event = Object::open(env.key("event"));
    cim::write_fields(&mut event, item, detail);
    event.str("signature", &item.name);
    event.str("result", outcome);
    event.str("status", outcome);
    event.opt_str("object", item.tool.as_deref());
    event.opt_str("object_category", item.tool.as_ref().map(|_| "tool"));
    event.close();
    let mut f = Object::open(env.key("fields"));
    write_fields(&mut f, config, item, kind);
    f.close();
    env.close();
    out.push(b'\n');
    Ok(())
}

/// `v` when present and not empty.
fn some(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.is_empty())
}

/// Writes `fields`: the configured fields and the record's own, merged in
/// name order (both are sorted); the record's win over configured ones of
/// the same name, and empty or absent ones are left out.
fn write_fields(f: &mut Object<'_>, config: &Config, item: &AuditItem, kind: &str) {
    // In name order.
    let own = [
        ("cost_center", some(&item.cost_center)),
        ("organization_id", some(&item.organization_id)),
        ("prompt_id", some(&item.prompt_id)),
        ("record_id", Some(item.record_id.as_str())),
        ("record_kind", Some(kind)),
        ("session_id", some(&item.session_id)),
        ("tenant", some(&item.tenant)),
    ];
    let mut own = own
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .peekable();
    let mut configured: Peekable<_> = config
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .peekable();
    loop {
        let next = match (own.peek(), configured.peek()) {
            (Some(o), Some(c)) => match o.0.cmp(c.0) {
                Ordering::Less => own.next(),
                Ordering::Equal => {
                    configured.next();
                    own.next()
                }
                Ordering::Greater => configured.next(),
            },
            (Some(_), None) => own.next(),
            (None, Some(_)) => configured.next(),
            (None, None) => None,
        };
        match next {
            Some((k, v)) => f.str(k, v),
            None => break,
        }
    }
}
