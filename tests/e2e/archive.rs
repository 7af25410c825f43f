//! The tamper-evident archive on the real binary: the embedded default
//! writes it, `cairn verify` passes on what `cairn run` wrote and fails,
//! naming the record, after one byte changes; `cairn archive pubkey` and
//! `cairn archive export` serve the investigator.

use std::process::Command;

use cairn_core::signal::Signal;

use crate::{
    binary::{Gateway, cairn_bin},
    util::send_capture,
};

fn cairn(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cairn_bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_then_verify_then_tamper_then_export() {
    let mut gw = Gateway::start(&[]);
    send_capture(gw.addr("http"), "http-protobuf", &Signal::ALL).await;
    let (status, log) = gw.sigterm();
    assert!(status.success(), "{log}");
    let data = gw.data_dir().to_str().unwrap().to_owned();
    let archive = gw.data_dir().join("archive");
    let dir = archive.to_str().unwrap().to_owned();

    let (code, pubkey, err) = cairn(&["archive", "pubkey", "--data-dir", &data]);
    assert_eq!(code, 0, "{err}");
    let pubkey = pubkey.trim().to_owned();
    assert_eq!(pubkey.len(), 44, "{pubkey}");

    let (code, out, err) = cairn(&["verify", &dir, "--pubkey", &pubkey]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"), "{out}");
    let records = gw.records().len();
    assert!(
        out.contains(&format!("{records} records")),
        "{records}: {out}"
    );

    // Another key does not verify it.
    let other = tempfile::tempdir().unwrap();
    let (_, other_key, _) = cairn(&[
        "archive",
        "pubkey",
        "--data-dir",
        other.path().to_str().unwrap(),
    ]);
    let (code, _, err) = cairn(&["verify", &dir, "--pubkey", other_key.trim()]);
    assert_eq!(code, 1, "{err}");

    // Export by session: every line names it, with the prompt and user.
    let session = gw
        .records()
        .iter()
        .find_map(|r| r["identity"]["session_id"].as_str().map(str::to_owned))
        .unwrap();
    let (code, out, err) = cairn(&["archive", "export", &dir, "--session", &session]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 11, "{} lines", lines.len());
    assert!(lines.iter().all(|l| l["session.id"] == session.as_str()));
    assert!(
        lines
            .iter()
            .any(|l| l["prompt.id"] == "aa6ad45b-aac7-4b34-8d2a-58b26567b6e7")
    );
    let (code, out, _) = cairn(&[
        "archive",
        "export",
        &dir,
        "--user",
        "nobody@example.invalid",
    ]);
    assert_eq!(code, 0);
    assert!(out.is_empty(), "{out}");
    let (code, _, err) = cairn(&["archive", "export", &dir, "--since", "yesterday"]);
    assert_eq!(code, 2, "{err}");

    // One changed byte in a record is caught, naming its line.
    let segment = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("segment-")
        })
        .unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("tool_result"))
        .unwrap();
    let tampered = text.replacen("\"tool_result\"", "\"tool_resulT\"", 1);
    assert_ne!(tampered, text);
    std::fs::write(&segment, tampered).unwrap();
    let (code, _, err) = cairn(&["verify", &dir, "--pubkey", &pubkey]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("TAMPERED"), "{err}");
    assert!(
        err.contains(&format!(":{}", line + 1)) || err.contains(&format!("line {}", line + 1)),
        "line {}: {err}",
        line + 1
    );
}
