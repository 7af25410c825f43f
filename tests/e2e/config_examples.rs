//! Every file in `config/` is accepted by the same validation `cairn
//! validate` runs, and bad configs are refused with file, line and key.

use cairn::config::{
    Source,
    plan::{Overrides, plan},
};

use crate::util::repo_root;

#[test]
fn every_example_config_validates() {
    let dir = repo_root().join("config");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let source = Source::read(&path).unwrap();
            if let Err(e) = plan(&source, &Overrides::default()) {
                panic!("{} does not validate: {e}", path.display());
            }
            n += 1;
        }
    }
    assert!(n >= 3, "found {n} example configs");
}

#[test]
fn the_peerbench_configs_validate_and_differ_as_described() {
    let dir = repo_root().join("benches/peerbench");
    let load = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name))
            .unwrap()
            .replace("DOWNSTREAM_GRPC", "4317");
        let source = Source {
            name: name.into(),
            text,
        };
        plan(&source, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
    };
    let full = load("full.toml");
    assert!(full.archive.is_some() && full.chains.is_some());
    assert_eq!(full.wal.durability, cairn_store::wal::Durability::Fsync);
    assert!(full.records_max_file_bytes.is_none());
    let hole = load("blackhole.toml");
    assert!(hole.archive.is_none() && hole.chains.is_none() && hole.sinks.is_empty());
    let fwd = load("forward.toml");
    assert_eq!(fwd.sinks.len(), 1);
    assert!(fwd.archive.is_none());
}

#[test]
fn the_memory_limit_bounds_the_queue_and_open_chains() {
    let e = err(
        "[server]\nmemory_limit = \"16 MiB\"\n",
        Overrides::default(),
    );
    assert!(e.contains("server.memory_limit"), "{e}");
    let p = plan(
        &Source {
            name: "t.toml".into(),
            text: "[server]\nmemory_limit = \"256 MiB\"\n".into(),
        },
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(p.memory_limit, 256 << 20);
    assert_eq!(p.queue.max_queued_bytes, 64 << 20);
    assert_eq!(p.chains.unwrap().max_open_bytes, 64 << 20);
}

#[test]
fn wal_settings_are_checked() {
    let e = err("[wal]\nsegment = \"1 KiB\"\n", Overrides::default());
    assert!(e.contains("wal.segment"), "{e}");
    let e = err(
        "[wal]\nbudget = \"1 MiB\"\nsegment = \"1 MiB\"\n",
        Overrides::default(),
    );
    assert!(e.contains("wal.budget"), "{e}");
    let e = err("[wal]\ndurability = \"sometimes\"\n", Overrides::default());
    assert!(e.contains("durability"), "{e}");
    let p = plan(
        &Source {
            name: "t.toml".into(),
            text: "[server]\nmax_body_bytes = 65536\n[wal]\ndurability = \"buffered\"\nbudget = \"512 KiB\"\nsegment = \"128 KiB\"\n".into(),
        },
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(p.wal.budget_bytes, 512 * 1024);
    assert_eq!(p.wal.segment_bytes, 128 * 1024);
    assert_eq!(p.wal.durability, cairn_store::wal::Durability::Buffered);
}

#[test]
fn the_embedded_default_binds_loopback_without_auth() {
    let p = plan(&Source::embedded(), &Overrides::default()).unwrap();
    assert_eq!(p.grpc_addr.to_string(), "127.0.0.1:4317");
    assert_eq!(p.http_addr.to_string(), "127.0.0.1:4318");
    assert_eq!(p.admin_addr.to_string(), "127.0.0.1:9880");
    assert!(p.tokens.is_empty());
    assert_eq!(p.data_dir, std::path::PathBuf::from("./cairn-data"));
}

fn err(text: &str, overrides: Overrides) -> String {
    let source = Source {
        name: "test.toml".into(),
        text: text.into(),
    };
    plan(&source, &overrides).unwrap_err().to_string()
}

#[test]
fn errors_name_file_line_and_key() {
    let e = err(
        "[server]\ngrpc_addr = \"127.0.0.1:4317\"\nhttp_addr = \"nope\"\n",
        Overrides::default(),
    );
    assert!(e.starts_with("test.toml:3: server.http_addr:"), "{e}");

    let e = err(
        "[server]\n\n\ngrpc_adr = \"127.0.0.1:1\"\n",
        Overrides::default(),
    );
    assert!(e.starts_with("test.toml:4: server.grpc_adr:"), "{e}");
    assert!(e.contains("unknown field"), "{e}");

    let e = err("[server]\nmax_body_bytes = \"big\"\n", Overrides::default());
    assert!(e.starts_with("test.toml:2: server.max_body_bytes:"), "{e}");

    let e = err(
        "[auth]\n[[auth.tokens]]\ntoken = \"x\"\ntoken_env = \"Y\"\n",
        Overrides::default(),
    );
    assert!(e.contains("auth.tokens[0]"), "{e}");
    assert!(e.contains("exactly one"), "{e}");

    let e = err(
        "[chains]

idle_timeout_secs = 0
",
        Overrides::default(),
    );
    assert!(
        e.starts_with("test.toml:3: chains.idle_timeout_secs:"),
        "{e}"
    );
    let e = err(
        "[chains]
max_open_bytes = 10
",
        Overrides::default(),
    );
    assert!(e.starts_with("test.toml:2: chains.max_open_bytes:"), "{e}");
}

#[test]
fn chains_are_on_by_default_and_can_be_switched_off() {
    let p = plan(&Source::embedded(), &Overrides::default()).unwrap();
    let chains = p.chains.unwrap();
    assert_eq!(chains.idle_timeout.as_secs(), 120);
    assert!(p.queue.raw_chain_events);
    let off = Source {
        name: "t.toml".into(),
        text: "[chains]\nenabled = false\nraw_events = false\n".into(),
    };
    let p = plan(&off, &Overrides::default()).unwrap();
    assert!(p.chains.is_none());
    assert!(
        p.queue.raw_chain_events,
        "with no chains, raw events are the only copy"
    );
}

#[test]
fn non_loopback_without_auth_is_refused_unless_allowed() {
    let e = err(
        "[server]\nhttp_addr = \"0.0.0.0:4318\"\n",
        Overrides::default(),
    );
    assert!(e.starts_with("test.toml:2: server.http_addr:"), "{e}");
    assert!(e.contains("allow_unauthenticated"), "{e}");

    let flag = Overrides {
        grpc_addr: Some("0.0.0.0:4317".into()),
        ..Overrides::default()
    };
    let e = err("", flag.clone());
    assert!(e.contains("--grpc-addr"), "{e}");

    let allowed = Source {
        name: "t".into(),
        text: "[server]\nallow_unauthenticated = true\nhttp_addr = \"0.0.0.0:4318\"\n".into(),
    };
    assert!(plan(&allowed, &Overrides::default()).is_ok());
    let with_token = Source {
        name: "t".into(),
        text: "[server]\nhttp_addr = \"0.0.0.0:4318\"\n[[auth.tokens]]\ntoken_env = \"CAIRN_T\"\n"
            .into(),
    };
    assert!(plan(&with_token, &flag).is_ok());
}

#[test]
fn tokens_resolve_from_inline_and_file_and_a_missing_variable_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cowork.token");
    std::fs::write(&file, "file-token-0123456789abcdef\n").unwrap();
    let text = format!(
        "[[auth.tokens]]\ntoken = \"inline-token-0123456789\"\ntenant = \"a\"\n\
         [[auth.tokens]]\ntoken_file = \"{}\"\n",
        file.display()
    );
    let p = plan(
        &Source {
            name: "t".into(),
            text,
        },
        &Overrides::default(),
    )
    .unwrap();
    let got: Vec<(String, Option<String>)> = p
        .resolve_tokens()
        .unwrap()
        .into_iter()
        .map(|t| (t.token, t.tenant))
        .collect();
    assert_eq!(
        got,
        vec![
            ("inline-token-0123456789".into(), Some("a".into())),
            ("file-token-0123456789abcdef".into(), None),
        ]
    );
    // (Tokens from the environment are proven on the real binary in `binary`.)
    let text = "[[auth.tokens]]\ntoken_env = \"CAIRN_TEST_TOKEN_SURELY_UNSET_91\"\n".to_owned();
    let p = plan(
        &Source {
            name: "t".into(),
            text,
        },
        &Overrides::default(),
    )
    .unwrap();
    assert!(
        p.resolve_tokens()
            .unwrap_err()
            .to_string()
            .contains("is not set")
    );
}

#[test]
fn sink_errors_name_file_line_and_sink() {
    let e = err(
        "[records]\nenabled = true\n\n[[sinks]]\nname = \"a\"\n[sinks.otlp]\nendpoint = \"ftp://x\"\n",
        Overrides::default(),
    );
    assert!(e.starts_with("test.toml:4: sinks:"), "{e}");
    assert!(e.contains("sink \"a\": otlp.endpoint"), "{e}");

    let e = err(
        "[[sinks]]\nname = \"a\"\n[sinks.otlp]\nendpoint = \"http://127.0.0.1:1\"\n[[sinks]]\nname = \"a\"\n[sinks.otlp]\nendpoint = \"http://127.0.0.1:2\"\n",
        Overrides::default(),
    );
    assert!(e.contains("two sinks are named \"a\""), "{e}");

    let e = err("[[sinks]]\nname = \"none\"\n", Overrides::default());
    assert!(e.contains("names no destination"), "{e}");

    let e = err(
        "[[sinks]]\nname = \"a\"\n[sinks.route]\nrecords = [\"logs\"]\n[sinks.otlp]\nendpoint = \"http://127.0.0.1:1\"\n",
        Overrides::default(),
    );
    assert!(e.contains("unknown variant"), "{e}");

    // The name also names a file and a WAL cursor.
    let e = err(
        "[[sinks]]\nname = \"../x\"\n[sinks.otlp]\nendpoint = \"http://127.0.0.1:1\"\n",
        Overrides::default(),
    );
    assert!(e.contains("sink name \"../x\""), "{e}");
}
