//! Assignment precedence and what is written on events and usage points.

use super::*;

#[test]
fn a_hashed_email_finds_its_entry_through_the_pseudonymizer() {
    let p = pseudo();
    let hashed = email_pseudonym(&p, " Alice@Example.com");
    assert_eq!(hashed, p.pseudonymize("alice@example.com"));
    let plain = Directory::from_csv(CSV, Path::new("u.csv"), DirectoryKey::Email, None).unwrap();
    assert!(plain.get(&hashed).is_none());
    let dir = Directory::from_csv(CSV, Path::new("u.csv"), DirectoryKey::Email, Some(&p)).unwrap();
    assert_eq!(
        dir.get(&hashed).unwrap().cost_center.as_deref(),
        Some("fin-1")
    );
    assert_eq!(dir.len(), 2, "pseudonyms are not extra users");

    // Through the stage: a record whose user.email the policy hashed.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.csv");
    std::fs::write(&path, CSV).unwrap();
    let e = enricher(Some(&path), DirectoryKey::Email, Some(pseudo()));
    let mut batch = events(&[], &[&[("user.email", &hashed)]]);
    e.enrich(&mut batch);
    let a = Attrs(log_attrs(&batch, 0));
    assert_eq!(a.str(COST_CENTER), Some("fin-1"));
    assert_eq!(a.str(SOURCE), Some("directory"));
}

#[test]
fn directory_wins_field_by_field_over_attributes() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.csv");
    std::fs::write(
        &path,
        "email,department,cost_center\nalice@example.com,finance,fin-1\n",
    )
    .unwrap();
    let e = enricher(Some(&path), DirectoryKey::Email, None);
    let res = [("cost_center", "eng-123"), ("department", "engineering")];
    let rec = [
        ("user.email", "Alice@example.com"),
        ("cost_center", "eng-123"),
        ("team.id", "platform"),
        ("team", "stale"),
        ("team", "stale-too"),
    ];
    let mut batch = events(&res, &[&rec]);
    e.enrich(&mut batch);
    let attrs = log_attrs(&batch, 0);
    let a = Attrs(attrs);
    assert_eq!(a.str(COST_CENTER), Some("fin-1"));
    assert_eq!(a.str(DEPARTMENT), Some("finance"));
    assert_eq!(
        a.str(TEAM),
        Some("platform"),
        "not in the directory: from team.id"
    );
    assert_eq!(a.str(MANAGER), None);
    assert_eq!(a.str(SOURCE), Some("directory"));
    for key in [COST_CENTER, TEAM, SOURCE] {
        assert_eq!(count(attrs, key), 1, "{key}");
    }
    assert_eq!(e.stats().unassigned.get(), 0);

    // The same answer through the correlator's entry point.
    let identity = Identity {
        email: Some("alice@example.com".into()),
        ..Identity::default()
    };
    let got = e.assignment(&identity, Attrs(&kvs(&rec[1..])), Attrs(&kvs(&res)));
    assert_eq!(
        got,
        Assignment {
            cost_center: "fin-1".into(),
            department: Some("finance".into()),
            team: Some("platform".into()),
            manager: None,
            source: AssignmentSource::Directory,
        }
    );
}

#[test]
fn attributes_are_used_when_the_user_is_not_in_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.csv");
    std::fs::write(&path, CSV).unwrap();
    let e = enricher(Some(&path), DirectoryKey::Email, None);
    let res = [("cost_center", "from-resource"), ("manager", "mgr")];
    let mut batch = events(
        &res,
        &[
            &[
                ("user.email", "zed@example.com"),
                ("cost_center", "from-record"),
            ],
            &[("user.email", "zed@example.com")],
        ],
    );
    e.enrich(&mut batch);
    let first = Attrs(log_attrs(&batch, 0));
    assert_eq!(
        first.str(COST_CENTER),
        Some("from-record"),
        "record before resource"
    );
    assert_eq!(first.str(SOURCE), Some("resource"));
    assert_eq!(first.str(MANAGER), Some("mgr"));
    let second = Attrs(log_attrs(&batch, 1));
    assert_eq!(second.str(COST_CENTER), Some("from-resource"));
    assert_eq!(e.stats().unassigned.get(), 0);
}

#[test]
fn configured_resource_keys_are_read() {
    let config = EnrichConfig {
        resource_keys: ResourceKeys {
            cost_center: "billing.code".into(),
            ..ResourceKeys::default()
        },
        ..EnrichConfig::default()
    };
    let e = Enricher::new(config, None).unwrap();
    let mut batch = events(
        &[("billing.code", "B-42")],
        &[&[("cost_center", "ignored")]],
    );
    e.enrich(&mut batch);
    assert_eq!(Attrs(log_attrs(&batch, 0)).str(COST_CENTER), Some("B-42"));
}

#[test]
fn unknown_users_are_unassigned_and_counted_once_per_record() {
    let e = enricher(None, DirectoryKey::Email, None);
    let mut batch = events(
        &[("service.name", "claude-code")],
        &[&[], &[("cost_center", " ")]],
    );
    e.enrich(&mut batch);
    for i in 0..2 {
        let a = Attrs(log_attrs(&batch, i));
        assert_eq!(a.str(COST_CENTER), Some(UNASSIGNED));
        assert_eq!(a.str(SOURCE), Some("unassigned"));
        assert_eq!(a.str(DEPARTMENT), None);
    }
    assert_eq!(e.stats().unassigned.get(), 2);
    // Enriching again reads its own `unassigned` back as nothing, not as a
    // cost center that came from the attributes.
    e.enrich(&mut batch);
    let attrs = log_attrs(&batch, 0);
    assert_eq!(Attrs(attrs).str(SOURCE), Some("unassigned"));
    assert_eq!(count(attrs, COST_CENTER), 1);
    assert_eq!(e.stats().unassigned.get(), 4);
    let text = scrape(|r| e.stats().register(r));
    assert_eq!(
        sample(&text, "cairn_enrichment_unassigned_total"),
        Some(4.0)
    );
    assert_eq!(
        sample(
            &text,
            "cairn_enrichment_assignments_total{source=\"unassigned\"}"
        ),
        Some(4.0)
    );
}

#[test]
fn usage_metrics_are_enriched_and_other_metrics_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.csv");
    std::fs::write(
        &path,
        format!("user.id,cost_center,manager\n{FIXTURE_USER},dir-cc,m\n"),
    )
    .unwrap();
    let e = enricher(Some(&path), DirectoryKey::UserId, None);
    let mut batch = fixture_batch("http-protobuf", Signal::Metrics);
    e.enrich(&mut batch);
    for name in ["claude_code.cost.usage", "claude_code.token.usage"] {
        let points = points_of(&batch, name);
        assert!(!points.is_empty());
        for p in points {
            let a = Attrs(&p.attributes);
            assert_eq!(a.str(COST_CENTER), Some("dir-cc"), "{name}");
            assert_eq!(
                a.str(DEPARTMENT),
                Some("engineering"),
                "{name}: from the record"
            );
            assert_eq!(a.str(TEAM), Some("platform"));
            assert_eq!(a.str(MANAGER), Some("m"));
            assert_eq!(a.str(SOURCE), Some("directory"));
            assert_eq!(count(&p.attributes, COST_CENTER), 1);
        }
    }
    let session = Attrs(&points_of(&batch, "claude_code.session.count")[0].attributes);
    assert_eq!(session.str(COST_CENTER), Some("eng-123"), "untouched");
    assert_eq!(session.str(SOURCE), None);
    assert_eq!(session.str(MANAGER), None);

    // A point names its own user; another user in the same metric is unassigned.
    let e = enricher(Some(&path), DirectoryKey::UserId, None);
    let mut batch = metrics(
        &[],
        vec![sum(
            "claude_code.cost.usage",
            DELTA,
            vec![
                point(&[("user.id", FIXTURE_USER)], 1, 2, 1.0),
                point(&[("user.id", "other")], 1, 2, 1.0),
            ],
        )],
    );
    e.enrich(&mut batch);
    let points = points_of(&batch, "claude_code.cost.usage");
    assert_eq!(
        Attrs(&points[0].attributes).str(COST_CENTER),
        Some("dir-cc")
    );
    assert_eq!(
        Attrs(&points[1].attributes).str(COST_CENTER),
        Some(UNASSIGNED)
    );
    assert_eq!(e.stats().unassigned.get(), 1, "one record");
}

#[test]
fn fixture_events_are_enriched_from_their_attributes() {
    let e = enricher(None, DirectoryKey::Email, None);
    let mut batch = fixture_batch("http-protobuf", Signal::Logs);
    assert_eq!(batch.records.len(), 11);
    e.enrich(&mut batch);
    for i in 0..batch.records.len() {
        let a = Attrs(log_attrs(&batch, i));
        assert_eq!(a.str(COST_CENTER), Some("eng-123"));
        assert_eq!(a.str(DEPARTMENT), Some("engineering"));
        assert_eq!(a.str(TEAM), Some("platform"));
        assert_eq!(a.str(SOURCE), Some("resource"));
    }
    assert_eq!(e.stats().unassigned.get(), 0);
}
