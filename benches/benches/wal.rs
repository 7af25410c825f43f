//! WAL bench: bytes per second through `Wal::append` + `Wal::commit` on the
//! machine's disk (`cairn_store::wal`), as the writer thread will use it:
//! every acknowledged batch appended as one frame, one commit per group.
//!
//! * `fsync/<size>x<n>`: `n` frames of `size` bytes appended, then one
//!   commit that writes them and `fdatasync`s once (`durability = "fsync"`,
//!   the default).
//! * `buffered/<size>x<n>`: the same without the `fdatasync`
//!   (`durability = "buffered"`).
//!
//! Throughput is payload bytes (the 8-byte frame headers are not counted).
//! A consumer acks the head whenever half the 64 MiB budget is used, so
//! segments (8 MiB) are deleted as they would be behind a live sink; its
//! cursor write (three syncs) falls inside the timed loop once per 32 MiB.
//!
//! `cargo bench -p cairn-benches --bench wal -- --warm-up-time 1 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

cairn_benches::gateway_allocator!();

use cairn_store::wal::{Durability, Reader, Wal, WalConfig};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const BUDGET: u64 = 64 << 20;

fn payload(len: usize) -> Vec<u8> {
    // Redacted OTLP records are mostly JSON-ish text; the content does not
    // matter to the WAL beyond its length.
    let text = br#"{"event":"claude_code.tool_result","tool":"Bash","ok":true} "#;
    text.iter().copied().cycle().take(len).collect()
}

fn bench(c: &mut Criterion) {
    let root = std::env::temp_dir().join(format!("cairn-wal-bench-{}", std::process::id()));
    let mut g = c.benchmark_group("wal");
    for (mode, durability) in [
        ("fsync", Durability::Fsync),
        ("buffered", Durability::Buffered),
    ] {
        for (size, n) in [(1024, 64), (1024, 256), (16 << 10, 16), (16 << 10, 64)] {
            let dir = root.join(format!("{mode}-{size}-{n}"));
            let _ = std::fs::remove_dir_all(&dir);
            let config = WalConfig {
                segment_bytes: 8 << 20,
                budget_bytes: BUDGET,
                durability,
            };
            let mut wal = Wal::open(&dir, config).unwrap();
            let mut sink: Reader = wal.register("sink").unwrap();
            let frame = payload(size);
            g.throughput(Throughput::Bytes((size * n) as u64));
            g.bench_function(BenchmarkId::new(mode, format!("{size}x{n}")), |b| {
                b.iter(|| {
                    for _ in 0..n {
                        wal.append(&frame).unwrap();
                    }
                    let head = wal.commit().unwrap();
                    if wal.stats().bytes_used > BUDGET / 2 {
                        sink.ack(head).unwrap();
                    }
                })
            });
            drop(sink);
            drop(wal);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&root);
}

criterion_group!(benches, bench);
criterion_main!(benches);
