//! The shared labeled corpus, scored by the shared scorer: recall overall and per kind, false
//! positives on the near-miss negatives, and JSON validity of redacted JSON documents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::Command;

use cairn_redact::{JsonlOptions, RedactorConfig, redact_jsonl_with};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/redaction")
}

#[test]
fn corpus_scores() {
    let dir = corpus_dir();
    let cases_path = dir.join("cases.jsonl");
    let redactor = RedactorConfig::default().build().unwrap();

    let out_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("redact-corpus-outputs.jsonl");
    let input = BufReader::new(fs::File::open(&cases_path).unwrap());
    let output = fs::File::create(&out_path).unwrap();
    let stats = redact_jsonl_with(input, output, &redactor, JsonlOptions { spans: true }).unwrap();
    assert_eq!(stats.unscannable + stats.malformed, 0, "{stats:?}");

    let run = Command::new("python3")
        .arg(dir.join("score.py"))
        .arg(&cases_path)
        .arg(&out_path)
        .arg("--json")
        .arg("-v")
        .output()
        .expect("python3 is required to run the corpus scorer");
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(
        run.status.success(),
        "score.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{stdout}");
    // `--json` prints the result object, then the human report starting with the `kind` header.
    let json_end = stdout.find("\nkind ").expect("report header");
    let res: Value = serde_json::from_str(&stdout[..json_end]).unwrap();

    let recall = res["recall"].as_f64().unwrap();
    let fp_rate = res["fp_rate"].as_f64().unwrap();
    assert!(recall >= 0.99, "overall recall {recall}");
    assert!(fp_rate <= 0.01, "false-positive rate {fp_rate}");
    let per_kind = res["per_kind"].as_object().unwrap();
    assert!(per_kind.len() >= 29, "every vocabulary kind is scored");
    for (kind, v) in per_kind {
        let r = v["recall"].as_f64().unwrap();
        assert!(r >= 0.95, "{kind} recall {r}");
    }
    // Not a requirement of the brief, but redacting by dropping whole values would be useless.
    let context = res["context_kept"].as_f64().unwrap();
    assert!(context >= 0.95, "context_kept {context}");
}

#[test]
fn redacted_json_documents_stay_json() {
    let redactor = RedactorConfig::default().build().unwrap();
    let text = fs::read_to_string(corpus_dir().join("cases.jsonl")).unwrap();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let t = case["text"].as_str().unwrap();
        if serde_json::from_str::<Value>(t).is_err() {
            continue;
        }
        checked += 1;
        let out = redactor.redact(t);
        assert!(!out.findings().is_empty() || case["spans"].as_array().unwrap().is_empty());
        if let Err(e) = serde_json::from_str::<Value>(out.text()) {
            panic!(
                "{}: redacted JSON no longer parses ({e}): {}",
                case["id"],
                out.text()
            );
        }
    }
    assert!(checked >= 50, "only {checked} JSON documents in the corpus");
}
