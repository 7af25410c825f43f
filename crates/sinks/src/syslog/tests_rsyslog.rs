#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The syslog sink through the real driver into a real rsyslog (started by
//! `cairn_testkit::siem::syslog::Rsyslog` on loopback ports), over TCP,
//! TLS, mutual TLS and UDP, in RFC 5424 and CEF; what rsyslog wrote is read
//! back with the strict readers and checked field by field and by count.
//! rsyslogd must be installed (`apt-get install -y rsyslog rsyslog-gnutls`);
//! without it these tests fail, they do not skip.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use cairn_core::record::Batch;
use cairn_testkit::{
    eventually,
    siem::syslog::{Input, Rfc5424, Rsyslog, parse_cef},
};

use super::{
    Config, Syslog,
    encode::machine_hostname,
    tests::{assert_cef, assert_rfc5424},
};
use crate::{
    detail::Detail,
    driver::{BatchLimits, DriverConfig, SinkError, Work},
    item::AuditItem,
    route::Route,
    sink::{EncodeError, Encoded, Report, Sink},
    testing::{Delivery, Outcome, SCENARIO, batches, chains_of, fixture_batches},
};

const SD: &str = "cairn@32473";

/// The real sink, counting its failed sends so a test can wait for them.
struct Counting {
    inner: Syslog,
    failures: Arc<AtomicUsize>,
}

impl Sink for Counting {
    fn limits(&self) -> BatchLimits {
        self.inner.limits()
    }
    fn encode_with(
        &self,
        item: &AuditItem,
        detail: Detail<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        self.inner.encode_with(item, detail, out)
    }
    async fn send(&self, batch: &[Encoded]) -> Result<Report, SinkError> {
        let r = self.inner.send(batch).await;
        if r.is_err() {
            self.failures.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
}

struct Run {
    delivery: Delivery,
    failures: Arc<AtomicUsize>,
}

/// Starts the sink of `config` on the real driver: at most 8 messages a
/// batch, two batches in flight, 5 ms batching delay, then `tweak`.
fn spawn(config: &str, tweak: impl FnOnce(&mut DriverConfig)) -> Run {
    let config: Config = toml::from_str(config).unwrap();
    let failures = Arc::new(AtomicUsize::new(0));
    let sink = Counting {
        inner: config.build().unwrap(),
        failures: Arc::clone(&failures),
    };
    let delivery = Delivery::start("syslog", sink, Route::everything(), |d| {
        d.limits = BatchLimits {
            max_items: 8,
            max_bytes: 1 << 20,
            max_delay: Duration::from_millis(5),
        };
        d.concurrency = 2;
        tweak(d);
    });
    Run { delivery, failures }
}

/// Feeds every batch and the scenario's chains; returns the items the
/// receiver should get.
async fn feed(run: &Run, batches: Vec<Batch>, with_chains: bool) -> Vec<AuditItem> {
    let mut expected = Vec::new();
    for b in batches {
        expected.extend(
            b.records
                .iter()
                .map(|r| AuditItem::from_record(r, &b.origin)),
        );
        run.delivery.feed(Work::Batch(Arc::new(b))).await;
    }
    if with_chains {
        let chains = chains_of(&fixture_batches());
        expected.extend(chains.iter().map(AuditItem::from_chain));
        run.delivery.feed(Work::Chains(Arc::new(chains))).await;
    }
    expected
}

fn by_id<'a>(msgs: impl Iterator<Item = (&'a str, usize)>) -> BTreeMap<&'a str, Vec<usize>> {
    let mut map: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (id, i) in msgs {
        map.entry(id).or_default().push(i);
    }
    map
}

/// Every expected item arrived exactly as often as it was sent (once,
/// unless the fixture itself repeats a record), nothing else arrived, and
/// each message matches its item field by field.
fn assert_exactly_once(expected: &[AuditItem], got: &[Rfc5424], hostname: &str) {
    let want = by_id(
        expected
            .iter()
            .enumerate()
            .map(|(i, x)| (x.record_id.as_str(), i)),
    );
    let have = by_id(
        got.iter()
            .enumerate()
            .map(|(i, m)| (m.param(SD, "record_id").expect("record_id"), i)),
    );
    assert_eq!(got.len(), expected.len(), "message count");
    for (id, items) in &want {
        let msgs = have.get(id).map_or(&[][..], Vec::as_slice);
        assert_eq!(
            msgs.len(),
            items.len(),
            "record {id} arrived {} times",
            msgs.len()
        );
        for (&m, &i) in msgs.iter().zip(items) {
            assert_rfc5424(&got[m], &expected[i], hostname);
            assert!(got[m].bom);
            assert_eq!(got[m].msg.as_deref(), Some(expected[i].message.as_str()));
        }
    }
}

async fn wait_for(r: &Rsyslog, input: Input, n: usize) -> Vec<Rfc5424> {
    eventually!(r.messages(input).len() >= n, 20);
    r.messages(input)
}

/// rsyslog on loopback ports, in a directory that lives as long as the
/// returned guard.
async fn rsyslog() -> (tempfile::TempDir, Rsyslog) {
    let dir = tempfile::tempdir().unwrap();
    let r = Rsyslog::start(&dir.path().join("rsyslog")).await;
    (dir, r)
}

/// Feeds `batches` (and the fixture's chains when `with_chains`) through
/// the sink of `config`, drains it, and checks that all of it was delivered
/// and that `input` got each item exactly once, field by field, from
/// `hostname`.
async fn delivers_exactly_once(
    r: &Rsyslog,
    input: Input,
    config: &str,
    batches: Vec<Batch>,
    with_chains: bool,
    hostname: &str,
) -> (Outcome, Vec<Rfc5424>) {
    let run = spawn(config, |_| {});
    let expected = feed(&run, batches, with_chains).await;
    let out = run.delivery.finish().await;
    assert_eq!(out.delivered, expected.len() as u64);
    assert_eq!(out.dead_lettered, 0);
    let got = wait_for(r, input, expected.len()).await;
    assert_exactly_once(&expected, &got, hostname);
    (out, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_delivers_every_record_and_chain_exactly_once_field_by_field() {
    let (_dir, r) = rsyslog().await;
    let config = format!(
        "address = \"{}\"\nhostname = \"gw-1\"",
        r.address(Input::Tcp)
    );
    let mut all = batches(SCENARIO, None);
    all.extend(batches("grpc-multibatch", Some("acme")));
    let (out, got) = delivers_exactly_once(&r, Input::Tcp, &config, all, true, "gw-1").await;
    assert!(got.len() > 40, "{}", got.len());
    let tenants = got
        .iter()
        .filter(|m| m.param(SD, "tenant") == Some("acme"))
        .count();
    assert!(tenants > 0);
    let decision = got
        .iter()
        .find(|m| m.msgid.as_deref() == Some("tool_decision"))
        .unwrap();
    assert_eq!(decision.pri, 110);
    assert_eq!(decision.param(SD, "act"), Some("allowed"));
    assert_eq!(decision.param(SD, "tool"), Some("Bash"));
    assert!(r.messages(Input::Udp).is_empty() && r.messages(Input::Tls).is_empty());
    assert!(out.dead_text.is_empty(), "{}", out.dead_text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_delivers_exactly_once_with_the_machine_hostname() {
    let (_dir, r) = rsyslog().await;
    let config = format!(
        "address = \"{}\"\ntransport = \"tls\"\nca_file = {:?}\nserver_name = \"localhost\"",
        r.address(Input::Tls),
        r.ca
    );
    let host = machine_hostname();
    delivers_exactly_once(
        &r,
        Input::Tls,
        &config,
        batches(SCENARIO, None),
        true,
        &host,
    )
    .await;
    assert!(r.messages(Input::Tcp).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_presents_the_client_certificate() {
    let (_dir, r) = rsyslog().await;
    let config = format!(
        "address = \"{}\"\ntransport = \"tls\"\nhostname = \"gw-1\"\nca_file = {:?}\n\
         server_name = \"localhost\"\nclient_cert = {:?}\nclient_key = {:?}",
        r.address(Input::Mtls),
        r.ca,
        r.pki.client_cert,
        r.pki.client_key
    );
    delivers_exactly_once(
        &r,
        Input::Mtls,
        &config,
        batches(SCENARIO, None),
        false,
        "gw-1",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_the_receiver_refuses_is_not_counted_as_delivered() {
    let (_dir, r) = rsyslog().await;
    let config = format!(
        "address = \"{}\"\ntransport = \"tls\"\nca_file = {:?}\nserver_name = \"localhost\"\n\
         client_cert = {:?}\nclient_key = {:?}",
        r.address(Input::Mtls),
        r.ca,
        r.pki.rogue_client_cert,
        r.pki.rogue_client_key
    );
    let run = spawn(&config, |d| {
        d.give_up_after = Some(Duration::from_millis(300))
    });
    let expected = feed(&run, batches(SCENARIO, None), false).await;
    let out = run.delivery.finish().await;
    assert_eq!(
        out.delivered, 0,
        "records sent into a refused session were counted as delivered"
    );
    assert_eq!(out.dead_lettered, expected.len() as u64);
    assert!(r.messages(Input::Mtls).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_refuses_a_receiver_its_ca_did_not_sign_and_dead_letters_after_giving_up() {
    let (dir, r) = rsyslog().await;
    let other = dir.path().join("other-ca");
    std::fs::create_dir_all(&other).unwrap();
    let other_ca = cairn_testkit::tls::write_pki(&other).ca_cert;
    let config = format!(
        "address = \"{}\"\ntransport = \"tls\"\nca_file = {other_ca:?}\nserver_name = \"localhost\"",
        r.address(Input::Tls),
    );
    let run = spawn(&config, |d| {
        d.give_up_after = Some(Duration::from_millis(100))
    });
    let expected = feed(&run, batches(SCENARIO, None), false).await;
    let out = run.delivery.finish().await;
    assert_eq!(out.dead_lettered, expected.len() as u64);
    assert_eq!(out.delivered, 0);
    let lines = &out.dead;
    assert_eq!(lines.len(), expected.len());
    for line in lines {
        let reason = line["reason"].as_str().unwrap();
        assert!(reason.starts_with("retries exhausted"), "{reason}");
        assert!(reason.contains("certificate"), "{reason}");
    }
    for item in &expected {
        let quoted = format!("record_id=\"{}\"", item.record_id);
        let n = lines
            .iter()
            .filter(|l| l["record"].as_str().unwrap().contains(&quoted))
            .count();
        assert_eq!(n, 1, "{}", item.record_id);
    }
    assert!(
        r.messages(Input::Tls).is_empty(),
        "nothing reached the untrusted receiver"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sends_one_datagram_per_record() {
    let (_dir, r) = rsyslog().await;
    let config = format!(
        "address = \"{}\"\ntransport = \"udp\"\nhostname = \"gw-1\"",
        r.address(Input::Udp)
    );
    delivers_exactly_once(
        &r,
        Input::Udp,
        &config,
        batches(SCENARIO, None),
        true,
        "gw-1",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_cuts_long_messages_at_the_end_of_msg_and_dead_letters_what_cannot_fit() {
    let (_dir, r) = rsyslog().await;
    let limit = 480;
    let text = format!(
        "address = \"{}\"\ntransport = \"udp\"\nhostname = \"gw-1\"\ninclude_detail = true\nmax_datagram_bytes = {limit}",
        r.address(Input::Udp)
    );
    let encoder = toml::from_str::<Config>(&text).unwrap().build().unwrap();
    let run = spawn(&text, |_| {});
    let items = feed(&run, batches(SCENARIO, None), false).await;
    let (fits, too_big): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|i| encoder.encode_item(i, &mut Vec::new()).is_ok());
    assert!(
        !fits.is_empty() && !too_big.is_empty(),
        "{} {}",
        fits.len(),
        too_big.len()
    );
    let out = run.delivery.finish().await;
    assert_eq!(out.delivered, fits.len() as u64);
    assert_eq!(out.dead_lettered, too_big.len() as u64);
    let got = wait_for(&r, Input::Udp, fits.len()).await;
    assert_eq!(got.len(), fits.len());
    for item in &fits {
        let m = got
            .iter()
            .find(|m| m.param(SD, "record_id") == Some(item.record_id.as_str()))
            .unwrap();
        assert_rfc5424(m, item, "gw-1");
        assert_eq!(m.param(SD, "truncated"), Some("true"), "{}", item.name);
        let full = format!("{} {}", item.message, item.detail);
        let msg = m.msg.as_deref().unwrap();
        assert!(full.starts_with(msg) && msg.len() < full.len());
    }
    let raw = r.raw_lines(Input::Udp);
    assert!(
        raw.iter().all(|l| l.len() <= limit + 8),
        "rsyslog adds only its own timestamp digits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cef_over_tcp_arrives_as_the_message_field_by_field() {
    let (_dir, r) = rsyslog().await;
    let config = format!(
        "address = \"{}\"\nformat = \"cef\"\nhostname = \"gw-1\"\nfacility = \"local4\"",
        r.address(Input::Tcp)
    );
    let run = spawn(&config, |_| {});
    let expected = feed(&run, batches(SCENARIO, None), true).await;
    run.delivery.finish().await;
    let got = wait_for(&r, Input::Tcp, expected.len()).await;
    assert_eq!(got.len(), expected.len());
    let mut seen = BTreeMap::new();
    for m in &got {
        assert!(m.sd.is_empty() && !m.bom);
        let c = parse_cef(m.msg.as_deref().unwrap()).unwrap();
        let id = c.get("externalId").unwrap().to_owned();
        let item = expected.iter().find(|i| i.record_id == id).unwrap();
        assert_eq!(m.pri, 20 * 8 + item.severity.syslog());
        assert_eq!(m.msgid.as_deref(), Some(item.name.as_str()));
        assert_cef(&c, item, "gw-1");
        *seen.entry(id).or_insert(0) += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
}

/// Phase 1 is delivered over a connection that then stays open; the
/// receiver is killed; phase 2 is fed while it is down (the sink must see
/// the dead connection instead of writing into it, then fail to connect and
/// retry); the receiver comes back on the same port and everything arrives
/// exactly once.
async fn receiver_restart(input: Input) {
    let (_dir, mut r) = rsyslog().await;
    let mut config = format!("address = \"{}\"\nhostname = \"gw-1\"", r.address(input));
    if input == Input::Tls {
        config.push_str(&format!(
            "\ntransport = \"tls\"\nca_file = {:?}\nserver_name = \"localhost\"",
            r.ca
        ));
    }
    let run = spawn(&config, |_| {});
    let mut expected = feed(&run, batches(SCENARIO, None), false).await;
    wait_for(&r, input, expected.len()).await;
    assert_eq!(run.failures.load(Ordering::SeqCst), 0);

    r.stop();
    expected.extend(feed(&run, batches(SCENARIO, Some("while-down")), true).await);
    eventually!(run.failures.load(Ordering::SeqCst) >= 3, 20);
    r.restart().await;

    let out = run.delivery.finish().await;
    assert!(out.retried >= 1);
    assert_eq!(out.delivered, expected.len() as u64);
    assert_eq!(out.dead_lettered, 0);
    let got = wait_for(&r, input, expected.len()).await;
    assert_exactly_once(&expected, &got, "gw-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_records_sent_while_the_receiver_is_down_arrive_once_after_it_returns() {
    receiver_restart(Input::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_records_sent_while_the_receiver_is_down_arrive_once_after_it_returns() {
    receiver_restart(Input::Tls).await;
}
