//! Who and where: the standard attributes Claude Code puts on every record.
//!
//! They are set on each record (not on the resource), but Cowork and other
//! senders may put some on the resource, so each lookup falls back to the
//! resource attributes. Values are copies for convenience; the original
//! attributes stay on the record untouched.

use std::sync::Arc;

use serde::Serialize;

use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::value::{Attrs, as_str};

/// The standard identity attributes of one record. Every field is optional:
/// API-key sessions carry only `user.id` and `session.id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Identity {
    /// `user.id`: anonymous install id, or the IdP subject on gateway sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Arc<str>>,
    /// `session.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Arc<str>>,
    /// `organization.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Arc<str>>,
    /// `user.account_uuid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_uuid: Option<Arc<str>>,
    /// `user.account_id` (the tagged `user_01…` form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Arc<str>>,
    /// `user.email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Arc<str>>,
    /// `enduser.id` (Cowork and 3P Desktop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enduser_id: Option<Arc<str>>,
    /// `terminal.type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_type: Option<Arc<str>>,
    /// `app.version`, else the resource's `service.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<Arc<str>>,
    /// `app.entrypoint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_entrypoint: Option<Arc<str>>,
    /// `host.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_name: Option<Arc<str>>,
    /// `host.arch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_arch: Option<Arc<str>>,
    /// `os.type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_type: Option<Arc<str>>,
    /// `os.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<Arc<str>>,
}

/// The first attribute with each identity key (by [`slot`]), in one pass:
/// a record has a few dozen attributes, and looking each key up on its own
/// walked them fifteen times.
fn firsts(attrs: &[KeyValue]) -> [Option<&KeyValue>; 15] {
    let mut found = [None; 15];
    for kv in attrs {
        if let Some(i) = slot(&kv.key)
            && found[i].is_none()
        {
            found[i] = Some(kv);
        }
    }
    found
}

/// The index of an identity key, in [`Identity`]'s field order, then the
/// resource's `service.version` (the fallback for `app.version`). A
/// `match` is a length switch and one comparison, where a search compares
/// against every key.
fn slot(key: &str) -> Option<usize> {
    Some(match key {
        "user.id" => 0,
        "session.id" => 1,
        "organization.id" => 2,
        "user.account_uuid" => 3,
        "user.account_id" => 4,
        "user.email" => 5,
        "enduser.id" => 6,
        "terminal.type" => 7,
        "app.version" => 8,
        "app.entrypoint" => 9,
        "host.name" => 10,
        "host.arch" => 11,
        "os.type" => 12,
        "os.version" => 13,
        "service.version" => 14,
        _ => return None,
    })
}

fn text(kv: Option<&KeyValue>) -> Option<&str> {
    kv?.value.as_ref().and_then(as_str)
}

impl Identity {
    /// Reads identity from a record's attributes, falling back to the
    /// resource's: for each key the record's first attribute with it, if
    /// that is a string, else the resource's.
    pub fn read(record: Attrs<'_>, resource: Attrs<'_>) -> Identity {
        Identity::read_after(record, resource, &Identity::default())
    }

    /// [`Identity::read`], sharing each value equal to `prev`'s (the
    /// previous record's identity) instead of allocating it again: a
    /// request's records mostly carry the same user, session and host.
    pub fn read_after(record: Attrs<'_>, resource: Attrs<'_>, prev: &Identity) -> Identity {
        let rec = firsts(record.0);
        let res = firsts(resource.0);
        let get = |i: usize| text(rec[i]).or_else(|| text(res[i]));
        let share = |v: Option<&str>, old: &Option<Arc<str>>| -> Option<Arc<str>> {
            let v = v?;
            match old {
                Some(o) if **o == *v => Some(Arc::clone(o)),
                _ => Some(Arc::from(v)),
            }
        };
        Identity {
            user_id: share(get(0), &prev.user_id),
            session_id: share(get(1), &prev.session_id),
            organization_id: share(get(2), &prev.organization_id),
            account_uuid: share(get(3), &prev.account_uuid),
            account_id: share(get(4), &prev.account_id),
            email: share(get(5), &prev.email),
            enduser_id: share(get(6), &prev.enduser_id),
            terminal_type: share(get(7), &prev.terminal_type),
            app_version: share(get(8).or_else(|| text(res[14])), &prev.app_version),
            app_entrypoint: share(get(9), &prev.app_entrypoint),
            host_name: share(get(10), &prev.host_name),
            host_arch: share(get(11), &prev.host_arch),
            os_type: share(get(12), &prev.os_type),
            os_version: share(get(13), &prev.os_version),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
    use proptest::prelude::*;

    use super::*;

    /// The identity keys, in [`Identity`]'s field order, then the resource's
    /// `service.version` (the fallback for `app.version`).
    const KEYS: [&str; 15] = [
        "user.id",
        "session.id",
        "organization.id",
        "user.account_uuid",
        "user.account_id",
        "user.email",
        "enduser.id",
        "terminal.type",
        "app.version",
        "app.entrypoint",
        "host.name",
        "host.arch",
        "os.type",
        "os.version",
        "service.version",
    ];

    /// The definition: each key looked up on its own.
    fn by_lookup(record: Attrs<'_>, resource: Attrs<'_>) -> Identity {
        let get = |key: &str| {
            record
                .string(key)
                .or_else(|| resource.string(key))
                .map(Arc::from)
        };
        Identity {
            user_id: get("user.id"),
            session_id: get("session.id"),
            organization_id: get("organization.id"),
            account_uuid: get("user.account_uuid"),
            account_id: get("user.account_id"),
            email: get("user.email"),
            enduser_id: get("enduser.id"),
            terminal_type: get("terminal.type"),
            app_version: get("app.version")
                .or_else(|| resource.string("service.version").map(Arc::from)),
            app_entrypoint: get("app.entrypoint"),
            host_name: get("host.name"),
            host_arch: get("host.arch"),
            os_type: get("os.type"),
            os_version: get("os.version"),
        }
    }

    /// Attributes drawn from the identity keys and others, with string,
    /// integer and missing values, repeated keys included.
    fn attrs() -> impl Strategy<Value = Vec<KeyValue>> {
        let key = prop_oneof![
            proptest::sample::select(KEYS.to_vec()).prop_map(str::to_owned),
            "[a-z.]{1,12}",
        ];
        let value = prop_oneof![
            "[a-z0-9-]{0,8}".prop_map(|s| Some(AnyValue {
                value: Some(Value::StringValue(s))
            })),
            any::<i64>().prop_map(|i| Some(AnyValue {
                value: Some(Value::IntValue(i))
            })),
            Just(None),
        ];
        proptest::collection::vec(
            (key, value).prop_map(|(key, value)| KeyValue {
                key,
                value,
                ..Default::default()
            }),
            0..24,
        )
    }

    #[test]
    fn every_key_has_its_slot() {
        for (i, k) in KEYS.iter().enumerate() {
            assert_eq!(slot(k), Some(i), "{k}");
        }
        assert_eq!(slot("user.idx"), None);
    }

    proptest! {
        #[test]
        fn one_pass_reads_what_key_by_key_lookups_read(record in attrs(), resource in attrs()) {
            prop_assert_eq!(
                Identity::read(Attrs(&record), Attrs(&resource)),
                by_lookup(Attrs(&record), Attrs(&resource))
            );
        }

        #[test]
        fn reading_after_a_previous_identity_reads_the_same_and_shares_equal_values(
            prev_record in attrs(),
            record in attrs(),
            resource in attrs(),
        ) {
            let prev = Identity::read(Attrs(&prev_record), Attrs(&resource));
            let next = Identity::read_after(Attrs(&record), Attrs(&resource), &prev);
            prop_assert_eq!(&next, &by_lookup(Attrs(&record), Attrs(&resource)));
            let pairs = [
                (&prev.user_id, &next.user_id),
                (&prev.session_id, &next.session_id),
                (&prev.email, &next.email),
                (&prev.app_version, &next.app_version),
                (&prev.os_version, &next.os_version),
            ];
            for (a, b) in pairs {
                if let (Some(a), Some(b)) = (a, b) {
                    prop_assert_eq!(Arc::ptr_eq(a, b), a == b);
                }
            }
        }
    }
}
