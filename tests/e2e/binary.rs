//! The real `cairn` binary: `--version`, `validate`, and `run` on the
//! embedded default with port-0 overrides, fed real captures over both
//! protocols, checked through its records file and `/metrics`, and stopped
//! with SIGTERM after draining.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use cairn_testkit::{fixtures, grpc};

use crate::util::{http_client, repo_root};

/// The binary cargo built for this workspace (`target/<profile>/cairn`),
/// built on demand if absent.
pub fn cairn_bin() -> PathBuf {
    if let Ok(p) = std::env::var("CAIRN_BIN") {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/e2e-<hash> → target/<profile>/cairn
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let bin = profile_dir.join("cairn");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "cairn", "--bin", "cairn"])
            .current_dir(repo_root())
            .status()
            .unwrap();
        assert!(status.success(), "building cairn");
    }
    bin
}

pub struct Gateway {
    child: Child,
    /// The data dir, when this gateway owns it (removed on drop).
    _owned: Option<tempfile::TempDir>,
    data: PathBuf,
    bound: serde_json::Value,
}

impl Gateway {
    pub fn start(extra: &[&str]) -> Gateway {
        Gateway::start_with_env(extra, &[])
    }

    /// Starts with cairn's log at `level` written to `log` (not piped).
    pub fn start_logging_to(extra: &[&str], level: &str, log: &Path) -> Gateway {
        Gateway::spawn(extra, &[("RUST_LOG", level)], Some(log))
    }

    /// Starts `cairn run` on an existing data dir the caller keeps (so a
    /// test can restart on the same data), cairn's log at info appended to
    /// `log` (never piped, so a long run cannot block on a full pipe).
    pub fn start_on(data: &Path, extra: &[&str], log: &Path) -> Gateway {
        // A crashed run leaves its listeners.json behind: never read that.
        match std::fs::remove_file(data.join("listeners.json")) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("removing the old listeners.json: {e}"),
        }
        Gateway::spawn_in(None, data.to_path_buf(), extra, &[], Some(log), true)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The process's resident set now and at its peak (`VmRSS`, `VmHWM`),
    /// in bytes.
    pub fn rss(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib = |key: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {key} in /proc status"))
        };
        (kib("VmRSS:") * 1024, kib("VmHWM:") * 1024)
    }

    /// The exit status, if cairn has exited (on its own: nothing here
    /// stopped it).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// SIGKILL: no drain, no cleanup, like a crash or the OOM killer.
    pub fn sigkill(&mut self) -> std::process::ExitStatus {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "cairn survived SIGKILL: {status:?}");
        status
    }

    fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Gateway {
        Gateway::spawn(extra, env, None)
    }

    fn spawn(extra: &[&str], env: &[(&str, &str)], log: Option<&Path>) -> Gateway {
        let owned = tempfile::tempdir().unwrap();
        let data = owned.path().to_path_buf();
        Gateway::spawn_in(Some(owned), data, extra, env, log, false)
    }

    fn spawn_in(
        owned: Option<tempfile::TempDir>,
        data: PathBuf,
        extra: &[&str],
        env: &[(&str, &str)],
        log_file: Option<&Path>,
        append: bool,
    ) -> Gateway {
        let mut cmd = Command::new(cairn_bin());
        cmd.args([
            "run",
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(&data)
        .args(extra)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(match log_file {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .open(path)
                    .unwrap(),
            ),
            None => Stdio::piped(),
        });
        let mut child = cmd.spawn().unwrap();
        let listeners = data.join("listeners.json");
        let deadline = Instant::now() + Duration::from_secs(20);
        let bound = loop {
            if let Ok(text) = std::fs::read_to_string(&listeners)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                break v;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let mut log = String::new();
                use std::io::Read;
                match child.stderr.take() {
                    Some(mut err) => {
                        err.read_to_string(&mut log).unwrap();
                    }
                    None => log = format!("(log in {})", log_file.unwrap().display()),
                }
                panic!("cairn exited at start ({status}): {log}");
            }
            assert!(Instant::now() < deadline, "cairn did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Gateway {
            child,
            _owned: owned,
            data,
            bound,
        }
    }

    pub fn addr(&self, which: &str) -> std::net::SocketAddr {
        self.bound[which].as_str().unwrap().parse().unwrap()
    }

    pub fn records(&self) -> Vec<serde_json::Value> {
        let dir = self.data.join("records");
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            out.extend(
                text.lines()
                    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()),
            );
        }
        out
    }

    pub fn sigterm(&mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.wait_exit()
    }

    /// Waits (bounded) for the process to exit; returns its status and log.
    fn wait_exit(&mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut log = String::new();
                use std::io::Read;
                if let Some(mut err) = self.child.stderr.take() {
                    err.read_to_string(&mut log).unwrap();
                }
                return (status, log);
            }
            assert!(
                Instant::now() < deadline,
                "cairn did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn version_and_validate() {
    let out = Command::new(cairn_bin()).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("cairn {}", env!("CARGO_PKG_VERSION"))
    );

    let ok = Command::new(cairn_bin())
        .arg("validate")
        .arg(repo_root().join("config/gateway.toml"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[server]\ngrpc_addr = \"127.0.0.1:4317\"\n\n[records]\nenabeld = true\n",
    )
    .unwrap();
    let out = Command::new(cairn_bin())
        .arg("validate")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:5: records.enabeld:"), "{err}");
}

#[test]
fn cairn_validate_accepts_every_sink_example() {
    let names = [
        "otlp", "splunk", "elastic", "datadog", "sumo", "sentinel", "syslog",
    ];
    for name in names {
        let path = repo_root().join(format!("config/sink-{name}.toml"));
        let out = Command::new(cairn_bin())
            .arg("validate")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[[sinks]]"), "{name}");
    }
}

#[test]
fn run_refuses_a_public_address_without_auth() {
    let out = Command::new(cairn_bin())
        .args(["run", "--http-addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--http-addr"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_receives_writes_records_reports_metrics_and_drains_on_sigterm() {
    let mut gw = Gateway::start(&[]);
    let admin = gw.addr("admin");
    let health = http_client()
        .get(format!("http://{admin}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = http_client()
        .get(format!("http://{admin}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    // gRPC: the baseline capture's logs as the CLI framed them.
    let frame = std::fs::read(fixtures::root().join("grpc/logs-001.grpc-frame.bin")).unwrap();
    let reply = grpc::call(gw.addr("grpc"), cairn_otlp::grpc::LOGS_PATH, frame, &[]).await;
    assert_eq!(reply.code, 0, "{}", reply.message);
    // HTTP/JSON gzip: metrics.
    let body = std::fs::read(fixtures::root().join("http-json-gzip/metrics-001.json.gz")).unwrap();
    let r = http_client()
        .post(format!("http://{}/v1/metrics", gw.addr("http")))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A refused one, counted by reason.
    let r = http_client()
        .post(format!("http://{}/v1/traces", gw.addr("http")))
        .header("content-type", "application/x-protobuf")
        .body(vec![0xff, 0xff])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Acknowledged means written: the records file already has them.
    let records = gw.records();
    let events = records.iter().filter(|r| r["kind"] == "event").count();
    let metrics = records.iter().filter(|r| r["kind"] == "metric").count();
    assert_eq!(events, 11, "all 11 events of grpc/logs-001");
    assert_eq!(metrics, 4, "the four metrics of http-json-gzip/metrics-001");
    let prompt = records
        .iter()
        .find(|r| r["event"] == "user_prompt")
        .unwrap();
    assert_eq!(prompt["protocol"], "grpc");
    assert_eq!(prompt["source"], "claude-code");
    assert_eq!(prompt["resource"]["cost_center"], "eng-123");
    assert!(prompt["attributes"]["prompt.id"].is_string());
    assert!(prompt["header"]["sequence"].is_u64());

    let text = http_client()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"cairn_receiver_requests_total{signal="logs",protocol="grpc",outcome="accepted"} 1"#,
        r#"cairn_receiver_records_total{signal="logs",protocol="grpc",outcome="accepted"} 11"#,
        r#"cairn_receiver_requests_total{signal="metrics",protocol="http/json",outcome="accepted"} 1"#,
        r#"cairn_receiver_rejections_total{protocol="http/protobuf",reason="malformed"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains(r#"cairn_receiver_bytes_total{signal="logs",protocol="grpc"}"#));

    let (status, log) = gw.sigterm();
    assert!(status.success(), "exit after SIGTERM: {status:?}\n{log}");
    assert!(
        log.contains("SIGTERM received") && log.contains("stopped"),
        "{log}"
    );
    // One short line per request on cairn's own log.
    assert!(log.matches(" export").count() >= 3, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_a_request_in_flight() {
    let mut gw = Gateway::start(&[]);
    let http = gw.addr("http");
    // Start a request whose body arrives slowly, then signal mid-body.
    let body = std::fs::read(fixtures::root().join("http-protobuf/logs-001.pb")).unwrap();
    let (first, rest) = body.split_at(100);
    let (first, rest) = (first.to_vec(), rest.to_vec());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let stream = futures::stream::poll_fn({
        let mut rx = rx;
        move |cx| rx.poll_recv(cx)
    });
    let send = tokio::spawn(
        http_client()
            .post(format!("http://{http}/v1/logs"))
            .header("content-type", "application/x-protobuf")
            .header("content-length", body.len().to_string())
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    tx.send(Ok(first)).await.unwrap();
    let admin = gw.addr("admin");
    let metrics = || async move {
        http_client()
            .get(format!("http://{admin}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // The server holds the request mid-body…
    cairn_testkit::eventually!(
        metrics()
            .await
            .contains("cairn_receiver_inflight_requests 1")
    );
    let pid = gw.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // …and is draining: not ready, but still finishing what it started.
    cairn_testkit::eventually!(
        http_client()
            .get(format!("http://{admin}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            == 503
    );
    tx.send(Ok(rest)).await.unwrap();
    drop(tx);
    let resp = send.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200, "the in-flight request completes");
    let (status, _log) = gw.wait_exit();
    assert!(status.success());
    let records = gw.records();
    let events = records.iter().filter(|r| r["kind"] == "event").count();
    assert_eq!(events, 11, "and its records were written");
    // …and the prompt it carried was closed into its chain on the way out.
    let chains = records
        .iter()
        .filter(|r| r["kind"] == "prompt_chain")
        .count();
    assert_eq!(chains, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_environment_guard_a_config_file_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cairn.toml");
    std::fs::write(
        &config,
        "[server]\nhttp_addr = \"127.0.0.1:0\"\n\n[[auth.tokens]]\ntoken_env = \"CAIRN_E2E_TOKEN\"\ntenant = \"env-team\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let gw = Gateway::start_with_env(
        &["--config", &config],
        &[("CAIRN_E2E_TOKEN", "env-token-0123456789abcdef")],
    );
    let url = format!("http://{}/v1/logs", gw.addr("http"));
    let body = std::fs::read(fixtures::root().join("http-protobuf/logs-001.pb")).unwrap();
    let send = |auth: Option<&'static str>| {
        let mut req = http_client()
            .post(&url)
            .header("content-type", "application/x-protobuf")
            .body(body.clone());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    assert_eq!(send(None).await.unwrap().status(), 401);
    assert_eq!(
        send(Some("Bearer env-token-0123456789abcdeX"))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        send(Some("Bearer env-token-0123456789abcdef"))
            .await
            .unwrap()
            .status(),
        200
    );
    let records = gw.records();
    assert_eq!(records.len(), 11);
    assert!(
        records.iter().all(|r| r["tenant"] == "env-team"),
        "every record carries the token's tenant"
    );
}
