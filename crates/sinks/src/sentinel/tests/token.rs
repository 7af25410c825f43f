//! The token cache against the fake, on a clock the test moves (shared by
//! the sink and the fake, so tokens really expire in the fake): one token
//! for many sends, one refresh for many concurrent senders, refreshed
//! before expiry, never sent expired, a failed refresh riding on a token
//! that is still valid.

use std::time::Duration;

use cairn_core::clock::ManualClock;

use super::*;

const MIN: u64 = 60 * 1_000_000_000;
const T0: u64 = 1_795_458_664_000_000_000;

async fn clocked(lifetime_secs: u64) -> (SentinelFake, Sentinel, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let fake = SentinelFake::builder()
        .token_lifetime(lifetime_secs)
        .clock(clock.clone())
        .start()
        .await;
    let sink = sink(&fake).with_clock(clock.clone());
    (fake, sink, clock)
}

fn bearers(fake: &SentinelFake) -> Vec<String> {
    fake.server()
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/dataCollectionRules/"))
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_refresh_rule() {
    let at =
        |lifetime: u64| super::super::token::refresh_schedule(0, Duration::from_secs(lifetime));
    // An hour-long token: 10 % (6 min) is more than 5 min.
    assert_eq!(at(3600), (54 * MIN, 57 * MIN));
    // Twenty minutes: 5 min is more than 10 %.
    assert_eq!(at(1200), (15 * MIN, 15 * MIN + 150_000_000_000));
    // Two seconds: the margin is capped at half the lifetime.
    assert_eq!(at(2), (1_000_000_000, 1_500_000_000));
}

#[tokio::test]
async fn one_token_serves_many_concurrent_sends() {
    let (fake, sink, _clock) = clocked(3599).await;
    let items = items(1);
    let batches: Vec<Vec<Encoded>> = items.chunks(1).map(|c| units(&sink, c)).collect();
    let sends = batches.iter().map(|b| sink.send(b));
    for r in futures::future::join_all(sends).await {
        r.unwrap();
    }
    assert_eq!(fake.tokens_issued(), 1);
    assert_eq!(
        fake.token_requests(),
        1,
        "concurrent senders waited for one fetch"
    );
    assert_eq!(sink.tokens_fetched().await, 1);
    assert_eq!(fake.rows().len(), 21);
    assert_eq!(fake.answered(204), 21);
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires_as_time_passes() {
    let (fake, sink, clock) = clocked(3600).await;
    let batch = units(&sink, &items(1)[..1]);
    // 35 sends 7 minutes apart: almost four hours, four token lifetimes.
    for _ in 0..35 {
        sink.send(&batch).await.unwrap();
        clock.advance(7 * MIN);
    }
    // Fetched at 0, 56, 112, 168 and 224 min: each the first send at or past
    // 54 min into the previous token's life.
    assert_eq!(fake.tokens_issued(), 5);
    assert_eq!(fake.answered(401), 0);
    assert_eq!(fake.answered(204), 35);
    let least = fake.min_token_remaining().unwrap();
    assert_eq!(
        least,
        Duration::from_secs(11 * 60),
        "last use at 49 of 60 min"
    );
}

#[tokio::test]
async fn concurrent_senders_share_one_refresh() {
    let (fake, sink, clock) = clocked(3600).await;
    let items = items(1);
    sink.send(&units(&sink, &items[..1])).await.unwrap();
    // Inside the refresh margin: the old token is still valid at the fake.
    clock.advance(55 * MIN);
    let batches: Vec<Vec<Encoded>> = items[1..17].chunks(1).map(|c| units(&sink, c)).collect();
    let sends = batches.iter().map(|b| sink.send(b));
    for r in futures::future::join_all(sends).await {
        r.unwrap();
    }
    assert_eq!(fake.tokens_issued(), 2);
    let seen = bearers(&fake);
    assert_eq!(seen.len(), 17);
    assert!(
        seen[1..].iter().all(|b| *b == seen[1]),
        "one new token for all"
    );
    assert_ne!(seen[0], seen[1], "refreshed although the old one was valid");
    assert!(fake.min_token_remaining().unwrap() >= Duration::from_secs(59 * 60));
}

#[tokio::test]
async fn a_token_past_its_expiry_is_never_sent() {
    let (fake, sink, clock) = clocked(3600).await;
    let batch = units(&sink, &items(1)[..1]);
    sink.send(&batch).await.unwrap();
    clock.advance(3 * 60 * MIN);
    sink.send(&batch).await.unwrap();
    assert_eq!(fake.tokens_issued(), 2);
    assert_eq!(fake.answered(401), 0);
    let seen = bearers(&fake);
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn a_failed_refresh_rides_on_a_token_that_is_still_valid() {
    let (fake, sink, clock) = clocked(3600).await;
    let batch = units(&sink, &items(1)[..1]);
    let server = fake.server();
    sink.send(&batch).await.unwrap(); // requests 0 (token) and 1
    clock.advance(55 * MIN);
    server.inject(2, Answer::text(503, "down"));
    sink.send(&batch).await.unwrap(); // 2 (503) and 3, with the old token
    assert_eq!(fake.tokens_issued(), 1);
    // Past half the margin (57 min): no longer used without a refresh.
    clock.advance(3 * MIN);
    server.inject(4, Answer::text(503, "down"));
    let err = sink.send(&batch).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "retryable: token request refused: HTTP 503"
    );
    sink.send(&batch).await.unwrap(); // 5 (token) and 6
    assert_eq!(fake.tokens_issued(), 2);
    assert_eq!(fake.answered(204), 3);
    assert_eq!(fake.answered(401), 0);
    assert_eq!(server.requests().len(), 7);
}
