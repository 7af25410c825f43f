//! AuditItem → one Sumo log line (contract §5): a JSON object whose first
//! key is the ISO 8601 `timestamp` (Sumo reads the time from the start of
//! the message), then flat names shared with the Splunk CIM list (`user`,
//! `action`, `src`/`src_ip`, `app`, `dest`, `outcome`, `record_id`, …) and
//! the full record as `detail`. One line per record, newline-terminated;
//! JSON escapes any newline inside a value, so a record never spans lines.

use cairn_core::json::Object;

use crate::{
    cim::{self, session_host},
    detail::Detail,
    item::AuditItem,
    sink::EncodeError,
};

/// Writes `item` as one JSON line (with its newline) to `out`.
pub fn line(item: &AuditItem, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    line_with(item, Detail::Tree(&item.detail), out)
}

/// Writes `item` as one JSON line, its detail from `detail`: `timestamp`
/// first (Sumo's timestamp detection reads the start of the message),
/// `event`, `outcome`, `src_ip`, `tool`, then the names shared with the
/// Splunk mapping (`duration` in seconds).
pub fn line_with(
    item: &AuditItem,
    detail: Detail<'_>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let mut line = Object::open(out);
    line.str("timestamp", &item.rfc3339());
    line.str("event", &item.name);
    line.str("outcome", item.outcome.as_str());
    line.opt_str(
        "src_ip",
        session_host(item).filter(|h| h.parse::<std::net::IpAddr>().is_ok()),
    );
    line.opt_str("tool", item.tool.as_deref());
    cim::write_fields(&mut line, item, detail);
    line.close();
    out.push(b'\n');
    Ok(())
}
