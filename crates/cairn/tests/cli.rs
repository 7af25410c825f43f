//! The binary's own smoke test. Besides checking `--version` and `--help`,
//! it makes `cargo test --workspace` build the real `cairn` binary, which the
//! end-to-end suite in `tests/` runs.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn version_and_help() {
    let bin = env!("CARGO_BIN_EXE_cairn");
    let out = Command::new(bin).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("cairn {}", env!("CARGO_PKG_VERSION"))
    );
    let help = Command::new(bin).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for sub in ["run", "validate"] {
        assert!(text.contains(sub), "{text}");
    }
}
