//! The fake's own contract behaviour, spoken to with a plain HTTP client:
//! the token endpoint's checks and answers, and ingestion's path, version,
//! bearer, size (on the wire and after gunzip), body and `TimeGenerated`
//! checks, each with the exact status and error code.

use cairn_core::clock::ManualClock;

use super::*;

async fn token(fake: &SentinelFake, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/{}/oauth2/v2.0/token", fake.url(), fake::TENANT))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn good_form<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", fake::CLIENT_ID),
        ("client_secret", fake::CLIENT_SECRET),
        ("grant_type", "client_credentials"),
        ("scope", fake::SCOPE),
    ]
}

async fn issue(fake: &SentinelFake) -> String {
    let (status, body) = token(fake, &good_form()).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

struct Post<'a> {
    path: String,
    query: &'a str,
    auth: Option<String>,
    gzip: bool,
    body: Vec<u8>,
}

impl<'a> Post<'a> {
    fn rows(token: &str, body: Vec<u8>) -> Post<'a> {
        Post {
            path: format!(
                "/dataCollectionRules/{}/streams/{}",
                fake::DCR,
                fake::STREAM
            ),
            query: "api-version=2023-01-01",
            auth: Some(format!("Bearer {token}")),
            gzip: false,
            body,
        }
    }

    async fn send(self, fake: &SentinelFake) -> (u16, String) {
        let mut req = reqwest::Client::new()
            .post(format!("{}{}?{}", fake.url(), self.path, self.query))
            .header("content-type", "application/json");
        if let Some(a) = self.auth {
            req = req.header("authorization", a);
        }
        let body = if self.gzip {
            req = req.header("content-encoding", "gzip");
            cairn_testkit::fixtures::gzip(&self.body)
        } else {
            self.body
        };
        let resp = req.body(body).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

fn code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap();
    v["error"]["code"].as_str().unwrap().to_owned()
}

const ROW: &str = r#"[{"TimeGenerated":"2026-01-05T10:00:00.123Z","RecordId":"r1"}]"#;

#[tokio::test]
async fn the_token_endpoint_checks_client_credentials() {
    let fake = SentinelFake::builder().token_lifetime(120).start().await;
    let (status, body) = token(&fake, &good_form()).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert!(body["access_token"].as_str().unwrap().len() > 10);
    let with = |k: &'static str, v: &'static str| {
        let mut f = good_form();
        f.retain(|(key, _)| *key != k);
        if !v.is_empty() {
            f.push((k, v));
        }
        f
    };
    let cases = [
        (
            with("client_secret", "nope"),
            401,
            "invalid_client",
            7000215,
        ),
        (with("client_secret", ""), 401, "invalid_client", 7000215),
        (
            with("client_id", "11111111-1111-1111-1111-111111111111"),
            400,
            "unauthorized_client",
            700016,
        ),
        (
            with("scope", "https://monitor.azure.com/.default"),
            400,
            "invalid_scope",
            1002012,
        ),
        (
            with("grant_type", "password"),
            400,
            "unsupported_grant_type",
            70003,
        ),
        (with("grant_type", ""), 400, "invalid_request", 900144),
    ];
    for (form, want, error, aadsts) in cases {
        let (status, body) = token(&fake, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (want, Some(error)),
            "{body}"
        );
        assert_eq!(body["error_codes"][0], aadsts);
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("AADSTS{aadsts}:"))
        );
    }
    // Another tenant, and JSON instead of a form.
    let resp = reqwest::Client::new()
        .post(format!("{}/other-tenant/oauth2/v2.0/token", fake.url()))
        .form(&good_form())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = reqwest::Client::new()
        .post(format!("{}/{}/oauth2/v2.0/token", fake.url(), fake::TENANT))
        .json(&json!({"client_id": fake::CLIENT_ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!((fake.tokens_issued(), fake.token_requests()), (1, 9));
}

#[tokio::test]
async fn ingestion_checks_path_version_and_bearer() {
    let clock = Arc::new(ManualClock::new(1_795_458_664_000_000_000));
    let fake = SentinelFake::builder()
        .token_lifetime(60)
        .clock(clock.clone())
        .start()
        .await;
    let t = issue(&fake).await;
    let ok = Post::rows(&t, ROW.into()).send(&fake).await;
    assert_eq!(ok, (204, String::new()), "204 with no body");
    let mut p = Post::rows(&t, ROW.into());
    p.query = "";
    let (s, b) = p.send(&fake).await;
    assert_eq!((s, code(&b)), (400, "MissingApiVersionParameter".into()));
    let mut p = Post::rows(&t, ROW.into());
    p.query = "api-version=2021-11-01-preview";
    let (s, b) = p.send(&fake).await;
    assert_eq!((s, code(&b)), (400, "InvalidApiVersionParameter".into()));
    for auth in [
        None,
        Some(format!("bearer {t}")),
        Some(t.clone()),
        Some("Bearer forged".into()),
    ] {
        let mut p = Post::rows(&t, ROW.into());
        p.auth = auth.clone();
        let (s, b) = p.send(&fake).await;
        assert_eq!(
            (s, code(&b)),
            (401, "InvalidAuthenticationToken".into()),
            "{auth:?}"
        );
    }
    let mut p = Post::rows(&t, ROW.into());
    p.path = format!(
        "/dataCollectionRules/dcr-ffffffffffffffffffffffffffffffff/streams/{}",
        fake::STREAM
    );
    assert_eq!(p.send(&fake).await.0, 404);
    let mut p = Post::rows(&t, ROW.into());
    p.path = format!("/dataCollectionRules/{}/streams/Custom-Other_CL", fake::DCR);
    assert_eq!(p.send(&fake).await.0, 404);
    let mut p = Post::rows(&t, ROW.into());
    p.path = format!("/dataCollectionRules/{}/streams", fake::DCR);
    assert_eq!(p.send(&fake).await.0, 404);
    fake.set_forbidden(true);
    let (s, b) = Post::rows(&t, ROW.into()).send(&fake).await;
    assert_eq!((s, code(&b)), (403, "OperationFailed".into()));
    fake.set_forbidden(false);
    // Tokens really expire on the fake's clock.
    clock.advance(60_000_000_000);
    let (s, b) = Post::rows(&t, ROW.into()).send(&fake).await;
    assert_eq!((s, code(&b)), (401, "ExpiredAuthenticationToken".into()));
    assert_eq!(fake.rows().len(), 1);
}

#[tokio::test]
async fn ingestion_limits_one_call_to_a_million_bytes_on_the_wire_and_unzipped() {
    let fake = SentinelFake::builder().start().await;
    let t = issue(&fake).await;
    // A body of exactly `len` bytes: one row padded with a long string.
    let sized = |len: usize| {
        let head = r#"[{"TimeGenerated":"2026-01-05T10:00:00.123Z","Pad":""#;
        let tail = r#""}]"#;
        let pad = "a".repeat(len - head.len() - tail.len());
        format!("{head}{pad}{tail}").into_bytes()
    };
    let (s, _) = Post::rows(&t, sized(1_000_000)).send(&fake).await;
    assert_eq!(s, 204, "exactly 1,000,000 bytes is allowed");
    let (s, b) = Post::rows(&t, sized(1_000_001)).send(&fake).await;
    assert_eq!((s, code(&b)), (413, "ContentLengthLimitExceeded".into()));
    // Tiny when gzipped, too large unzipped.
    let mut p = Post::rows(&t, sized(1_000_001));
    p.gzip = true;
    let (s, b) = p.send(&fake).await;
    assert_eq!((s, code(&b)), (413, "ContentLengthLimitExceeded".into()));
    let mut p = Post::rows(&t, sized(999_000));
    p.gzip = true;
    assert_eq!(p.send(&fake).await.0, 204);
    assert_eq!(fake.rows().len(), 2);
}

#[tokio::test]
async fn ingestion_takes_only_a_json_array_of_rows_with_time_generated() {
    let fake = SentinelFake::builder().start().await;
    let t = issue(&fake).await;
    let bodies: [(&str, &str); 5] = [
        (
            r#"{"TimeGenerated":"2026-01-05T10:00:00Z"}"#,
            "InvalidPayload",
        ),
        ("not json", "InvalidPayload"),
        ("[1]", "InvalidPayload"),
        (r#"[{"RecordId":"r1"}]"#, "InvalidTimeGenerated"),
        (r#"[{"TimeGenerated":"yesterday"}]"#, "InvalidTimeGenerated"),
    ];
    for (body, want) in bodies {
        let (s, b) = Post::rows(&t, body.into()).send(&fake).await;
        assert_eq!((s, code(&b)), (400, want.into()), "{body}");
    }
    assert!(fake.rows().is_empty());
    // A DCR with a transform that sets TimeGenerated takes rows without it.
    let lenient = SentinelFake::builder()
        .rule(fake::DCR, "Custom-CairnAudit")
        .start()
        .await;
    let t = issue(&lenient).await;
    let mut p = Post::rows(&t, br#"[{"RecordId":"r1"}]"#.to_vec());
    p.path = format!(
        "/dataCollectionRules/{}/streams/Custom-CairnAudit",
        fake::DCR
    );
    assert_eq!(p.send(&lenient).await.0, 204);
    assert_eq!(lenient.record_ids(), vec!["r1"]);
}
