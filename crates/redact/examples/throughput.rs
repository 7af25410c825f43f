//! Quick single-core throughput check outside criterion (for profiling with `perf` or
//! `valgrind --tool=callgrind`): redacts every `text` of a JSONL file `REPEAT` times after one
//! untimed warm-up pass, and reports the best pass.
//!
//! `cargo run --release -p cairn-redact --example throughput -- FILE.jsonl [REPEAT]`
//!
//! Steady-state instruction counts (lazy DFAs and caches already warm):
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*timed_pass*' \
//!   target/release/examples/throughput FILE.jsonl 1`

use std::time::Instant;

use cairn_redact::{Redactor, RedactorConfig};

#[inline(never)]
fn timed_pass(redactor: &Redactor, texts: &[String]) -> usize {
    texts.iter().map(|t| redactor.redact(t).text().len()).sum()
}

#[inline(never)]
fn warm_up(redactor: &Redactor, texts: &[String]) -> usize {
    // Different from `timed_pass` on purpose, so the linker cannot fold the two.
    texts
        .iter()
        .map(|t| redactor.redact(t).findings().len())
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: throughput FILE.jsonl [REPEAT]")?;
    let repeat: usize = args.next().map_or(Ok(3), |s| s.parse())?;
    let texts: Vec<String> = std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let redactor = RedactorConfig::default().build()?;
    let mut out = warm_up(&redactor, &texts);
    // Best pass of `repeat`: the machine may be shared, and the minimum is the stable figure.
    let mut best = f64::MAX;
    for _ in 0..repeat {
        let start = Instant::now();
        out += timed_pass(&redactor, &texts);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "{} texts, {mb:.1} MB, best of {repeat}: {:.1} ms, {:.0} MB/s (out {out})",
        texts.len(),
        best * 1e3,
        mb / best
    );
    Ok(())
}
