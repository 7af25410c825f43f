#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The fake HEC's own contract (§2): token forms and their exact codes,
//! strict concatenated-envelope parsing with the valid prefix kept, size
//! and encodings, channels, ackIds, `/ack` and `/health`.

use cairn_testkit::{fixtures, siem::splunk_hec::SplunkFake};
use serde_json::{Value, json};

pub(super) async fn post(
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{url}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub(super) const EV: &str = "/services/collector/event";
pub(super) const AUTH: (&str, &str) = ("authorization", "Splunk tok-1");

#[tokio::test]
async fn the_fake_checks_the_token_like_hec() {
    let f = SplunkFake::builder()
        .token("tok-1")
        .disabled_token("old")
        .start()
        .await;
    let u = f.url();
    let body = r#"{"event":"x"}"#;
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, u16, Value);
    let cases: [Case; 6] = [
        (&[], EV, 401, json!({"text":"Token is required","code":2})),
        (
            &[("authorization", "Bearer tok-1")],
            EV,
            401,
            json!({"text":"Invalid authorization","code":3}),
        ),
        (
            &[("authorization", "Splunk nope")],
            EV,
            403,
            json!({"text":"Invalid token","code":4}),
        ),
        (
            &[("authorization", "Splunk old")],
            EV,
            403,
            json!({"text":"Token disabled","code":1}),
        ),
        (
            &[],
            "/services/collector/event?token=tok-1",
            400,
            json!({"text":"Query string authorization is not enabled","code":16}),
        ),
        (
            &[("authorization", "Basic dXNlcjp0b2stMQ==")],
            EV,
            200,
            json!({"text":"Success","code":0}),
        ),
    ];
    for (headers, path, status, want) in cases {
        assert_eq!(
            post(&u, path, headers, body).await,
            (status, want),
            "{headers:?} {path}"
        );
    }
    assert_eq!(f.events().len(), 1, "only the Basic-auth request indexed");
}

#[tokio::test]
async fn the_fake_parses_concatenated_envelopes_strictly_and_keeps_the_valid_prefix() {
    let f = SplunkFake::builder()
        .token("tok-1")
        .index("main")
        .start()
        .await;
    let u = f.url();
    let ok = "{\"event\":{\"a\":1}}\n{\"time\":\"1700000000.5\",\"event\":\"b\"}{\"event\":\"c\",\"fields\":{\"k\":[\"x\",\"y\"]}}";
    assert_eq!(
        post(&u, EV, &[AUTH], ok).await,
        (200, json!({"text":"Success","code":0}))
    );
    assert_eq!(f.events().len(), 3);
    let cases = [
        (
            "[{\"event\":\"a\"}]",
            json!({"text":"Invalid data format","code":6,"invalid-event-number":0}),
            0,
        ),
        (
            "{\"event\":\"a\"},{\"event\":\"b\"}",
            json!({"text":"Invalid data format","code":6,"invalid-event-number":1}),
            1,
        ),
        (
            "{\"event\":\"a\"} {\"time\":1}",
            json!({"text":"Event field is required","code":12,"invalid-event-number":1}),
            1,
        ),
        (
            "{\"event\":\"  \"}",
            json!({"text":"Event field cannot be blank","code":13,"invalid-event-number":0}),
            0,
        ),
        (
            "{\"event\":\"a\"}{\"event\":\"b\",\"fields\":{\"n\":{\"deep\":1}}}",
            json!({"text":"Error in handling indexed fields","code":15,"invalid-event-number":1}),
            1,
        ),
        (
            "{\"event\":\"a\",\"time\":\"soon\"}",
            json!({"text":"Invalid data format","code":6,"invalid-event-number":0}),
            0,
        ),
    ];
    for (body, want, kept) in cases {
        let before = f.events().len();
        assert_eq!(post(&u, EV, &[AUTH], body).await, (400, want), "{body}");
        assert_eq!(f.events().len() - before, kept, "{body}");
    }
    assert_eq!(
        post(&u, EV, &[AUTH], "{\"event\":\"a\",\"index\":\"secret\"}").await,
        (400, json!({"text":"Incorrect index","code":7}))
    );
    assert_eq!(
        post(&u, EV, &[AUTH], " \n").await,
        (400, json!({"text":"No data","code":5}))
    );
}

#[tokio::test]
async fn the_fake_enforces_size_and_encodings() {
    let f = SplunkFake::builder()
        .token("tok-1")
        .max_content_length(100)
        .start()
        .await;
    let u = f.url();
    let big = format!("{{\"event\":\"{}\"}}", "x".repeat(200));
    // Measured decoded: a gzip body well under 100 bytes still counts as 212.
    let gz = fixtures::gzip(big.as_bytes());
    assert!(gz.len() < 100);
    let (status, _) = post(&u, EV, &[AUTH, ("content-encoding", "gzip")], gz).await;
    assert_eq!(status, 413);
    let small = fixtures::gzip(b"{\"event\":\"x\"}");
    assert_eq!(
        post(&u, EV, &[AUTH, ("content-encoding", "gzip")], small)
            .await
            .0,
        200
    );
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, b"{\"event\":\"x\"}").unwrap();
    let deflated = z.finish().unwrap();
    let (status, _) = post(
        &u,
        EV,
        &[AUTH, ("content-encoding", "deflate")],
        deflated.clone(),
    )
    .await;
    assert_eq!(status, 415);
    let f2 = SplunkFake::builder()
        .token("tok-1")
        .accept_deflate()
        .start()
        .await;
    let (status, _) = post(
        &f2.url(),
        EV,
        &[AUTH, ("content-encoding", "deflate")],
        deflated,
    )
    .await;
    assert_eq!(status, 200, "deflate → 415 is configurable");
}

#[tokio::test]
async fn the_fake_implements_channels_ack_ids_and_health() {
    let f = SplunkFake::builder()
        .token("tok-1")
        .ack()
        .ack_false_times(1)
        .health(18)
        .start()
        .await;
    let u = f.url();
    let ch = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let chh = ("x-splunk-request-channel", ch);
    let e = "{\"event\":\"x\"}";
    assert_eq!(
        post(&u, EV, &[AUTH], e).await,
        (400, json!({"text":"Data channel is missing","code":10}))
    );
    assert_eq!(
        post(&u, EV, &[AUTH, ("x-splunk-request-channel", "nope")], e).await,
        (400, json!({"text":"Invalid data channel","code":11}))
    );
    assert_eq!(
        post(&u, EV, &[AUTH, chh], e).await,
        (200, json!({"text":"Success","code":0,"ackId":0}))
    );
    let q = format!("{EV}?channel={ch}");
    assert_eq!(
        post(&u, &q, &[AUTH], e).await,
        (200, json!({"text":"Success","code":0,"ackId":1}))
    );
    let ack = "/services/collector/ack";
    let poll_headers = [AUTH, chh];
    let poll = || post(&u, ack, &poll_headers, r#"{"acks":[0,1,5]}"#);
    assert_eq!(
        poll().await,
        (200, json!({"acks":{"0":false,"1":false,"5":false}}))
    );
    assert_eq!(
        poll().await,
        (200, json!({"acks":{"0":true,"1":true,"5":false}}))
    );
    assert_eq!(
        poll().await.1,
        json!({"acks":{"0":false,"1":false,"5":false}}),
        "a true ack is forgotten"
    );
    let no_ack = SplunkFake::builder().token("tok-1").start().await;
    assert_eq!(
        post(&no_ack.url(), ack, &[AUTH, chh], r#"{"acks":[0]}"#).await,
        (400, json!({"text":"ACK is disabled","code":14}))
    );

    let get = |url: String, auth: Option<&'static str>| async move {
        let mut r = reqwest::Client::new().get(url);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        let resp = r.send().await.unwrap();
        let s = resp.status().as_u16();
        (s, resp.json::<Value>().await.unwrap())
    };
    let health = |base: &str| format!("{base}/services/collector/health");
    assert_eq!(
        get(health(&u), None).await,
        (
            503,
            json!({"text":"HEC is unhealthy, queues are full","code":18})
        )
    );
    assert_eq!(
        get(health(&no_ack.url()), None).await,
        (200, json!({"text":"HEC is healthy","code":17}))
    );
    assert_eq!(
        get(health(&no_ack.url()), Some("Splunk bad")).await,
        (400, json!({"text":"Invalid token","code":21}))
    );
}
