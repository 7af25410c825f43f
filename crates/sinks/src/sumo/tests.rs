#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Sumo encoder on real fixture records and chains, the answer table,
//! the config (the URL never leaks), and the fake's own contract.

use std::time::Duration;

use cairn_testkit::{fixtures, siem::sumo::SumoFake};
use serde_json::{Value, json};

use super::{client::classify, *};
use crate::{
    driver::SinkError,
    item::AuditItem,
    sink::{Encoded, Sink},
    splunk_hec::tests::{chains, item, items},
    testing::{example_sinks, json_line},
};

pub(crate) const TOKEN: &str = "ZaVnC4dhaV1f2xQ9kL3mTz8wQ==";

pub(crate) fn config(url: &str, extra: &str) -> Config {
    toml::from_str(&format!("url = {url:?}\n{extra}")).unwrap()
}

fn line_of(item: &AuditItem) -> (String, Value) {
    let mut out = Vec::new();
    encode::line(item, &mut out).unwrap();
    json_line(out)
}

#[test]
fn a_tool_decision_is_one_json_line_with_the_timestamp_first() {
    let item = item("tool_decision");
    let (text, v) = line_of(&item);
    assert!(
        text.starts_with("{\"timestamp\":\"2026-11-23T18:31:04.424Z\","),
        "{text}"
    );
    assert_eq!(v["event"], "tool_decision");
    assert_eq!(v["action"], "allowed");
    assert_eq!(v["outcome"], "success");
    assert_eq!(v["severity"], "info");
    assert_eq!(v["user"], item.user_id.as_deref().unwrap());
    assert_eq!(v["app"], "claude_code");
    assert_eq!(v["vendor_product"], "Anthropic Claude Code");
    assert_eq!(v["tool"], "Bash");
    assert_eq!(v["record_id"], item.record_id.as_str());
    assert_eq!(v["record_kind"], "event");
    assert_eq!(v["session_id"], item.session_id.as_deref().unwrap());
    assert_eq!(v["prompt_id"], item.prompt_id.as_deref().unwrap());
    assert_eq!(v["tenant"], "acme");
    assert_eq!(v["cost_center"], "eng-123");
    assert_eq!(v["message"], "tool Bash allowed");
    assert!(v.get("src").is_none() && v.get("src_ip").is_none() && v.get("dest").is_none());
    assert_eq!(v["detail"], item.detail);
}

#[test]
fn api_requests_chains_and_hosts() {
    let (_, v) = line_of(&item("api_request"));
    assert_eq!(v["duration"], 0.066);
    assert_eq!(v["model"], "claude-opus-5-5");
    assert_eq!(v["cost_usd"], 0.007376);

    let mut named = item("tool_result");
    named.host = Some("dev-laptop-7".into());
    named.detail["attributes"]["mcp_server_name"] = json!("github");
    let (_, v) = line_of(&named);
    assert_eq!(v["src"], "dev-laptop-7");
    assert!(v.get("src_ip").is_none(), "a host name is not an IP");
    assert_eq!(v["dest"], "github");
    named.host = Some("10.0.0.5".into());
    let (_, v) = line_of(&named);
    assert_eq!(v["src_ip"], "10.0.0.5");

    let chain = &chains()[0];
    let c = AuditItem::from_chain(chain);
    let (text, v) = line_of(&c);
    assert!(text.starts_with(&format!("{{\"timestamp\":\"{}\"", c.rfc3339())));
    assert_eq!(v["event"], "prompt_chain");
    assert_eq!(v["record_kind"], "chain");
    assert_eq!(v["prompt_id"], chain.prompt_id.as_str());
    assert_eq!(v["detail"], chain.to_json());
}

#[test]
fn every_record_is_exactly_one_line() {
    let mut all = items();
    all.extend(chains().iter().map(AuditItem::from_chain));
    for item in &all {
        let (text, v) = line_of(item);
        assert!(text.starts_with("{\"timestamp\":\""), "{text}");
        assert_eq!(v["record_id"], item.record_id.as_str());
    }
}

#[test]
fn the_answer_table() {
    let none = |t: String| t;
    assert_eq!(classify(200, b"", None, none), None);
    let ra = Some(Duration::from_secs(2));
    for s in [408, 429, 503, 504, 500, 502] {
        assert_eq!(
            classify(s, b"busy", ra, none),
            Some(SinkError::Retryable {
                reason: format!("HTTP {s}: busy"),
                retry_after: ra
            }),
            "{s}"
        );
    }
    assert!(matches!(
        classify(413, b"", None, none),
        Some(SinkError::TooLarge { .. })
    ));
    for s in [400, 401, 403, 404] {
        assert!(
            matches!(
                classify(s, b"", None, none),
                Some(SinkError::Permanent { .. })
            ),
            "{s}"
        );
    }
}

#[test]
fn config_checks_never_echo_the_url() {
    let c = config(
        "https://collectors.example/receiver/v1/http/abc",
        "category = \"security/ai/claude\"\n[fields]\nenv = \"prod\"\norg = \"o-1\"",
    );
    c.check().unwrap();
    assert_eq!(c.fields_header().as_deref(), Some("env=prod,org=o-1"));
    assert!(
        config("https://x/y", "[fields]\n\"a,b\" = \"c\"")
            .check()
            .is_err()
    );
    assert!(
        config("https://x/y", "[fields]\na = \"b=c\"")
            .check()
            .is_err()
    );
    assert!(
        config("https://x/y", "category = \"bad\\nline\"")
            .check()
            .is_err()
    );
    assert!(toml::from_str::<Config>("url = \"u\"\ncategori = \"x\"").is_err());
    let err = config(&format!("notaurl{TOKEN}"), "").build().unwrap_err();
    assert!(!err.contains(TOKEN), "{err}");
    let err = config(&format!("ftp://h/{TOKEN}"), "").build().unwrap_err();
    assert!(!err.contains(TOKEN), "{err}");
    let sink = config(&format!("https://h/receiver/v1/http/{TOKEN}"), "")
        .build()
        .unwrap();
    assert!(!format!("{sink:?}").contains(TOKEN));

    let sinks = example_sinks("sink-sumo.toml");
    let sumo = sinks[0].sumo.as_ref().unwrap();
    sumo.check().unwrap();
    assert!(matches!(sumo.url, crate::secret::SecretRef::Env { .. }));
}

/// An unset variable: the error names it (there is no value to leak).
#[test]
fn an_unset_url_variable_is_named() {
    let c: Config = toml::from_str("url = { env = \"CAIRN_TEST_SUMO_URL_SURELY_UNSET\" }").unwrap();
    let err = c.build().unwrap_err();
    assert!(err.contains("CAIRN_TEST_SUMO_URL_SURELY_UNSET"), "{err}");
}

#[tokio::test]
async fn errors_never_carry_the_url() {
    let f = SumoFake::builder().token(TOKEN).start().await;
    let url = f.source_url(TOKEN);
    f.inject(
        0,
        cairn_testkit::siem::Answer::text(401, &format!("unknown source {url}")),
    );
    let sink = config(&url, "").build().unwrap();
    let unit = {
        let mut b = Vec::new();
        sink.encode_item(&item("tool_decision"), &mut b).unwrap();
        Encoded::one(b)
    };
    let err = sink.send(std::slice::from_ref(&unit)).await.unwrap_err();
    assert!(matches!(err, SinkError::Permanent { .. }));
    assert!(!err.reason().contains(TOKEN), "{err:?}");
    assert!(err.reason().contains("[redacted]"), "{err:?}");
    // No answer at all: the transport error is described without the URL.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let closed = config(
        &format!("http://127.0.0.1:{port}/receiver/v1/http/{TOKEN}"),
        "",
    )
    .build()
    .unwrap();
    let err = closed.send(&[unit]).await.unwrap_err();
    assert!(err.is_retryable());
    assert!(!err.reason().contains(TOKEN), "{err:?}");
}

// ---- the fake's own contract ----

async fn post(url: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> u16 {
    let mut req = reqwest::Client::new().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(body).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_fake_routes_by_token_decodes_splits_and_limits() {
    let f = SumoFake::builder()
        .token(TOKEN)
        .auth_header("X-Sumo-Token", "hdr-secret")
        .max_bytes(100)
        .start()
        .await;
    assert_eq!(post(&f.source_url("nope"), &[], "{}").await, 401);
    assert_eq!(
        post(&format!("{}/receiver/v1/http", f.url()), &[], "{}").await,
        401
    );
    assert_eq!(
        post(
            &format!("{}/receiver/v1/http", f.url()),
            &[("x-sumo-token", "hdr-secret")],
            "{\"a\":0}"
        )
        .await,
        200
    );
    let url = f.source_url(TOKEN);
    let headers = [
        ("x-sumo-category", "security/ai"),
        ("x-sumo-name", "cairn"),
        ("x-sumo-host", "gw-1"),
        ("x-sumo-fields", "env=prod"),
        ("content-encoding", "gzip"),
    ];
    let body = fixtures::gzip(b"{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}");
    assert_eq!(post(&url, &headers, body).await, 200);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, b"{\"a\":4}\n").unwrap();
    assert_eq!(
        post(
            &url,
            &[("content-encoding", "deflate")],
            z.finish().unwrap()
        )
        .await,
        200
    );
    assert_eq!(post(&url, &[("content-encoding", "zstd")], "x").await, 415);
    // 101 bytes uncompressed, far fewer gzipped: still over.
    let big = fixtures::gzip(&[b'x'; 101]);
    assert_eq!(post(&url, &[("content-encoding", "gzip")], big).await, 413);
    let r = f.received();
    assert_eq!(r.len(), 3);
    assert_eq!(r[1].category.as_deref(), Some("security/ai"));
    assert_eq!(r[1].name.as_deref(), Some("cairn"));
    assert_eq!(r[1].host.as_deref(), Some("gw-1"));
    assert_eq!(r[1].fields.as_deref(), Some("env=prod"));
    assert_eq!(r[1].lines, vec!["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]);
    assert_eq!(r[2].category, None);
    let a: Vec<i64> = f
        .records()
        .iter()
        .map(|v| v["a"].as_i64().unwrap())
        .collect();
    assert_eq!(a, vec![0, 1, 2, 3, 4]);

    let f = SumoFake::builder()
        .token(TOKEN)
        .max_bytes(10)
        .over_limit_status(400)
        .start()
        .await;
    assert_eq!(post(&f.source_url(TOKEN), &[], "x".repeat(11)).await, 400);
}
