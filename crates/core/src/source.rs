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
        if let Some(known) = service_name
            .map(SourceProduct::from_label)
            .filter(|p| *p != SourceProduct::Other)
        {
            return known;
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

    /// The product for a label [`SourceProduct::as_str`] gives (a chain's
    /// `who.source_product`); anything else is [`SourceProduct::Other`].
    pub fn from_label(label: &str) -> SourceProduct {
        match label {
            "claude-code" => SourceProduct::ClaudeCode,
            "claude-code-desktop" => SourceProduct::ClaudeCodeDesktop,
            "cowork" => SourceProduct::Cowork,
            "claude-desktop" => SourceProduct::ClaudeDesktop,
            _ => SourceProduct::Other,
        }
    }

    /// The product as an application name (`claude_code`), as SIEM schemas
    /// (CIM `app`) expect.
    pub fn app_name(self) -> &'static str {
        match self {
            SourceProduct::ClaudeCode => "claude_code",
            SourceProduct::ClaudeCodeDesktop => "claude_code_desktop",
            SourceProduct::Cowork => "cowork",
            SourceProduct::ClaudeDesktop => "claude_desktop",
            SourceProduct::Other => "other",
        }
    }

    /// The product's human name (`Claude Code`).
    pub fn display_name(self) -> &'static str {
        match self {
            SourceProduct::ClaudeCode => "Claude Code",
            SourceProduct::ClaudeCodeDesktop => "Claude Code Desktop",
            SourceProduct::Cowork => "Claude Cowork",
            SourceProduct::ClaudeDesktop => "Claude Desktop",
            SourceProduct::Other => "Claude",
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

    #[test]
    fn labels_round_trip_and_unknown_labels_are_other() {
        use SourceProduct as P;
        for p in [
            P::ClaudeCode,
            P::ClaudeCodeDesktop,
            P::Cowork,
            P::ClaudeDesktop,
            P::Other,
        ] {
            assert_eq!(P::from_label(p.as_str()), p);
        }
        assert_eq!(P::from_label("Claude-Code"), P::Other);
        assert_eq!(P::Cowork.app_name(), "cowork");
        assert_eq!(P::ClaudeCode.display_name(), "Claude Code");
    }
}
