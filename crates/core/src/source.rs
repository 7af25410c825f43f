//! Which product sent a record: read from resource `service.name`, then scope.
//!
//! `OTEL_SERVICE_NAME` can override `service.name`, so when it names nothing
//! we know, the instrumentation scope (`com.anthropic.claude_code*`,
//! `claude-desktop.events`) still identifies Claude Code or Desktop.

use serde::Serialize;

/// The product a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SourceProduct {
    /// The Claude Code CLI or SDK (`service.name = claude-code`).
    #[serde(rename = "claude-code")]
    ClaudeCode,
    /// The Code tab of Claude Desktop.
    #[serde(rename = "claude-code-desktop")]
    ClaudeCodeDesktop,
    /// Claude Cowork.
    #[serde(rename = "cowork")]
    Cowork,
    /// Claude Desktop's own stream.
    #[serde(rename = "claude-desktop")]
    ClaudeDesktop,
    /// Anything else (another service sharing the collector).
    #[serde(rename = "other")]
    Other,
}

impl SourceProduct {
    /// Detects the product from `service.name` and the scope name.
    pub fn detect(service_name: Option<&str>, scope_name: &str) -> SourceProduct {
        match service_name {
            Some("claude-code") => return SourceProduct::ClaudeCode,
            Some("claude-code-desktop") => return SourceProduct::ClaudeCodeDesktop,
            Some("cowork") => return SourceProduct::Cowork,
            Some("claude-desktop") => return SourceProduct::ClaudeDesktop,
            _ => {}
        }
        if scope_name.starts_with("com.anthropic.claude_code") {
            SourceProduct::ClaudeCode
        } else if scope_name.starts_with("claude-desktop") {
            SourceProduct::ClaudeDesktop
        } else {
            SourceProduct::Other
        }
    }

    /// The label used in the records file and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceProduct::ClaudeCode => "claude-code",
            SourceProduct::ClaudeCodeDesktop => "claude-code-desktop",
            SourceProduct::Cowork => "cowork",
            SourceProduct::ClaudeDesktop => "claude-desktop",
            SourceProduct::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_name_wins_then_scope() {
        assert_eq!(
            SourceProduct::detect(Some("cowork"), "com.anthropic.claude_code.events"),
            SourceProduct::Cowork
        );
        assert_eq!(
            SourceProduct::detect(Some("my-renamed"), "com.anthropic.claude_code.events"),
            SourceProduct::ClaudeCode
        );
        assert_eq!(
            SourceProduct::detect(None, "claude-desktop.events"),
            SourceProduct::ClaudeDesktop
        );
        assert_eq!(
            SourceProduct::detect(Some("checkout-api"), "io.opentelemetry.http"),
            SourceProduct::Other
        );
    }
}
