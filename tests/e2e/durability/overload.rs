//! Overload on the real binary (issue #8's memory bound): with a 128 MiB
//! `memory_limit`, many clients send ~100 KB requests as fast as cairn
//! answers while the only sink is down, for several seconds. cairn's peak
//! resident memory stays under the limit (the backlog is on disk, in the
//! WAL; the queue and buffers are bounded), it keeps acknowledging (or
//! pushes back with 503 / UNAVAILABLE, never a silent drop), and once the
//! sink is back every acknowledged record is delivered.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use cairn_testkit::siem::splunk_hec::SplunkFake;

use super::{HEC_TOKEN, HecSwitch, Reply, assert_delivered, marker, send_http, write_config};
use crate::{binary::Gateway, util::http_client};

const LIMIT: u64 = 128 << 20;
const CLIENTS: usize = 12;
const RECORDS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_under_the_limit_while_the_sink_is_down_and_nothing_acked_is_lost() {
    let hec = SplunkFake::builder().token(HEC_TOKEN).start().await;
    let switch = HecSwitch::start(&hec.url(), true).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_config(
        dir.path(),
        &switch.url(),
        "[server]\nmemory_limit = \"128 MiB\"\nmax_body_bytes = 1048576\n\n\
         [wal]\nbudget = \"1 GiB\"\nsegment = \"16 MiB\"\n",
    );
    let gw = tokio::task::block_in_place(|| {
        Gateway::start_on(
            &data,
            &["--config", config.to_str().unwrap()],
            &dir.path().join("cairn.log"),
        )
    });
    let http = gw.addr("http");
    // Each record's marker is padded to ~1 KB, like a prompt body (with
    // dashes: a marker is letters, digits and dashes up to its `;`).
    let pad = "lorem-ipsum-dolor-sit-amet-".repeat(38);
    let started = Instant::now();
    let load = Duration::from_secs(
        std::env::var("CAIRN_OVERLOAD_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(6),
    );
    let clients = (0..CLIENTS).map(|w| {
        let pad = pad.clone();
        let client = http_client();
        async move {
            let mut acked = Vec::new();
            let mut refused = 0usize;
            let mut n = 0;
            while started.elapsed() < load {
                let markers: Vec<String> = (0..RECORDS)
                    .map(|k| format!("{}-{pad}", marker(0, w, n, k)))
                    .collect();
                match send_http(&client, http, &markers).await {
                    Reply::Acked => acked.extend(markers),
                    Reply::Refused {
                        status,
                        retry_after,
                        ..
                    } => {
                        assert_eq!(status, 503, "refused with {status}");
                        assert!(retry_after.is_some(), "503 without Retry-After");
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Reply::Failed(e) => panic!("no answer: {e}"),
                }
                n += 1;
            }
            (acked, refused)
        }
    });
    let sampler = async {
        let mut peak = 0;
        let mut seconds = Vec::new();
        while started.elapsed() < load {
            let rss = gw.rss().0;
            peak = peak.max(rss);
            if started.elapsed().as_secs() as usize >= seconds.len() {
                seconds.push(rss >> 20);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("overload: RSS MiB at each second: {seconds:?}");
        peak
    };
    let (results, sampled) = tokio::join!(futures::future::join_all(clients), sampler);
    let (_, hwm) = gw.rss();
    let mut acked = BTreeSet::new();
    let mut refused = 0;
    for (a, r) in results {
        acked.extend(a);
        refused += r;
    }
    println!(
        "overload: {} records acknowledged in {load:?} by {CLIENTS} clients ({refused} requests pushed back); \
         RSS peak sampled {} MiB, VmHWM {} MiB, limit {} MiB",
        acked.len(),
        sampled >> 20,
        hwm >> 20,
        LIMIT >> 20
    );
    assert!(
        acked.len() >= 20 * RECORDS,
        "too little load to mean anything: {}",
        acked.len()
    );
    assert!(hec.indexed().is_empty(), "HEC indexed something while down");
    assert!(
        hwm < LIMIT,
        "peak RSS {} MiB passed the {} MiB memory limit",
        hwm >> 20,
        LIMIT >> 20
    );
    // The sink returns: everything acknowledged arrives.
    switch.set_down(false);
    let deadline = Instant::now() + Duration::from_secs(120);
    while super::delivered(&hec).len() < acked.len() {
        assert!(Instant::now() < deadline, "the backlog was not delivered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_delivered(&hec, &acked);
}
