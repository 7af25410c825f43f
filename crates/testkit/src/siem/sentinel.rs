//! A fake of Microsoft Sentinel's intake: the Azure Monitor Logs Ingestion
//! API and the Entra ID token endpoint in front of it (contract §6), on one
//! loopback port, so a sink's `authority` and `endpoint` can both point here.
//!
//! Token endpoint (`POST /{tenant}/oauth2/v2.0/token`, form-encoded client
//! credentials): checks tenant, client id, secret, grant type and scope, and
//! issues opaque bearer tokens with a configurable lifetime that really
//! expire on the fake's clock (injectable, so a test can move time instead
//! of waiting). Entra's error form is `{"error":…,"error_description":
//! "AADSTS…",…}`; the AADSTS codes used are the well-known ones for each
//! case (the contract does not list them).
//!
//! Ingestion (`POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=
//! 2023-01-01`): checks path shape, api-version, the exact `Bearer <token>`
//! form and the token's expiry (401), the DCR and stream (404), the role
//! (403 when told), the 1,000,000-byte limit on the bytes received and again
//! after gunzip (413), `Content-Type: application/json`, a JSON array of
//! objects (400), and `TimeGenerated` on every row when the stream is a
//! `_CL` table without a transform (400). Success is `204` with no body.
//! Errors are `{"error":{"code":…,"message":…}}`. Answers can be scripted by
//! ingestion index (ahead of the contract logic), and everything accepted,
//! refused and issued is counted for the test to assert on.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use cairn_core::clock::{Clock, SystemClock};
use serde_json::{Value, json};

use super::{Answer, FakeServer, Handler, Request};

/// The only api-version the contract names.
pub const API_VERSION: &str = "2023-01-01";
/// One API call's limit, compressed or not (the 1,000,000-byte reading).
pub const MAX_BYTES: usize = 1_000_000;
/// The scope the Logs Ingestion API takes (double slash included).
pub const SCOPE: &str = "https://monitor.azure.com//.default";
/// Default tenant of the fake.
pub const TENANT: &str = "8a5f1c2e-0d4b-4e6f-9a7b-1c2d3e4f5a6b";
/// Default application (client) id of the fake.
pub const CLIENT_ID: &str = "3c9d2b1a-7e6f-4a5b-8c9d-0e1f2a3b4c5d";
/// Default client secret of the fake.
pub const CLIENT_SECRET: &str = "fake~client~secret~value";
/// Default DCR immutable id of the fake.
pub const DCR: &str = "dcr-00112233445566778899aabbccddeeff";
/// Default stream: a custom `_CL` table without a transform.
pub const STREAM: &str = "Custom-CairnAudit_CL";

/// How one ingestion request was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingest {
    /// Its index among ingestion requests (token requests not counted).
    pub index: usize,
    /// The status answered (0: the connection was dropped).
    pub status: u16,
    /// How long the bearer token it carried still had to live, when it
    /// carried one the fake issued.
    pub token_remaining: Option<Duration>,
    /// Rows accepted (0 unless 204).
    pub rows: usize,
    /// When it arrived.
    pub at: std::time::Instant,
}

struct Settings {
    tenant: String,
    client_id: String,
    client_secret: String,
    scope: String,
    dcr: String,
    stream: String,
    lifetime_secs: u64,
    max_bytes: usize,
    require_time_generated: bool,
    max_time_spread: Option<Duration>,
}

struct State {
    settings: Settings,
    clock: Arc<dyn Clock>,
    /// Token → expiry (Unix nanoseconds on the fake's clock).
    tokens: Mutex<HashMap<String, u64>>,
    token_requests: AtomicUsize,
    tokens_issued: AtomicUsize,
    ingests: Mutex<Vec<Ingest>>,
    next_ingest: AtomicUsize,
    scripted: Mutex<HashMap<usize, Answer>>,
    rows: Mutex<Vec<Value>>,
    forbidden: AtomicBool,
}

/// Builds a [`SentinelFake`].
pub struct SentinelFakeBuilder {
    settings: Settings,
    require_time_generated: Option<bool>,
    clock: Arc<dyn Clock>,
}

impl SentinelFakeBuilder {
    /// The tenant the token endpoint serves.
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.settings.tenant = tenant.into();
        self
    }

    /// The one registered application and its secret.
    pub fn client(mut self, id: &str, secret: &str) -> Self {
        self.settings.client_id = id.into();
        self.settings.client_secret = secret.into();
        self
    }

    /// The scope the token endpoint accepts.
    pub fn scope(mut self, scope: &str) -> Self {
        self.settings.scope = scope.into();
        self
    }

    /// The DCR immutable id and input stream ingestion accepts.
    pub fn rule(mut self, dcr: &str, stream: &str) -> Self {
        self.settings.dcr = dcr.into();
        self.settings.stream = stream.into();
        self
    }

    /// Lifetime of issued tokens, in seconds (`expires_in`; default 3599).
    pub fn token_lifetime(mut self, secs: u64) -> Self {
        self.settings.lifetime_secs = secs;
        self
    }

    /// The per-call byte limit (default [`MAX_BYTES`]).
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.settings.max_bytes = n;
        self
    }

    /// Whether every row needs `TimeGenerated` (default: when the stream
    /// names a `_CL` table, as a DCR without a transform does).
    pub fn require_time_generated(mut self, yes: bool) -> Self {
        self.require_time_generated = Some(yes);
        self
    }

    /// Refuse a call whose `TimeGenerated` values span `spread` or more
    /// (400 `RecordsTimeRangeIsMoreThan30Minutes`), as Auxiliary-plan
    /// tables without a transform do with 30 minutes (default: no limit).
    pub fn max_time_spread(mut self, spread: Duration) -> Self {
        self.settings.max_time_spread = Some(spread);
        self
    }

    /// The clock tokens expire on (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Starts the fake on 127.0.0.1.
    pub async fn start(self) -> SentinelFake {
        let mut settings = self.settings;
        settings.require_time_generated = self
            .require_time_generated
            .unwrap_or_else(|| settings.stream.ends_with("_CL"));
        let state = Arc::new(State {
            settings,
            clock: self.clock,
            tokens: Mutex::default(),
            token_requests: AtomicUsize::new(0),
            tokens_issued: AtomicUsize::new(0),
            ingests: Mutex::default(),
            next_ingest: AtomicUsize::new(0),
            scripted: Mutex::default(),
            rows: Mutex::default(),
            forbidden: AtomicBool::new(false),
        });
        let server = FakeServer::start(Logic(Arc::clone(&state))).await;
        SentinelFake { server, state }
    }
}

/// The running fake.
pub struct SentinelFake {
    server: FakeServer,
    state: Arc<State>,
}

impl SentinelFake {
    /// A builder with the default tenant, client, DCR and stream.
    pub fn builder() -> SentinelFakeBuilder {
        SentinelFakeBuilder {
            settings: Settings {
                tenant: TENANT.into(),
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                scope: SCOPE.into(),
                dcr: DCR.into(),
                stream: STREAM.into(),
                lifetime_secs: 3599,
                max_bytes: MAX_BYTES,
                require_time_generated: true,
                max_time_spread: None,
            },
            require_time_generated: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// `http://127.0.0.1:<port>`: both the authority and the endpoint.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The underlying server (raw requests, injection by request index).
    pub fn server(&self) -> &FakeServer {
        &self.server
    }

    /// Answers ingestion request number `index` (from 0, token requests not
    /// counted) with `answer`, ahead of every check.
    pub fn script_ingest(&self, index: usize, answer: Answer) {
        self.state.scripted.lock().unwrap().insert(index, answer);
    }

    /// From now on, answer ingestion with 403 (the app lacks the Monitoring
    /// Metrics Publisher role), or stop doing so.
    pub fn set_forbidden(&self, yes: bool) {
        self.state.forbidden.store(yes, Ordering::SeqCst);
    }

    /// Forgets every issued token: the next ingestion with one gets 401.
    pub fn revoke_tokens(&self) {
        self.state.tokens.lock().unwrap().clear();
    }

    /// Token requests received (issued or refused).
    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// Tokens issued.
    pub fn tokens_issued(&self) -> usize {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    /// Every ingestion request's answer, in arrival order.
    pub fn ingests(&self) -> Vec<Ingest> {
        self.state.ingests.lock().unwrap().clone()
    }

    /// Ingestion requests answered with `status`.
    pub fn answered(&self, status: u16) -> usize {
        self.ingests().iter().filter(|i| i.status == status).count()
    }

    /// Every row accepted, in arrival order.
    pub fn rows(&self) -> Vec<Value> {
        self.state.rows.lock().unwrap().clone()
    }

    /// The `RecordId` of every row accepted.
    pub fn record_ids(&self) -> Vec<String> {
        self.rows()
            .iter()
            .map(|r| r["RecordId"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The least lifetime left on a token that an accepted request carried.
    pub fn min_token_remaining(&self) -> Option<Duration> {
        self.ingests()
            .iter()
            .filter(|i| i.status == 204)
            .filter_map(|i| i.token_remaining)
            .min()
    }
}

struct Logic(Arc<State>);

impl Handler for Logic {
    fn handle(&self, req: &Request) -> Answer {
        if req.path.starts_with("/dataCollectionRules/") {
            self.0.ingest(req)
        } else if req.path.ends_with("/oauth2/v2.0/token") {
            self.0.token(req)
        } else {
            azure_error(404, "NotFound", "The requested resource was not found.")
        }
    }
}

fn azure_error(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

fn entra_error(status: u16, error: &str, aadsts: u32, text: &str) -> Answer {
    Answer::json(
        status,
        &json!({
            "error": error,
            "error_description": format!(
                "AADSTS{aadsts}: {text} Trace ID: 00000000-0000-0000-0000-000000000000 \
                 Correlation ID: 00000000-0000-0000-0000-000000000000 Timestamp: 2026-01-05 10:00:00Z"
            ),
            "error_codes": [aadsts],
            "timestamp": "2026-01-05 10:00:00Z",
        }),
    )
}

fn content_type_is(req: &Request, want: &str) -> bool {
    req.header("content-type")
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
}

impl State {
    fn token(&self, req: &Request) -> Answer {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let s = &self.settings;
        if req.method != http::Method::POST {
            return entra_error(
                405,
                "invalid_request",
                900561,
                "The endpoint only accepts POST requests.",
            );
        }
        if req.path != format!("/{}/oauth2/v2.0/token", s.tenant) {
            return entra_error(400, "invalid_request", 90002, "Tenant not found.");
        }
        if !content_type_is(req, "application/x-www-form-urlencoded") {
            return entra_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
        let body = req.body.as_deref().unwrap_or_default();
        let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        let field = |k: &str| form.get(k).map(String::as_str);
        match field("grant_type") {
            None => {
                return entra_error(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'grant_type'.",
                );
            }
            Some("client_credentials") => {}
            Some(_) => {
                return entra_error(
                    400,
                    "unsupported_grant_type",
                    70003,
                    "The app requested an unsupported grant type.",
                );
            }
        }
        if field("client_id") != Some(s.client_id.as_str()) {
            return entra_error(
                400,
                "unauthorized_client",
                700016,
                "Application was not found in the directory.",
            );
        }
        if field("client_secret") != Some(s.client_secret.as_str()) {
            return entra_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
        if field("scope") != Some(s.scope.as_str()) {
            return entra_error(
                400,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid.",
            );
        }
        let n = self.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
        let now = self.clock.now_unix_nano();
        let token = format!("eyJ0eXAiOiJKV1QifQ.fake-{n:06}.{now:x}");
        let expiry = now.saturating_add(s.lifetime_secs.saturating_mul(1_000_000_000));
        self.tokens.lock().unwrap().insert(token.clone(), expiry);
        Answer::json(
            200,
            &json!({
                "token_type": "Bearer",
                "expires_in": s.lifetime_secs,
                "ext_expires_in": s.lifetime_secs,
                "access_token": token,
            }),
        )
    }

    fn ingest(&self, req: &Request) -> Answer {
        let at = std::time::Instant::now();
        let index = self.next_ingest.fetch_add(1, Ordering::SeqCst);
        let remaining = self.token_remaining(req);
        let (answer, rows) = match self.scripted.lock().unwrap().remove(&index) {
            Some(answer) => (answer, Vec::new()),
            None => match self.contract(req) {
                Ok(rows) => (Answer::empty(204), rows),
                Err(refusal) => (refusal, Vec::new()),
            },
        };
        let status = match &answer {
            Answer::Respond { status, .. } => *status,
            _ => 0,
        };
        let accepted = rows.len();
        self.rows.lock().unwrap().extend(rows);
        self.ingests.lock().unwrap().push(Ingest {
            index,
            status,
            token_remaining: remaining,
            rows: accepted,
            at,
        });
        answer
    }

    fn token_remaining(&self, req: &Request) -> Option<Duration> {
        let token = req.header("authorization")?.strip_prefix("Bearer ")?;
        let expiry = *self.tokens.lock().unwrap().get(token)?;
        Some(Duration::from_nanos(
            expiry.saturating_sub(self.clock.now_unix_nano()),
        ))
    }

    /// The rows the real service accepts, or its refusal.
    fn contract(&self, req: &Request) -> Result<Vec<Value>, Answer> {
        let s = &self.settings;
        let e = azure_error;
        let mut parts = req.path.trim_start_matches('/').split('/');
        let (Some("dataCollectionRules"), Some(dcr), Some("streams"), Some(stream), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(e(404, "NotFound", "The requested resource was not found."));
        };
        if req.method != http::Method::POST {
            return Err(e(405, "MethodNotAllowed", "Only POST is supported."));
        }
        match req.query_param("api-version") {
            None => Err(e(
                400,
                "MissingApiVersionParameter",
                "api-version is required.",
            ))?,
            Some(API_VERSION) => {}
            Some(v) => {
                let msg = format!("api-version '{v}' is invalid; supported: '{API_VERSION}'.");
                return Err(e(400, "InvalidApiVersionParameter", &msg));
            }
        }
        let bearer = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "));
        let Some(token) = bearer else {
            let msg = "Expected 'Bearer <token>'.";
            return Err(e(401, "InvalidAuthenticationToken", msg));
        };
        let expiry = self.tokens.lock().unwrap().get(token).copied();
        match expiry {
            None => {
                let msg = "The access token is invalid.";
                return Err(e(401, "InvalidAuthenticationToken", msg));
            }
            Some(at) if self.clock.now_unix_nano() >= at => {
                let msg = "The access token has expired.";
                return Err(e(401, "ExpiredAuthenticationToken", msg));
            }
            Some(_) => {}
        }
        if dcr != s.dcr {
            let msg = format!("Data collection rule with immutable Id '{dcr}' not found.");
            return Err(e(404, "NotFound", &msg));
        }
        if stream != s.stream {
            let msg = format!("Stream '{stream}' is not declared in the data collection rule.");
            return Err(e(404, "InvalidStream", &msg));
        }
        if self.forbidden.load(Ordering::SeqCst) {
            let msg = format!("The token has no access to ingest into the rule '{dcr}'.");
            return Err(e(403, "OperationFailed", &msg));
        }
        let too_large = || {
            let msg = format!("Maximum allowed content length: {} bytes.", s.max_bytes);
            e(413, "ContentLengthLimitExceeded", &msg)
        };
        if req.wire.len() > s.max_bytes {
            return Err(too_large());
        }
        let body = match &req.body {
            Ok(b) if b.len() > s.max_bytes => return Err(too_large()),
            Ok(b) => b,
            Err(why) => {
                let msg = format!("The request body could not be decoded: {why}");
                return Err(e(400, "InvalidContentEncoding", &msg));
            }
        };
        if !content_type_is(req, "application/json") {
            return Err(e(
                400,
                "InvalidContentType",
                "Content-Type must be application/json.",
            ));
        }
        let invalid = |msg: &str| e(400, "InvalidPayload", msg);
        let rows = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(rows)) => rows,
            Ok(_) => return Err(invalid("The request body must be a JSON array.")),
            Err(_) => return Err(invalid("The request body is not valid JSON.")),
        };
        let mut times = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let Some(obj) = row.as_object() else {
                return Err(invalid(&format!(
                    "Element {i} of the array is not an object."
                )));
            };
            let time = obj
                .get("TimeGenerated")
                .and_then(Value::as_str)
                .and_then(cairn_core::chain::parse_rfc3339);
            match time {
                Some(t) => times.push(t),
                None if s.require_time_generated => {
                    let msg = format!("Element {i} has no valid TimeGenerated and no transform.");
                    return Err(e(400, "InvalidTimeGenerated", &msg));
                }
                None => {}
            }
        }
        if let (Some(limit), Some(lo), Some(hi)) =
            (s.max_time_spread, times.iter().min(), times.iter().max())
            && Duration::from_nanos(hi - lo) >= limit
        {
            let msg = "The TimeGenerated values of one call span more than 30 minutes.";
            return Err(e(400, "RecordsTimeRangeIsMoreThan30Minutes", msg));
        }
        Ok(rows)
    }
}
