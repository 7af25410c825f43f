//! The conversation events: `user_prompt` and `assistant_response`.
//!
//! Both carry text (`prompt`, `prompt_text`, `response`) that is content: it
//! stays only in the raw attributes, where cairn's redaction sees it. The
//! typed view keeps the lengths Claude Code reports, whether the text was
//! actually included, and the identifiers that join a turn together.

use serde::Serialize;

use super::{has_content, vocab::CommandSource};
use crate::value::Attrs;

/// `user_prompt`: the user submitted a prompt.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UserPrompt {
    /// `command_name`: the slash command, if the prompt was one (custom, plugin
    /// and MCP names collapse to `custom`/`mcp` unless tool details are on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_name: Option<String>,
    /// `command_source`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_source: Option<CommandSource>,
    /// Whether the prompt text itself was sent (`prompt` or `prompt_text`
    /// present and not the `<REDACTED>` placeholder). The text is never copied.
    pub has_prompt: bool,
    /// `message.uuid`: joins the transcript entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_uuid: Option<String>,
    /// `prompt_length`: characters in the prompt, as Claude Code counted them
    /// (sent even when the text is redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_length: Option<u64>,
}

impl UserPrompt {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> UserPrompt {
        UserPrompt {
            prompt_length: a.u64("prompt_length"),
            has_prompt: has_content(a, &["prompt", "prompt_text"]),
            message_uuid: a.string("message.uuid"),
            command_name: a.string("command_name"),
            command_source: CommandSource::read(a, "command_source"),
        }
    }
}

/// `assistant_response` (≥2.1.193): the model answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AssistantResponse {
    /// Whether the response text itself was sent (`response` present and not
    /// the `<REDACTED>` placeholder). The text is never copied.
    pub has_response: bool,
    /// `message.uuid`: joins the transcript entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_uuid: Option<String>,
    /// `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `query_source`: the fine-grained event vocabulary (`sdk`,
    /// `repl_main_thread`, `agent:builtin:…`), kept as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_source: Option<String>,
    /// `request_id`: joins `api_request`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `response_length`: characters in the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_length: Option<u64>,
}

impl AssistantResponse {
    /// Reads the typed fields from the event's attributes.
    pub fn read(a: Attrs<'_>) -> AssistantResponse {
        AssistantResponse {
            response_length: a.u64("response_length"),
            has_response: has_content(a, &["response"]),
            model: a.string("model"),
            request_id: a.string("request_id"),
            message_uuid: a.string("message.uuid"),
            query_source: a.string("query_source"),
        }
    }
}
