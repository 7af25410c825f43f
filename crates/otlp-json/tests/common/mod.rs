//! Shared helpers for the integration tests: where the Claude Code captures are.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The Claude Code 2.1.330 capture folder under `shared/fixtures`.
pub fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/claude-code-2.1.330")
}

/// Which export service a fixture belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Logs,
    Metrics,
    Traces,
}

/// The signal named by a fixture's file name (`logs-001.pb`, ...).
pub fn signal_of(path: &Path) -> Signal {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.starts_with("logs") {
        Signal::Logs
    } else if name.starts_with("metrics") {
        Signal::Metrics
    } else if name.starts_with("traces") {
        Signal::Traces
    } else {
        panic!("no signal in fixture name {name}")
    }
}

/// Every file directly inside a scenario folder whose name ends with `suffix`, sorted.
pub fn fixtures_ending(suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = fixture_root();
    let scenarios = std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    for scenario in scenarios {
        let scenario = scenario.unwrap().path();
        if !scenario.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&scenario).unwrap() {
            let file = file.unwrap().path();
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if name.ends_with(suffix) {
                out.push(file);
            }
        }
    }
    out.sort();
    out
}

/// The `*.decoded.json` next to a `*.pb` / `*.json` / `*.json.gz` fixture.
pub fn decoded_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap();
    let stem = name.split('.').next().unwrap();
    path.with_file_name(format!("{stem}.decoded.json"))
}

/// Reads a file, gunzipping `*.gz`.
pub fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().and_then(|e| e.to_str()) == Some("gz") {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}
