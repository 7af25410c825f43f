//! A fake Splunk HTTP Event Collector (contract §2).
//!
//! It checks the token the way HEC does (`Authorization: Splunk <token>`,
//! Basic with the token as password, `?token=` only when allowed), the
//! index allow-list, and parses the `/event` body strictly as concatenated
//! envelopes (no array, no commas). The first bad envelope stops the
//! request with the exact `{text, code, invalid-event-number}` body while
//! the envelopes before it stay indexed, as on a real HEC. It implements
//! channels, `ackId`s and `/services/collector/ack` (an id can read `false`
//! a configured number of times first, or never turn `true`),
//! `/services/collector/health`, `413` over a configured decoded size, and
//! `415` for `deflate` (a secondary-source observation, so configurable).
//! [`answer`] builds the exact answer for any code 0–27, for injection.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Answer, FakeServer, Handler, Request};

/// HTTP status and exact text of a HEC code (0–27), per the contract table.
pub fn status_and_text(code: u8) -> Option<(u16, &'static str)> {
    Some(match code {
        0 => (200, "Success"),
        1 => (403, "Token disabled"),
        2 => (401, "Token is required"),
        3 => (401, "Invalid authorization"),
        4 => (403, "Invalid token"),
        5 => (400, "No data"),
        6 => (400, "Invalid data format"),
        7 => (400, "Incorrect index"),
        8 => (500, "Internal server error"),
        9 => (503, "Server is busy"),
        10 => (400, "Data channel is missing"),
        11 => (400, "Invalid data channel"),
        12 => (400, "Event field is required"),
        13 => (400, "Event field cannot be blank"),
        14 => (400, "ACK is disabled"),
        15 => (400, "Error in handling indexed fields"),
        16 => (400, "Query string authorization is not enabled"),
        17 => (200, "HEC is healthy"),
        18 => (503, "HEC is unhealthy, queues are full"),
        19 => (503, "HEC is unhealthy, ack service unavailable"),
        20 => (
            503,
            "HEC is unhealthy, queues are full, ack service unavailable",
        ),
        21 => (400, "Invalid token"),
        22 => (400, "Token disabled"),
        23 => (503, "Server is shutting down"),
        24 => (200, "HEC queue is approaching its capacity limit"),
        25 => (200, "HEC ACK is approaching its capacity limit"),
        26 => (
            429,
            "HEC queue is at capacity and cannot process any more requests",
        ),
        27 => (
            429,
            "HEC ACK channel is at capacity and cannot process any more requests",
        ),
        _ => return None,
    })
}

/// The exact answer HEC gives for `code` (panics outside 0–27).
pub fn answer(code: u8) -> Answer {
    let (status, text) = status_and_text(code).expect("a HEC code 0-27");
    Answer::json(status, &json!({"text": text, "code": code}))
}

/// The answer for a bad envelope at `index` of the request.
pub fn answer_at(code: u8, index: usize) -> Answer {
    let (status, text) = status_and_text(code).expect("a HEC code 0-27");
    Answer::json(
        status,
        &json!({"text": text, "code": code, "invalid-event-number": index}),
    )
}

/// One envelope the fake indexed.
#[derive(Clone, Debug)]
pub struct Indexed {
    /// The request it came in.
    pub request: usize,
    /// The request's channel, if any.
    pub channel: Option<String>,
    /// The envelope as parsed.
    pub envelope: Value,
}

impl Indexed {
    /// `event.record_id`, when the event is an object that has one.
    pub fn record_id(&self) -> Option<&str> {
        self.envelope["event"]["record_id"].as_str()
    }
}

#[derive(Default)]
struct Channel {
    next_ack: u64,
    /// ackId → how many more polls read `false` (`None`: lost, always `false`).
    pending: HashMap<u64, Option<u32>>,
}

#[derive(Clone, Default)]
struct Settings {
    tokens: HashSet<String>,
    disabled: HashSet<String>,
    indexes: HashSet<String>,
    ack: bool,
    ack_false_times: u32,
    lost_acks: HashSet<u64>,
    max_content_length: usize,
    accept_deflate: bool,
    query_auth: bool,
    health_code: u8,
    poison: HashMap<String, u8>,
}

#[derive(Default)]
struct State {
    indexed: Vec<Indexed>,
    channels: HashMap<String, Channel>,
    ack_polls: usize,
}

/// Configures a [`SplunkFake`].
#[derive(Clone)]
pub struct SplunkFakeBuilder(Settings);

impl SplunkFakeBuilder {
    /// Accepts this token.
    pub fn token(mut self, token: &str) -> Self {
        self.0.tokens.insert(token.into());
        self
    }
    /// Knows this token but it is disabled (code 1).
    pub fn disabled_token(mut self, token: &str) -> Self {
        self.0.disabled.insert(token.into());
        self
    }
    /// Adds an index to the tokens' allow-list (empty list: any index).
    pub fn index(mut self, index: &str) -> Self {
        self.0.indexes.insert(index.into());
        self
    }
    /// Turns indexer acknowledgement on (channel required, `ackId`s).
    pub fn ack(mut self) -> Self {
        self.0.ack = true;
        self
    }
    /// Each ackId reads `false` this many times before `true`.
    pub fn ack_false_times(mut self, n: u32) -> Self {
        self.0.ack_false_times = n;
        self
    }
    /// This ackId (per channel) never reads `true`: the events were indexed
    /// but the acknowledgement is lost.
    pub fn lose_ack(mut self, ack_id: u64) -> Self {
        self.0.lost_acks.insert(ack_id);
        self
    }
    /// Answers 413 when the decoded body is over `bytes` (default 1,000,000).
    pub fn max_content_length(mut self, bytes: usize) -> Self {
        self.0.max_content_length = bytes;
        self
    }
    /// Accepts `Content-Encoding: deflate` instead of answering 415.
    pub fn accept_deflate(mut self) -> Self {
        self.0.accept_deflate = true;
        self
    }
    /// Allows `?token=` (else code 16).
    pub fn query_auth(mut self) -> Self {
        self.0.query_auth = true;
        self
    }
    /// What `/health` answers (17 healthy; 18, 19, 20 unhealthy).
    pub fn health(mut self, code: u8) -> Self {
        self.0.health_code = code;
        self
    }
    /// Refuses any envelope whose `event.record_id` is `record_id` with
    /// `code` (6, 12, 13 or 15), like a malformed event.
    pub fn poison(mut self, record_id: &str, code: u8) -> Self {
        self.0.poison.insert(record_id.into(), code);
        self
    }

    /// Starts the fake on 127.0.0.1.
    pub async fn start(self) -> SplunkFake {
        let (server, state) = FakeServer::start_with(|state| Logic {
            settings: self.0,
            state,
        })
        .await;
        SplunkFake { server, state }
    }
}

/// A running fake HEC.
pub struct SplunkFake {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl SplunkFake {
    /// A builder with no tokens, ack off, 1,000,000-byte limit, healthy.
    pub fn builder() -> SplunkFakeBuilder {
        SplunkFakeBuilder(Settings {
            max_content_length: 1_000_000,
            health_code: 17,
            ..Settings::default()
        })
    }
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }
    /// Answers request `index` with `answer` instead of the HEC logic.
    pub fn inject(&self, index: usize, answer: Answer) {
        self.server.inject(index, answer);
    }
    /// Every request received (including `/ack` polls).
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
    /// Every envelope indexed, in order.
    pub fn indexed(&self) -> Vec<Indexed> {
        self.state.lock().unwrap().indexed.clone()
    }
    /// The envelopes indexed.
    pub fn events(&self) -> Vec<Value> {
        self.indexed().into_iter().map(|i| i.envelope).collect()
    }
    /// `event.record_id` of every indexed envelope, in order.
    pub fn record_ids(&self) -> Vec<String> {
        self.indexed()
            .iter()
            .filter_map(|i| i.record_id().map(str::to_owned))
            .collect()
    }
    /// How many `/ack` polls were answered.
    pub fn ack_polls(&self) -> usize {
        self.state.lock().unwrap().ack_polls
    }
}

struct Logic {
    settings: Settings,
    state: Arc<Mutex<State>>,
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

enum Token {
    Missing,
    Malformed,
    QueryNotAllowed,
    Given(String),
}

impl Logic {
    fn token_of(&self, req: &Request) -> Token {
        match req.header("authorization") {
            Some(h) => {
                if let Some(t) = h.strip_prefix("Splunk ") {
                    return Token::Given(t.trim().into());
                }
                if let Some(b) = h.strip_prefix("Basic ") {
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .ok()
                        .and_then(|d| String::from_utf8(d).ok());
                    if let Some((_, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                        return Token::Given(pass.into());
                    }
                }
                Token::Malformed
            }
            None => match req.query_param("token") {
                Some(t) if self.settings.query_auth => Token::Given(t.into()),
                Some(_) => Token::QueryNotAllowed,
                None => Token::Missing,
            },
        }
    }

    /// `None` when the token is good, else the code to answer.
    fn auth(&self, req: &Request) -> Option<u8> {
        match self.token_of(req) {
            Token::Missing => Some(2),
            Token::Malformed => Some(3),
            Token::QueryNotAllowed => Some(16),
            Token::Given(t) if self.settings.disabled.contains(&t) => Some(1),
            Token::Given(t) if self.settings.tokens.contains(&t) => None,
            Token::Given(_) => Some(4),
        }
    }

    /// The channel, or the code for a missing / malformed one.
    fn channel(&self, req: &Request) -> Result<Option<String>, u8> {
        let given = req
            .header("x-splunk-request-channel")
            .or_else(|| req.query_param("channel"));
        match given {
            Some(c) if is_guid(c) => Ok(Some(c.to_owned())),
            Some(_) => Err(11),
            None if self.settings.ack => Err(10),
            None => Ok(None),
        }
    }
}

impl Handler for Logic {
    fn handle(&self, req: &Request) -> Answer {
        match (req.method.as_str(), req.path.as_str()) {
            (
                "POST",
                "/services/collector"
                | "/services/collector/event"
                | "/services/collector/event/1.0",
            ) => self.event(req),
            ("POST", "/services/collector/ack" | "/services/collector/ack/1.0") => self.ack(req),
            ("GET", "/services/collector/health" | "/services/collector/health/1.0") => {
                self.health(req)
            }
            _ => Answer::json(
                404,
                &json!({"text": "The requested URL was not found on this server.", "code": 404}),
            ),
        }
    }
}

impl Logic {
    fn health(&self, req: &Request) -> Answer {
        if let Token::Given(t) = self.token_of(req) {
            if self.settings.disabled.contains(&t) {
                return answer(22);
            }
            if !self.settings.tokens.contains(&t) {
                return answer(21);
            }
        }
        answer(self.settings.health_code)
    }

    fn event(&self, req: &Request) -> Answer {
        if let Some(code) = self.auth(req) {
            return answer(code);
        }
        let encoding = req
            .header("content-encoding")
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let supported = match encoding.as_str() {
            "" | "identity" | "gzip" => true,
            "deflate" => self.settings.accept_deflate,
            _ => false,
        };
        if !supported {
            return Answer::text(415, "Unsupported Media Type");
        }
        let Ok(body) = &req.body else {
            return answer(6);
        };
        if body.len() > self.settings.max_content_length {
            return Answer::text(
                413,
                &format!(
                    "Content-Length of {} too large (maximum is {})",
                    body.len(),
                    self.settings.max_content_length
                ),
            );
        }
        let channel = match self.channel(req) {
            Ok(c) => c,
            Err(code) => return answer(code),
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return answer(5);
        }
        let mut good = Vec::new();
        let mut refused = None;
        for (i, parsed) in serde_json::Deserializer::from_slice(body)
            .into_iter::<Value>()
            .enumerate()
        {
            let checked = match parsed {
                Ok(env) => self.check_envelope(&env).map(|()| env),
                Err(_) => Err(6),
            };
            match checked {
                Ok(env) => good.push(env),
                Err(7) => return answer(7),
                Err(code) => {
                    refused = Some((code, i));
                    break;
                }
            }
        }
        let mut state = self.state.lock().unwrap();
        state
            .indexed
            .extend(good.into_iter().map(|envelope| Indexed {
                request: req.index,
                channel: channel.clone(),
                envelope,
            }));
        if let Some((code, i)) = refused {
            return answer_at(code, i);
        }
        match channel.filter(|_| self.settings.ack) {
            Some(c) => {
                let ch = state.channels.entry(c).or_default();
                let id = ch.next_ack;
                ch.next_ack += 1;
                let falses = (!self.settings.lost_acks.contains(&id))
                    .then_some(self.settings.ack_false_times);
                ch.pending.insert(id, falses);
                Answer::json(200, &json!({"text": "Success", "code": 0, "ackId": id}))
            }
            None => answer(0),
        }
    }

    /// `Err(code)` when the envelope is refused.
    fn check_envelope(&self, env: &Value) -> Result<(), u8> {
        let obj = env.as_object().ok_or(6u8)?;
        let event = obj.get("event").ok_or(12u8)?;
        match event {
            Value::Null => return Err(13),
            Value::String(s) if s.trim().is_empty() => return Err(13),
            _ => {}
        }
        match obj.get("time") {
            None | Some(Value::Number(_)) => {}
            Some(Value::String(s)) if s.trim().parse::<f64>().is_ok() => {}
            Some(_) => return Err(6),
        }
        for key in ["host", "source", "sourcetype", "index"] {
            if obj.get(key).is_some_and(|v| !v.is_string()) {
                return Err(6);
            }
        }
        if let Some(index) = obj.get("index").and_then(Value::as_str)
            && !self.settings.indexes.is_empty()
            && !self.settings.indexes.contains(index)
        {
            return Err(7);
        }
        if let Some(fields) = obj.get("fields") {
            let flat = fields.as_object().is_some_and(|f| {
                f.values().all(|v| match v {
                    Value::String(_) => true,
                    Value::Array(a) => a.iter().all(Value::is_string),
                    _ => false,
                })
            });
            if !flat {
                return Err(15);
            }
        }
        if let Some(code) = event["record_id"]
            .as_str()
            .and_then(|id| self.settings.poison.get(id))
        {
            return Err(*code);
        }
        Ok(())
    }

    fn ack(&self, req: &Request) -> Answer {
        if let Some(code) = self.auth(req) {
            return answer(code);
        }
        if !self.settings.ack {
            return answer(14);
        }
        let channel = match self.channel(req) {
            Ok(Some(c)) => c,
            Ok(None) => return answer(10),
            Err(code) => return answer(code),
        };
        let ids: Option<Vec<u64>> = req
            .body
            .as_ref()
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .and_then(|v| {
                v["acks"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
            });
        let Some(ids) = ids else {
            return answer(6);
        };
        let mut state = self.state.lock().unwrap();
        state.ack_polls += 1;
        let ch = state.channels.entry(channel).or_default();
        let mut acks = serde_json::Map::new();
        for id in ids {
            let done = match ch.pending.get_mut(&id) {
                Some(Some(0)) => {
                    ch.pending.remove(&id);
                    true
                }
                Some(Some(n)) => {
                    *n -= 1;
                    false
                }
                Some(None) | None => false,
            };
            acks.insert(id.to_string(), Value::Bool(done));
        }
        Answer::json(200, &json!({ "acks": acks }))
    }
}
