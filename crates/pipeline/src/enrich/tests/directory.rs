//! Directory files (CSV, JSON, keys, errors), reload, the watcher, config.

use super::*;

#[test]
fn csv_directory_by_each_key_with_either_column_name() {
    let p = Path::new("users.csv");
    for (key, header, user) in [
        (DirectoryKey::Email, "email", "dave@example.com"),
        (DirectoryKey::Email, "user.email", "dave@example.com"),
        (DirectoryKey::AccountUuid, "account_uuid", "3f2c-uuid"),
        (DirectoryKey::AccountUuid, "user.account_uuid", "3f2c-uuid"),
        (DirectoryKey::UserId, "user_id", FIXTURE_USER),
        (DirectoryKey::UserId, "user.id", FIXTURE_USER),
    ] {
        let text = format!("team,{header},cost_center,extra\nops,{user},cc-9,x\n");
        let dir = Directory::from_csv(&text, p, key, None).unwrap();
        let e = dir.get(user).unwrap();
        assert_eq!(e.cost_center.as_deref(), Some("cc-9"), "{header}");
        assert_eq!(e.team.as_deref(), Some("ops"));
        assert_eq!(e.department, None);
        assert_eq!(dir.len(), 1);
        assert!(dir.get("someone-else").is_none());
    }
    // A directory keyed by e-mail has no user.id column: refused, naming the file.
    let err = Directory::from_csv(CSV, p, DirectoryKey::UserId, None).unwrap_err();
    assert!(
        err.to_string().contains("users.csv:1: no key column"),
        "{err}"
    );
}

#[test]
fn csv_blank_cells_are_absent_and_errors_name_the_line() {
    let p = Path::new("/etc/cairn/users.csv");
    let dir = Directory::from_csv(CSV, p, DirectoryKey::Email, None).unwrap();
    let bob = dir.get("bob@example.com").unwrap();
    assert_eq!(bob.team, None);
    assert_eq!(bob.manager, None);
    assert_eq!(
        dir.get("alice@example.com").unwrap().manager.as_deref(),
        Some("carol@example.com")
    );
    let bad = format!("{CSV},Nobody,x,y,z,w\n");
    let err = Directory::from_csv(&bad, p, DirectoryKey::Email, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "directory /etc/cairn/users.csv:4: empty user.email"
    );
}

#[test]
fn json_directory_as_array_or_object_by_each_key() {
    let p = Path::new("users.json");
    for (key, field) in [
        (DirectoryKey::Email, "user.email"),
        (DirectoryKey::Email, "email"),
        (DirectoryKey::AccountUuid, "account_uuid"),
        (DirectoryKey::UserId, "user.id"),
        (DirectoryKey::UserId, "user_id"),
    ] {
        let text = format!(
            r#"[{{"{field}": "u1", "cost_center": 4711, "department": "ops", "note": "ignored"}},
               {{"{field}": "u2", "team": "web", "manager": null}}]"#
        );
        let dir = Directory::from_json(&text, p, key, None).unwrap();
        let u1 = dir.get("u1").unwrap();
        assert_eq!(u1.cost_center.as_deref(), Some("4711"), "{field}");
        assert_eq!(u1.department.as_deref(), Some("ops"));
        assert_eq!(dir.get("u2").unwrap().team.as_deref(), Some("web"));
        assert_eq!(dir.len(), 2);
    }
    let map = r#"{"Alice@Example.com": {"cost_center": "fin-1"}, "u2": {"team": "web"}}"#;
    let dir = Directory::from_json(map, p, DirectoryKey::Email, None).unwrap();
    assert_eq!(
        dir.get("alice@example.com").unwrap().cost_center.as_deref(),
        Some("fin-1")
    );

    let missing = r#"[{"email": "a"}, {"user.id": "b"}]"#;
    let err = Directory::from_json(missing, p, DirectoryKey::Email, None).unwrap_err();
    assert!(err.to_string().contains("users.json: entry 2"), "{err}");
    let syntax = "[\n{\"email\": \"a\"},\n{\"email\" \"b\"}]";
    let err = Directory::from_json(syntax, p, DirectoryKey::Email, None).unwrap_err();
    assert!(
        err.to_string().starts_with("directory users.json:3:"),
        "{err}"
    );
    let wrong = r#"[{"email": "a", "cost_center": ["x"]}]"#;
    assert!(Directory::from_json(wrong, p, DirectoryKey::Email, None).is_err());
}

#[test]
fn emails_are_normalised_and_duplicates_last_win() {
    let text = "email,cost_center\n  Alice@Example.COM ,old\nalice@example.com,new\nBOB@x.io,b\n";
    let dir = Directory::from_csv(text, Path::new("u.csv"), DirectoryKey::Email, None).unwrap();
    assert_eq!(dir.len(), 2);
    assert_eq!(dir.duplicates(), 1);
    for lookup in [
        "alice@example.com",
        "ALICE@example.com",
        " alice@EXAMPLE.com\t",
    ] {
        assert_eq!(
            dir.get(lookup).unwrap().cost_center.as_deref(),
            Some("new"),
            "{lookup:?}"
        );
    }
    assert!(dir.get("bob@x.io").is_some());
    // Other keys are trimmed but keep their case.
    let text = "user.id,cost_center\nAbC ,x\n";
    let dir = Directory::from_csv(text, Path::new("u.csv"), DirectoryKey::UserId, None).unwrap();
    assert!(dir.get("AbC").is_some());
    assert!(dir.get("abc").is_none());
}

#[test]
fn reload_picks_up_a_changed_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.csv");
    std::fs::write(&path, CSV).unwrap();
    let e = enricher(Some(&path), DirectoryKey::Email, None);
    let h = e.handle().unwrap();
    assert!(!h.reload_if_changed().unwrap(), "unchanged file: no reload");
    assert_eq!(h.generation(), 1);

    replace(
        &path,
        "email,cost_center\nalice@example.com,moved-to-ops\nnew@example.com,n-1\n",
    );
    assert!(h.reload_if_changed().unwrap());
    assert_eq!(h.generation(), 2);
    let mut batch = events(&[], &[&[("user.email", "new@example.com")]]);
    e.enrich(&mut batch);
    assert_eq!(Attrs(log_attrs(&batch, 0)).str(COST_CENTER), Some("n-1"));
    assert_eq!(
        h.current()
            .get("alice@example.com")
            .unwrap()
            .cost_center
            .as_deref(),
        Some("moved-to-ops")
    );
    assert!(h.current().get("bob@example.com").is_none());
    assert_eq!(e.stats().directory_reloads.get(), 1);
    assert_eq!(e.stats().directory_entries.get(), 2);
}

#[test]
fn a_bad_file_on_reload_keeps_the_old_directory_and_is_counted_once() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.json");
    std::fs::write(
        &path,
        r#"[{"email": "alice@example.com", "cost_center": "fin-1"}]"#,
    )
    .unwrap();
    let e = enricher(Some(&path), DirectoryKey::Email, None);
    let h = e.handle().unwrap();

    replace(&path, r#"[{"email": "alice@example.com", "cost_center": "#);
    let err = h.reload_if_changed().unwrap_err();
    assert!(err.to_string().contains("users.json:1:"), "{err}");
    assert_eq!(e.stats().directory_reload_failures.get(), 1);
    let still = h.current();
    assert_eq!(
        still
            .get("alice@example.com")
            .unwrap()
            .cost_center
            .as_deref(),
        Some("fin-1")
    );
    // The same bad version is not retried (or counted) again.
    assert!(!h.reload_if_changed().unwrap());
    assert_eq!(e.stats().directory_reload_failures.get(), 1);

    // A removed file is a failure too; the directory stays.
    std::fs::remove_file(&path).unwrap();
    assert!(h.reload_if_changed().is_err());
    assert_eq!(e.stats().directory_reload_failures.get(), 2);
    assert_eq!(h.current().len(), 1);

    replace(&path, r#"{"alice@example.com": {"cost_center": "fin-2"}}"#);
    assert!(h.reload_if_changed().unwrap());
    assert_eq!(
        h.current()
            .get("alice@example.com")
            .unwrap()
            .cost_center
            .as_deref(),
        Some("fin-2")
    );
    let text = scrape(|r| e.stats().register(r));
    assert_eq!(
        sample(&text, "cairn_enrichment_directory_reload_failures_total"),
        Some(2.0)
    );
}

#[test]
fn a_bad_file_at_startup_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("users.csv");
    std::fs::write(&csv, "department,cost_center\nx,y\n").unwrap();
    let config = |p: &Path| EnrichConfig {
        directory: Some(p.to_owned()),
        ..EnrichConfig::default()
    };
    let err = Enricher::new(config(&csv), None).unwrap_err();
    assert!(
        err.to_string().contains("users.csv:1: no key column"),
        "{err}"
    );
    let txt = tmp.path().join("users.txt");
    std::fs::write(&txt, "").unwrap();
    assert!(matches!(
        Enricher::new(config(&txt), None),
        Err(DirectoryError::UnknownFormat { .. })
    ));
    let missing = tmp.path().join("nope.csv");
    assert!(matches!(
        Enricher::new(config(&missing), None),
        Err(DirectoryError::Io { .. })
    ));
}

#[test]
fn the_watcher_reloads_on_its_own_and_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("users.csv");
    std::fs::write(&path, CSV).unwrap();
    let stats = EnrichStats::default();
    let h = Arc::new(DirectoryHandle::open(&path, DirectoryKey::Email, None, stats).unwrap());
    let watcher = h.spawn_watcher(Duration::from_millis(10)).unwrap();
    replace(&path, "email,cost_center\nalice@example.com,watched\n");
    assert!(
        h.wait_for_generation(2, Duration::from_secs(20)),
        "the watcher did not reload within 20 s"
    );
    assert_eq!(
        h.current()
            .get("alice@example.com")
            .unwrap()
            .cost_center
            .as_deref(),
        Some("watched")
    );
    h.stop();
    joins_within(watcher, Duration::from_secs(20));

    // Dropping the last handle ends a watcher too.
    let h = Arc::new(
        DirectoryHandle::open(&path, DirectoryKey::Email, None, EnrichStats::default()).unwrap(),
    );
    let watcher = h.spawn_watcher(Duration::from_secs(3600)).unwrap();
    drop(h);
    joins_within(watcher, Duration::from_secs(20));
}

fn joins_within(t: std::thread::JoinHandle<()>, bound: Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(t.join().is_ok()));
    assert_eq!(
        rx.recv_timeout(bound),
        Ok(true),
        "watcher thread did not end"
    );
}

#[test]
fn config_defaults_and_refusals() {
    let c: EnrichConfig = serde_json::from_value(serde_json::json!({})).unwrap();
    assert_eq!(c, EnrichConfig::default());
    assert_eq!(c.resource_keys.team, "team.id");
    assert_eq!(c.directory_key, DirectoryKey::Email);
    assert_eq!(c.reload_interval, Duration::from_secs(10));
    let c: EnrichConfig = serde_json::from_value(serde_json::json!({
        "directory": "/etc/cairn/users.csv",
        "directory_key": "user.account_uuid",
        "reload_interval": 30,
        "resource_keys": {"cost_center": "billing"},
    }))
    .unwrap();
    assert_eq!(c.directory_key, DirectoryKey::AccountUuid);
    assert_eq!(c.reload_interval, Duration::from_secs(30));
    assert_eq!(c.resource_keys.cost_center, "billing");
    assert_eq!(c.resource_keys.department, "department");
    for bad in [
        serde_json::json!({"reload_interval": 0}),
        serde_json::json!({"directory_key": "email"}),
        serde_json::json!({"directroy": "x.csv"}),
        serde_json::json!({"resource_keys": {"dept": "x"}}),
    ] {
        assert!(
            serde_json::from_value::<EnrichConfig>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn the_stage_and_its_handle_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Enricher>();
    shared::<DirectoryHandle>();
    shared::<Arc<Directory>>();
    fn sendable<T: Send>() {}
    sendable::<SpendMeter>();
}
