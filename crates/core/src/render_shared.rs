//! The part of a record's JSON that the records of one batch share: its
//! origin's `protocol` and `received_unix_nano`, the `resource` attributes
//! and the `scope`, members that sit together in key order.
//!
//! A batch's records point at a few `Arc<ResourceContext>` and
//! `Arc<ScopeContext>` (one per resource and scope of the request), so
//! [`SharedJson`] renders those members once per resource, scope, origin
//! and key style and copies the bytes into each record after that. It
//! keeps the `Arc`s it was rendered from, so a pointer it compares with
//! can never be a new resource at a freed one's address.

use std::sync::Arc;

use crate::{
    json::{self, KeyStyle, write_sorted},
    record::{Origin, Record, ResourceContext, ScopeContext},
    value::write_attrs_json,
};

/// Most renderings kept; past that the oldest is dropped.
const KEEP: usize = 8;

/// Renderings of the shared members, for [`Record::write_json_shared`].
/// Meant to live for one batch (or one pass over a few).
#[derive(Debug, Default)]
pub struct SharedJson {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    resource: Arc<ResourceContext>,
    scope: Arc<ScopeContext>,
    origin: Origin,
    style: KeyStyle,
    /// `"protocol":…,"received_unix_nano":…,"resource":{…}[,"scope":{…}]`.
    bytes: Vec<u8>,
}

impl SharedJson {
    /// The shared members of `record` (with `origin`) in `style`,
    /// rendered on first use.
    pub(crate) fn members(&mut self, record: &Record, origin: &Origin, style: KeyStyle) -> &[u8] {
        let found = self.entries.iter().position(|e| {
            Arc::ptr_eq(&e.resource, &record.resource)
                && Arc::ptr_eq(&e.scope, &record.scope)
                && e.style == style
                && e.origin == *origin
        });
        let at = match found {
            Some(at) => at,
            None => {
                if self.entries.len() == KEEP {
                    self.entries.remove(0);
                }
                let mut bytes = Vec::new();
                let mut o = json::Object::open(&mut bytes);
                write_members(&mut o, record, origin, style);
                // Without the `{` that opened them.
                bytes.remove(0);
                self.entries.push(Entry {
                    resource: Arc::clone(&record.resource),
                    scope: Arc::clone(&record.scope),
                    origin: origin.clone(),
                    style,
                    bytes,
                });
                self.entries.len() - 1
            }
        };
        &self.entries[at].bytes
    }
}

/// Writes the shared members of `record` into `o`.
pub(crate) fn write_members(
    o: &mut json::Object<'_>,
    record: &Record,
    origin: &Origin,
    style: KeyStyle,
) {
    write_sorted(&origin.protocol, style, o.key("protocol"));
    json::u64_string(o.key("received_unix_nano"), origin.received_unix_nano);
    write_attrs_json(record.resource.attrs().0, style, o.key("resource"));
    if let Some(scope) = &record.scope.scope {
        let mut s = json::Object::open(o.key("scope"));
        s.str("name", &scope.name);
        s.str("version", &scope.version);
        s.close();
    }
}
