//! The small closed vocabularies that event attributes draw from.
//!
//! Each enum lists the values the docs and captures show, and keeps anything
//! else in `Other(String)`: a new CLI release adding a value must not lose it.
//! Every enum serializes as its wire spelling (`"user_permanent"`,
//! `"acceptEdits"`), so the records file reads the same as the telemetry.

use serde::{Serialize, Serializer};

use crate::value::Attrs;

/// Declares a vocabulary enum with its wire spellings, an `Other(String)`
/// fallback, parsing, `as_str`, `Display` and string serialization.
macro_rules! vocab {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value outside the known vocabulary, kept as sent.
            Other(String),
        }

        impl $name {
            /// Maps a wire value; anything unknown becomes `Other`.
            pub fn parse(wire: &str) -> $name {
                match wire {
                    $( $wire => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }

            /// Reads the string attribute `key`; absent or empty is `None`.
            pub fn read(attrs: Attrs<'_>, key: &str) -> Option<$name> {
                attrs.str(key).filter(|s| !s.is_empty()).map($name::parse)
            }

            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(other) => other,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

vocab! {
    /// A permission decision (`tool_decision.decision`,
    /// `tool_result.decision_type`).
    Decision {
        /// `accept`: the tool ran.
        Accept => "accept",
        /// `reject`: the tool was refused.
        Reject => "reject",
    }
}

vocab! {
    /// Who made a permission decision (`tool_decision.source`,
    /// `tool_result.decision_source`).
    DecisionSource {
        /// `config`: allowed or denied by settings (`--allowedTools`, rules).
        Config => "config",
        /// `hook`: a PreToolUse hook decided.
        Hook => "hook",
        /// `user_permanent`: the user allowed it for good.
        UserPermanent => "user_permanent",
        /// `user_temporary`: the user allowed it once.
        UserTemporary => "user_temporary",
        /// `user_abort`: the user aborted.
        UserAbort => "user_abort",
        /// `user_reject`: the user rejected it.
        UserReject => "user_reject",
    }
}

vocab! {
    /// Where a tool comes from (`tool_decision.tool_source`, ≥2.1.214).
    ToolSource {
        /// `builtin`: a Claude Code tool.
        Builtin => "builtin",
        /// `mcp`: a tool of an MCP server.
        Mcp => "mcp",
        /// `sdk_host_builtin_mcp`: a built-in MCP tool of an SDK host.
        SdkHostBuiltinMcp => "sdk_host_builtin_mcp",
    }
}

vocab! {
    /// A permission mode (`permission_mode_changed.from_mode`/`to_mode`,
    /// `tool_decision.permission_mode`).
    PermissionMode {
        /// `default`: ask for anything not allowed by settings.
        Default => "default",
        /// `plan`: read-only planning.
        Plan => "plan",
        /// `acceptEdits`: file edits are accepted without asking.
        AcceptEdits => "acceptEdits",
        /// `auto`: a classifier decides.
        Auto => "auto",
        /// `bypassPermissions`: nothing is asked.
        BypassPermissions => "bypassPermissions",
    }
}

vocab! {
    /// The API speed tier (`speed` on the API events).
    Speed {
        /// `normal`.
        Normal => "normal",
        /// `fast`.
        Fast => "fast",
    }
}

vocab! {
    /// The reasoning effort of a request (`effort` on the API events).
    Effort {
        /// `low`.
        Low => "low",
        /// `medium`.
        Medium => "medium",
        /// `high`.
        High => "high",
        /// `xhigh`.
        XHigh => "xhigh",
        /// `max`.
        Max => "max",
    }
}

vocab! {
    /// Where a slash command comes from (`user_prompt.command_source`).
    CommandSource {
        /// `builtin`: a Claude Code command.
        Builtin => "builtin",
        /// `custom`: a user, project or plugin command.
        Custom => "custom",
        /// `mcp`: an MCP prompt.
        Mcp => "mcp",
    }
}

vocab! {
    /// The state an MCP server reached (`mcp_server_connection.status`).
    McpConnectionStatus {
        /// `connected`.
        Connected => "connected",
        /// `failed`.
        Failed => "failed",
        /// `disconnected`.
        Disconnected => "disconnected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_parse_and_round_trip() {
        assert_eq!(
            DecisionSource::parse("user_permanent"),
            DecisionSource::UserPermanent
        );
        assert_eq!(PermissionMode::parse("acceptEdits").as_str(), "acceptEdits");
        assert_eq!(
            ToolSource::parse("sdk_host_builtin_mcp"),
            ToolSource::SdkHostBuiltinMcp
        );
        assert_eq!(Decision::Reject.to_string(), "reject");
    }

    #[test]
    fn unknown_values_are_kept_in_other() {
        assert_eq!(Decision::parse("defer"), Decision::Other("defer".into()));
        assert_eq!(Decision::parse("Accept"), Decision::Other("Accept".into()));
        let json = serde_json::to_string(&DecisionSource::Other("policy".into()));
        assert_eq!(json.ok().as_deref(), Some("\"policy\""));
    }
}
