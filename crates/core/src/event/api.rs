//! The Messages API events: `api_request`, `api_error`,
//! `api_retries_exhausted`, `api_refusal`, and the raw
//! `api_request_body`/`api_response_body`.
//!
//! Numbers here were strings before 2.1.122 and real numbers since; Cowork
//! sends `status_code` as a string, or the literal `undefined` for non-HTTP
//! errors (read as `None`). The `error` text, the refusal `category` and the
//! raw bodies are content: only their presence (and the body length) is typed.

use serde::Serialize;

use super::{
    has_content, status_code,
    vocab::{Effort, Speed},
};
use crate::value::Attrs;

/// Who the API call is attributed to: the cost-attribution keys shared with
/// the `cost.usage`/`token.usage` metrics. Custom names may arrive redacted to
/// `custom` or `third-party`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Attribution {
    /// `agent.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// `marketplace.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_name: Option<String>,
    /// `mcp_server.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_server_name: Option<String>,
    /// `mcp_tool.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_tool_name: Option<String>,
    /// `plugin.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_name: Option<String>,
    /// `skill.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_name: Option<String>,
}

impl Attribution {
    /// Reads the attribution keys.
    pub fn read(a: Attrs<'_>) -> Attribution {
        Attribution {
            agent_name: a.string("agent.name"),
            skill_name: a.string("skill.name"),
            plugin_name: a.string("plugin.name"),
            marketplace_name: a.string("marketplace.name"),
            mcp_server_name: a.string("mcp_server.name"),
            mcp_tool_name: a.string("mcp_tool.name"),
        }
    }

    /// Whether no attribution key was sent.
    pub fn is_empty(&self) -> bool {
        self == &Attribution::default()
    }
}

/// `api_request`: one successful Messages API call.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ApiRequest {
    /// The cost-attribution keys.
    #[serde(skip_serializing_if = "Attribution::is_empty")]
    pub attribution: Attribution,
    /// `cache_creation_1h_tokens`: the part written with a 1-hour TTL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_1h_tokens: Option<u64>,
    /// `cache_creation_5m_tokens`: the part written with a 5-minute TTL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_5m_tokens: Option<u64>,
    /// `cache_creation_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_tokens: Option<u64>,
    /// `cache_read_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    /// `client_request_id` (≥2.1.214).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// `cost_usd`: the client's list-price estimate, in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// `cost_usd_micros`: the same estimate in millionths of a USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd_micros: Option<u64>,
    /// `duration_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// `effort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// `input_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `output_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// `query_source` (event vocabulary: `sdk`, `repl_main_thread`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_source: Option<String>,
    /// `request_id` (`req_…`): joins `assistant_response` and the transcript.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `speed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
    /// `ttft_ms`: time to first token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
}

impl ApiRequest {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ApiRequest {
        ApiRequest {
            model: a.string("model"),
            cost_usd: a.f64("cost_usd"),
            cost_usd_micros: a.u64("cost_usd_micros"),
            duration_ms: a.f64("duration_ms"),
            ttft_ms: a.f64("ttft_ms"),
            input_tokens: a.u64("input_tokens"),
            output_tokens: a.u64("output_tokens"),
            cache_read_tokens: a.u64("cache_read_tokens"),
            cache_creation_tokens: a.u64("cache_creation_tokens"),
            cache_creation_5m_tokens: a.u64("cache_creation_5m_tokens"),
            cache_creation_1h_tokens: a.u64("cache_creation_1h_tokens"),
            request_id: a.string("request_id"),
            client_request_id: a.string("client_request_id"),
            speed: Speed::read(a, "speed"),
            query_source: a.string("query_source"),
            effort: Effort::read(a, "effort"),
            attribution: Attribution::read(a),
        }
    }
}

/// `api_error`: a Messages API call failed for good (emitted once, after the
/// retries give up).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ApiError {
    /// `attempt`: the total number of attempts made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u64>,
    /// The cost-attribution keys.
    #[serde(skip_serializing_if = "Attribution::is_empty")]
    pub attribution: Attribution,
    /// `client_request_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// `duration_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// `effort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// Whether the `error` text was sent. The text is never copied.
    pub has_error: bool,
    /// `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `query_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_source: Option<String>,
    /// `request_id`, when the API answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `speed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
    /// `status_code`: the HTTP status; absent for non-HTTP errors (Cowork
    /// sends the string `undefined`, read as `None`). Absent on the wire for
    /// repeated 529s too (2.1.330).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

impl ApiError {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ApiError {
        ApiError {
            model: a.string("model"),
            status_code: status_code(a, "status_code"),
            has_error: has_content(a, &["error"]),
            duration_ms: a.f64("duration_ms"),
            attempt: a.u64("attempt"),
            request_id: a.string("request_id"),
            client_request_id: a.string("client_request_id"),
            speed: Speed::read(a, "speed"),
            query_source: a.string("query_source"),
            effort: Effort::read(a, "effort"),
            attribution: Attribution::read(a),
        }
    }
}

/// `api_retries_exhausted`: the retry loop gave up (seen on the wire beside
/// `api_error`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ApiRetriesExhausted {
    /// The cost-attribution keys.
    #[serde(skip_serializing_if = "Attribution::is_empty")]
    pub attribution: Attribution,
    /// `client_request_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// `effort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// Whether the `error` text was sent. The text is never copied.
    pub has_error: bool,
    /// `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `query_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_source: Option<String>,
    /// `request_id`, when the API answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `speed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
    /// `status_code` of the last attempt, when it was an HTTP error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// `total_attempts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_attempts: Option<u64>,
    /// `total_retry_duration_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_retry_duration_ms: Option<f64>,
}

impl ApiRetriesExhausted {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ApiRetriesExhausted {
        ApiRetriesExhausted {
            model: a.string("model"),
            status_code: status_code(a, "status_code"),
            has_error: has_content(a, &["error"]),
            total_attempts: a.u64("total_attempts"),
            total_retry_duration_ms: a.f64("total_retry_duration_ms"),
            request_id: a.string("request_id"),
            client_request_id: a.string("client_request_id"),
            speed: Speed::read(a, "speed"),
            query_source: a.string("query_source"),
            effort: Effort::read(a, "effort"),
            attribution: Attribution::read(a),
        }
    }
}

/// `api_refusal`: the model's safety classifier declined a request.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ApiRefusal {
    /// The cost-attribution keys.
    #[serde(skip_serializing_if = "Attribution::is_empty")]
    pub attribution: Attribution,
    /// `client_request_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// `effort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// `has_category`: whether the API named a refusal category. The gated
    /// `category` itself is not copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_category: Option<bool>,
    /// `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `query_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_source: Option<String>,
    /// `request_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `server_fallback_hop`: which server-side fallback hop refused (wire
    /// type unconfirmed; read as a number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_fallback_hop: Option<u64>,
    /// `speed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
}

impl ApiRefusal {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ApiRefusal {
        ApiRefusal {
            model: a.string("model"),
            server_fallback_hop: a.u64("server_fallback_hop"),
            has_category: a.bool("has_category"),
            request_id: a.string("request_id"),
            client_request_id: a.string("client_request_id"),
            speed: Speed::read(a, "speed"),
            query_source: a.string("query_source"),
            effort: Effort::read(a, "effort"),
            attribution: Attribution::read(a),
        }
    }
}

/// `api_request_body` / `api_response_body`: a raw API body, only sent with
/// raw bodies turned on. The body (or its `body_ref`) is never copied.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ApiBody {
    /// `body_length`: the body's full length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_length: Option<u64>,
    /// `body_truncated`: whether `body` was cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_truncated: Option<bool>,
    /// `client_request_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// Whether the body was sent inline (`body`).
    pub has_body: bool,
    /// Whether a `body_ref` pointing at a stored body was sent.
    pub has_body_ref: bool,
    /// `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `query_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_source: Option<String>,
    /// `request_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiBody {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> ApiBody {
        ApiBody {
            body_length: a.u64("body_length"),
            body_truncated: a.bool("body_truncated"),
            has_body: has_content(a, &["body"]),
            has_body_ref: has_content(a, &["body_ref"]),
            model: a.string("model"),
            request_id: a.string("request_id"),
            client_request_id: a.string("client_request_id"),
            query_source: a.string("query_source"),
        }
    }
}
