//! Public API behaviour: fail-closed outcomes, the clean path, custom rules, disabled kinds,
//! JSON escapes, spans and pseudonyms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use cairn_redact::{
    BuildError, CustomRule, Kind, Outcome, Pseudonymizer, Redacted, Redactor, RedactorConfig,
    UNSCANNABLE_REPLACEMENT, Unscannable,
};

fn redactor() -> Redactor {
    RedactorConfig::default().build().unwrap()
}

#[test]
fn clean_text_is_borrowed_not_copied() {
    let r = redactor();
    let text = "deploy the billing service after the 3 failing tests pass";
    match r.redact(text) {
        Outcome::Scanned(Redacted {
            text: Cow::Borrowed(t),
            kinds,
            findings,
        }) => {
            assert_eq!(t, text);
            assert!(kinds.is_empty() && findings.is_empty());
        }
        other => panic!("expected a borrowed clean result, got {other:?}"),
    }
}

#[test]
fn findings_are_spans_into_the_original() {
    let r = redactor();
    let text = "mail alice@example.com, key AKIAIOSFODNN7EXAMPLE and card 4111 1111 1111 1111";
    let out = r.redact(text);
    let spans: Vec<(&str, Kind)> = out
        .findings()
        .iter()
        .map(|f| (&text[f.start..f.end], f.kind))
        .collect();
    assert_eq!(
        spans,
        vec![
            ("alice@example.com", Kind::EMAIL),
            ("AKIAIOSFODNN7EXAMPLE", Kind::AWS_ACCESS_KEY_ID),
            ("4111 1111 1111 1111", Kind::CREDIT_CARD),
        ]
    );
    assert_eq!(
        out.text(),
        "mail [REDACTED:email], key [REDACTED:aws_access_key_id] and card [REDACTED:credit_card]"
    );
    assert_eq!(
        r.kind_names(&out.kinds()),
        vec!["aws_access_key_id", "credit_card", "email"]
    );
    assert!(out.is_modified());
}

#[test]
fn fails_closed_on_size_and_encoding() {
    let r = RedactorConfig {
        max_scan_bytes: 64,
        ..RedactorConfig::default()
    }
    .build()
    .unwrap();
    let big = "a".repeat(65);
    let out = r.redact(&big);
    assert_eq!(
        out.unscannable(),
        Some(Unscannable::TooLarge { len: 65, limit: 64 })
    );
    assert_eq!(out.text(), UNSCANNABLE_REPLACEMENT);
    assert_eq!(out.into_text(), UNSCANNABLE_REPLACEMENT);
    let out = r.redact_bytes(b"ok \xff\xfe token");
    assert_eq!(
        out.unscannable(),
        Some(Unscannable::NotUtf8 { valid_up_to: 3 })
    );
    assert_eq!(out.text(), UNSCANNABLE_REPLACEMENT);
    assert!(r.find(&big).is_err());
    // Valid UTF-8 bytes go through the normal path.
    let out = r.redact_bytes("pw: hunter2 ✓".as_bytes());
    assert!(out.unscannable().is_none());
}

#[test]
fn build_errors_are_distinct_from_scan_outcomes() {
    let bad_regex = RedactorConfig {
        custom_rules: vec![CustomRule {
            kind: "employee_id".into(),
            regex: "EMP-(".into(),
            keywords: vec![],
        }],
        ..RedactorConfig::default()
    };
    assert!(matches!(
        bad_regex.build(),
        Err(BuildError::InvalidRegex { .. })
    ));
    let bad_name = Redactor::builder().custom_rule(CustomRule {
        kind: "Has \"Quotes\"".into(),
        regex: "x".into(),
        keywords: vec![],
    });
    assert!(matches!(
        bad_name.build(),
        Err(BuildError::InvalidKindName(_))
    ));
    assert!(matches!(
        Redactor::builder().disable_kind("nope").build(),
        Err(BuildError::UnknownKind(_))
    ));
    assert!(matches!(
        Redactor::builder().max_scan_bytes(0).build(),
        Err(BuildError::ZeroScanLimit)
    ));
    let empty_kw = Redactor::builder().custom_rule(CustomRule {
        kind: "x".into(),
        regex: "x".into(),
        keywords: vec![String::new()],
    });
    assert!(matches!(
        empty_kw.build(),
        Err(BuildError::EmptyKeyword { .. })
    ));
}

#[test]
fn custom_rules_with_and_without_keywords() {
    let r = Redactor::builder()
        .custom_rule(CustomRule {
            kind: "employee_id".into(),
            regex: r"\bEMP-\d{6}\b".into(),
            keywords: vec!["employee".into()],
        })
        .custom_rule(CustomRule {
            kind: "ticket".into(),
            regex: r"\bSEC-\d{4}\b".into(),
            keywords: vec![],
        })
        .build()
        .unwrap();
    // Keyword-gated: found next to the keyword (case-insensitive), not elsewhere.
    let out = r.redact("Employee record EMP-123456 updated; SEC-4242 filed");
    assert_eq!(
        out.text(),
        "Employee record [REDACTED:employee_id] updated; [REDACTED:ticket] filed"
    );
    let far = format!("EMP-123456 {} employee", "x ".repeat(400));
    assert!(r.redact(&far).text().starts_with("EMP-123456"));
    let id = r.kind_by_name("employee_id").unwrap();
    assert!(id.is_custom());
    assert_eq!(r.kind_name(id), "employee_id");
    assert!(r.redact("Employee EMP-000001").kinds().contains(id));
}

#[test]
fn disabled_kinds_are_left_alone() {
    let r = Redactor::builder().disable_kind("email").build().unwrap();
    assert_eq!(
        r.redact("contact alice@example.com").text(),
        "contact alice@example.com"
    );
    let r = Redactor::builder().disable_kind("ipv4").build().unwrap();
    assert_eq!(
        r.redact("ssh ubuntu@10.0.3.17").text(),
        "ssh ubuntu@10.0.3.17"
    );
    assert!(
        redactor()
            .redact("ssh ubuntu@10.0.3.17")
            .kinds()
            .contains(Kind::IPV4)
    );
}

#[test]
fn json_escapes_survive_and_documents_stay_valid() {
    let r = redactor();
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4UbaDzY5xjW3a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r\nAbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdEfGhIjKlMnOpQrStUvWxYz01\n-----END RSA PRIVATE KEY-----\n";
    let doc = serde_json::json!({
        "file_path": "/srv/app/key.pem",
        "content": format!("{key}DB_PASSWORD=Tulip-Harbor-Violet42\nuser=alice@example.com\n"),
    })
    .to_string();
    let out = r.redact(&doc);
    let parsed: serde_json::Value = serde_json::from_str(out.text()).expect("still JSON");
    let content = parsed["content"].as_str().unwrap();
    assert!(
        !content.contains("MIIEow")
            && !content.contains("Tulip-Harbor")
            && !content.contains("alice@")
    );
    assert!(content.contains("[REDACTED:private_key]"));
    assert!(content.contains("DB_PASSWORD=[REDACTED:password_assignment]\nuser=[REDACTED:email]"));
    // A secret right after an escaped newline keeps the escape intact.
    let t = r#"{"stdout":"HOME=/root\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nX=1"}"#;
    let out = r.redact(t);
    assert_eq!(
        out.text(),
        r#"{"stdout":"HOME=/root\nAWS_ACCESS_KEY_ID=[REDACTED:aws_access_key_id]\nX=1"}"#
    );
}

#[test]
fn overlapping_findings_merge_into_the_most_specific_kind() {
    let r = redactor();
    // The bearer rule and the JWT rule both match; one replacement, labeled jwt.
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiaWF0IjoxNzE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    let header = format!("Authorization: Bearer {jwt}");
    let out = r.redact(&header);
    assert_eq!(out.text(), "Authorization: Bearer [REDACTED:jwt]");
    assert_eq!(out.findings().len(), 1);
}

#[test]
fn pseudonyms_are_stable_keyed_and_hidden_from_debug() {
    let p = Pseudonymizer::new(b"a-32-byte-secret-key-for-testing").unwrap();
    let a = p.pseudonymize("alice@example.com");
    assert_eq!(a, p.pseudonymize("alice@example.com"));
    assert!(a.starts_with("anon:"));
    assert!(!format!("{p:?}").contains("secret-key"));
    assert!(matches!(
        Pseudonymizer::new(b"short"),
        Err(BuildError::ShortKey { .. })
    ));
}

#[test]
fn redactor_is_shareable_across_threads() {
    let r = std::sync::Arc::new(redactor());
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let r = r.clone();
            std::thread::spawn(move || {
                r.redact(&format!("run {i}: token=ghp_abc"))
                    .text()
                    .to_string()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().starts_with("run "));
    }
}
