//! The Entra ID access token for the Logs Ingestion API: fetched with the
//! client-credentials grant, cached, and refreshed before it expires.
//!
//! One token serves every concurrent request. The cache sits behind a tokio
//! mutex held across the token request, so when it needs refreshing the
//! first sender fetches and the others wait for that one fetch and reuse
//! its result (never a burst of token requests). A token is refreshed once
//! less than `max(5 min, 10 % of its lifetime)` remains, capped at half its
//! lifetime so a short-lived token is still reused for a while; expiry is
//! counted from when the token was *requested*, so cairn's idea of it is
//! never later than Entra's. If a refresh fails while the old token still
//! has at least half its margin left, the old token is used instead of
//! failing the send. A token cairn was told is bad (401 from ingestion) is
//! dropped by [`TokenSource::invalidate`], only if no other sender replaced
//! it already.

use std::sync::Arc;

use cairn_core::clock::Clock;
use http::HeaderValue;
use serde_json::Value;

use crate::{
    driver::{SinkError, error::retry_after_seconds},
    http::{snippet, transport_error},
    secret::Secret,
};

const NANOS: u64 = 1_000_000_000;
/// Refresh when less than this remains (or 10 % of the lifetime, if more).
const MIN_MARGIN: u64 = 300 * NANOS;
/// Lifetime assumed when the answer has no usable `expires_in`.
const DEFAULT_LIFETIME: u64 = 600 * NANOS;

/// A token to send, and which fetch it came from.
pub(crate) struct Bearer {
    /// `Bearer <token>`, marked sensitive.
    pub header: HeaderValue,
    /// The fetch it came from, for [`TokenSource::invalidate`].
    pub generation: u64,
}

struct Cached {
    header: HeaderValue,
    generation: u64,
    refresh_at: u64,
    usable_until: u64,
}

impl Cached {
    fn bearer(&self) -> Bearer {
        Bearer {
            header: self.header.clone(),
            generation: self.generation,
        }
    }
}

#[derive(Default)]
struct Cache {
    token: Option<Cached>,
    generation: u64,
    fetched: u64,
}

/// Where and how to get tokens.
pub(crate) struct TokenSource {
    http: reqwest::Client,
    url: String,
    form: Vec<(&'static str, String)>,
    secret: Secret,
    clock: Arc<dyn Clock>,
    cache: tokio::sync::Mutex<Cache>,
}

/// When to refresh and until when the token may still be used, for a token
/// requested at `start` (Unix ns) that lives `lifetime` ns.
fn schedule(start: u64, lifetime: u64) -> (u64, u64) {
    let margin = MIN_MARGIN.max(lifetime / 10).min(lifetime / 2);
    let expires = start.saturating_add(lifetime);
    (expires - margin, expires - margin / 2)
}

fn expires_in(body: &Value) -> Option<u64> {
    let v = body.get("expires_in")?;
    let secs = v
        .as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))?;
    Some(secs.saturating_mul(NANOS)).filter(|n| *n > 0)
}

impl TokenSource {
    /// A source posting the client-credentials form to `url`.
    pub(crate) fn new(
        http: reqwest::Client,
        url: String,
        client_id: String,
        secret: Secret,
        scope: String,
        clock: Arc<dyn Clock>,
    ) -> TokenSource {
        TokenSource {
            http,
            url,
            form: vec![
                ("client_id", client_id),
                ("grant_type", "client_credentials".into()),
                ("scope", scope),
            ],
            secret,
            clock,
            cache: tokio::sync::Mutex::default(),
        }
    }

    /// Replaces the clock (tests move time instead of waiting).
    pub(crate) fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    /// Tokens fetched so far.
    pub(crate) async fn fetched(&self) -> u64 {
        self.cache.lock().await.fetched
    }

    /// A token that is not due for refresh, fetching one if needed.
    pub(crate) async fn bearer(&self) -> Result<Bearer, SinkError> {
        let mut cache = self.cache.lock().await;
        let now = self.clock.now_unix_nano();
        if let Some(t) = &cache.token
            && now < t.refresh_at
        {
            return Ok(t.bearer());
        }
        match self.fetch(now).await {
            Ok((header, lifetime)) => {
                cache.generation += 1;
                cache.fetched += 1;
                let (refresh_at, usable_until) = schedule(now, lifetime);
                let fresh = Cached {
                    header,
                    generation: cache.generation,
                    refresh_at,
                    usable_until,
                };
                let bearer = fresh.bearer();
                cache.token = Some(fresh);
                Ok(bearer)
            }
            Err(e) => match &cache.token {
                Some(old) if now < old.usable_until => {
                    tracing::warn!(reason = %e.reason(), "token refresh failed; using the current token until it nears expiry");
                    Ok(old.bearer())
                }
                _ => Err(e),
            },
        }
    }

    /// Drops the cached token if it is still the one from `generation`.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut cache = self.cache.lock().await;
        if cache
            .token
            .as_ref()
            .is_some_and(|t| t.generation == generation)
        {
            cache.token = None;
        }
    }

    /// One token request: the `Authorization` value and the lifetime (ns).
    async fn fetch(&self, now: u64) -> Result<(HeaderValue, u64), SinkError> {
        let mut form: Vec<(&str, &str)> = self.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("client_secret", self.secret.expose()));
        let resp = self
            .http
            .post(&self.url)
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                let e = transport_error(e);
                SinkError::transport(format!("token request: {}", e.reason()))
            })?;
        let status = resp.status();
        let retry_after = retry_after_seconds(resp.headers().get(http::header::RETRY_AFTER));
        let body = resp.bytes().await.map_err(|e| {
            SinkError::transport(format!("token request: {}", transport_error(e).reason()))
        })?;
        if !status.is_success() {
            let reason = format!(
                "token request refused: HTTP {}{}",
                status.as_u16(),
                self.entra_reason(&body)
            );
            return Err(match status.as_u16() {
                408 | 429 | 500..=599 => SinkError::Retryable {
                    reason,
                    retry_after,
                },
                _ => SinkError::Permanent { reason },
            });
        }
        let unusable = |why: &str| SinkError::Permanent {
            reason: format!("token endpoint answered HTTP {} {why}", status.as_u16()),
        };
        let json: Value =
            serde_json::from_slice(&body).map_err(|_| unusable("with a body that is not JSON"))?;
        let token = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unusable("without access_token"))?;
        let kind = json.get("token_type").and_then(Value::as_str);
        if kind.is_some_and(|k| !k.eq_ignore_ascii_case("bearer")) {
            return Err(unusable("with a token_type other than Bearer"));
        }
        let mut header = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| unusable("with a token that cannot be sent in a header"))?;
        header.set_sensitive(true);
        let lifetime = expires_in(&json).unwrap_or(DEFAULT_LIFETIME);
        tracing::debug!(
            lifetime_secs = lifetime / NANOS,
            at = now,
            "fetched an access token"
        );
        Ok((header, lifetime))
    }

    /// ` invalid_client (AADSTS7000215: …)` from an Entra error body, with
    /// the secret scrubbed should the description ever quote it.
    fn entra_reason(&self, body: &[u8]) -> String {
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            return String::new();
        };
        let code = json.get("error").and_then(Value::as_str).unwrap_or("");
        let desc = json
            .get("error_description")
            .and_then(Value::as_str)
            .map(|d| d.split(" Trace ID:").next().unwrap_or(d))
            .map(|d| snippet(d.replace(self.secret.expose(), "[secret]").as_bytes(), 200))
            .unwrap_or_default();
        match (code.is_empty(), desc.is_empty()) {
            (true, true) => String::new(),
            (false, true) => format!(" {code}"),
            (_, false) => format!(" {code} ({desc})"),
        }
    }
}

/// The refresh rule, for the tests.
#[cfg(test)]
pub(crate) fn refresh_schedule(start: u64, lifetime: std::time::Duration) -> (u64, u64) {
    schedule(
        start,
        u64::try_from(lifetime.as_nanos()).unwrap_or(u64::MAX),
    )
}
