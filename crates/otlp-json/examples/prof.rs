#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use serde_json::Value;
fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/claude-code-2.1.330/http-json/logs-001.json"
    );
    let mut tree: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let records = tree["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        .as_array()
        .unwrap()
        .clone();
    let mut all = Vec::new();
    for _ in 0..(std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(250))
    {
        all.extend(records.iter().cloned());
    }
    tree["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = Value::Array(all);
    let big = serde_json::to_vec(&tree).unwrap();
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(100);
    let t = std::time::Instant::now();
    let mut keep = 0;
    for _ in 0..n {
        let r = cairn_otlp_json::decode_logs(std::hint::black_box(&big)).unwrap();
        keep += r.resource_logs.len();
    }
    let dt = t.elapsed().as_secs_f64();
    eprintln!(
        "{} bytes x {n}: {:.1} MB/s wall ({keep})",
        big.len(),
        big.len() as f64 * n as f64 / dt / 1e6
    );
}
