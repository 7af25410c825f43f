//! The typed parts of a record's JSON whose keys are fixed, written member
//! by member in key order: the `identity` and the event `header`.
//!
//! [`write_sorted`](crate::json::write_sorted) gives the same bytes for any
//! `Serialize` value, but pays for serde's calls, notes every member and,
//! as these structs declare their fields in reading order, reorders each
//! object. Every record has both, so they are written here directly. Each
//! writer takes its struct apart without `..`, so a new field does not
//! compile until it is written here too; the tests hold both writers to
//! `write_sorted` field by field. Their keys have no dots, so they read
//! the same in every [`KeyStyle`](crate::json::KeyStyle).

use crate::{
    identity::Identity,
    json::{self, Object},
    record::EventHeader,
};

/// Writes `identity` as `write_sorted` would.
pub(crate) fn identity(identity: &Identity, out: &mut Vec<u8>) {
    let Identity {
        user_id,
        session_id,
        organization_id,
        account_uuid,
        account_id,
        email,
        enduser_id,
        terminal_type,
        app_version,
        app_entrypoint,
        host_name,
        host_arch,
        os_type,
        os_version,
    } = identity;
    let mut o = Object::open(out);
    o.opt_str("account_id", account_id.as_deref());
    o.opt_str("account_uuid", account_uuid.as_deref());
    o.opt_str("app_entrypoint", app_entrypoint.as_deref());
    o.opt_str("app_version", app_version.as_deref());
    o.opt_str("email", email.as_deref());
    o.opt_str("enduser_id", enduser_id.as_deref());
    o.opt_str("host_arch", host_arch.as_deref());
    o.opt_str("host_name", host_name.as_deref());
    o.opt_str("organization_id", organization_id.as_deref());
    o.opt_str("os_type", os_type.as_deref());
    o.opt_str("os_version", os_version.as_deref());
    o.opt_str("session_id", session_id.as_deref());
    o.opt_str("terminal_type", terminal_type.as_deref());
    o.opt_str("user_id", user_id.as_deref());
    o.close();
}

/// Writes `header` as `write_sorted` would.
pub(crate) fn header(header: &EventHeader, out: &mut Vec<u8>) {
    let EventHeader {
        name,
        timestamp,
        sequence,
        prompt_id,
        agent_id,
    } = header;
    let mut o = Object::open(out);
    o.opt_str("agent_id", agent_id.as_deref());
    o.str("name", name);
    o.opt_str("prompt_id", prompt_id.as_deref());
    if let Some(n) = sequence {
        json::u64(o.key("sequence"), *n);
    }
    o.opt_str("timestamp", timestamp.as_deref());
    o.close();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;
    use crate::json::{KeyStyle, write_sorted};

    fn sorted<T: serde::Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        write_sorted(v, KeyStyle::Plain, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn direct<T>(v: &T, write: fn(&T, &mut Vec<u8>)) -> String {
        let mut out = b"x".to_vec();
        write(v, &mut out);
        String::from_utf8(out.split_off(1)).unwrap()
    }

    fn text() -> impl Strategy<Value = Option<String>> {
        prop::option::of("[a-z\"\\\\é\n]{0,12}")
    }

    prop_compose! {
        fn identities()(
            a in prop::collection::vec(text(), 14)
        ) -> Identity {
            Identity {
                user_id: a[0].as_deref().map(Into::into),
                session_id: a[1].as_deref().map(Into::into),
                organization_id: a[2].as_deref().map(Into::into),
                account_uuid: a[3].as_deref().map(Into::into),
                account_id: a[4].as_deref().map(Into::into),
                email: a[5].as_deref().map(Into::into),
                enduser_id: a[6].as_deref().map(Into::into),
                terminal_type: a[7].as_deref().map(Into::into),
                app_version: a[8].as_deref().map(Into::into),
                app_entrypoint: a[9].as_deref().map(Into::into),
                host_name: a[10].as_deref().map(Into::into),
                host_arch: a[11].as_deref().map(Into::into),
                os_type: a[12].as_deref().map(Into::into),
                os_version: a[13].as_deref().map(Into::into),
            }
        }
    }

    prop_compose! {
        fn headers()(
            name in "[a-z_\"]{0,12}",
            timestamp in text(),
            sequence in prop::option::of(any::<u64>()),
            prompt_id in text(),
            agent_id in text(),
        ) -> EventHeader {
            EventHeader { name, timestamp, sequence, prompt_id, agent_id }
        }
    }

    #[test]
    fn identity_with_every_field_and_with_none() {
        let all = Identity {
            user_id: Some("u".into()),
            session_id: Some("s".into()),
            organization_id: Some("o".into()),
            account_uuid: Some("au".into()),
            account_id: Some("ai".into()),
            email: Some("e".into()),
            enduser_id: Some("eu".into()),
            terminal_type: Some("t".into()),
            app_version: Some("av".into()),
            app_entrypoint: Some("ae".into()),
            host_name: Some("hn".into()),
            host_arch: Some("ha".into()),
            os_type: Some("ot".into()),
            os_version: Some("ov".into()),
        };
        assert_eq!(direct(&all, identity), sorted(&all));
        assert_eq!(direct(&Identity::default(), identity), "{}");
    }

    proptest! {
        #[test]
        fn identity_writes_as_write_sorted(id in identities()) {
            prop_assert_eq!(direct(&id, identity), sorted(&id));
        }

        #[test]
        fn header_writes_as_write_sorted(h in headers()) {
            prop_assert_eq!(direct(&h, header), sorted(&h));
        }
    }
}
