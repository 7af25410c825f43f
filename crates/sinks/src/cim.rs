//! The flat Splunk CIM names two sinks write for one item: Splunk HEC (in
//! the envelope's `event` object) and Sumo Logic (the log line itself).
//! Each sink adds its own names around these: HEC `signature`, `result`,
//! `status` and `object`; Sumo `timestamp` (first), `event`, `outcome`,
//! `src_ip` and `tool`.

use std::borrow::Cow;

use cairn_core::json::Object;

use crate::{detail::Detail, item::AuditItem};

/// Writes the CIM-named fields of `item` as members of `o`, in this fixed
/// order, the full record last as `detail`; absent values are left out.
pub(crate) fn write_fields(o: &mut Object<'_>, item: &AuditItem, detail: Detail<'_>) {
    o.str("action", &item.action);
    o.str("app", item.app);
    o.str("severity", item.severity.as_str());
    o.opt_str("user", item.user());
    o.opt_str("user_id", item.user_id.as_deref());
    o.opt_str("src", session_host(item));
    o.opt_str("dest", dest(detail).as_deref());
    o.str("vendor_product", &vendor_product(item.product));
    o.opt_str("model", item.model.as_deref());
    if let Some(cost) = item.cost_usd {
        o.f64("cost_usd", cost);
    }
    // Seconds (CIM).
    if let Some(ms) = item.duration_ms {
        o.f64("duration", ms / 1000.0);
    }
    o.str("message", &item.message);
    o.str("record_id", &item.record_id);
    o.str("record_kind", item.kind.as_str());
    o.opt_str("session_id", item.session_id.as_deref());
    o.opt_str("prompt_id", item.prompt_id.as_deref());
    o.opt_str("tenant", item.tenant.as_deref());
    o.opt_str("organization_id", item.organization_id.as_deref());
    o.opt_str("cost_center", item.cost_center.as_deref());
    o.opt_str("trace_id", item.trace_id.as_deref());
    o.opt_str("version", item.version.as_deref());
    detail.write(o.key("detail"));
}

/// `Anthropic <product>`: the products' names written out, any other
/// formatted.
fn vendor_product(product: &str) -> Cow<'static, str> {
    Cow::Borrowed(match product {
        "Claude Code" => "Anthropic Claude Code",
        "Claude Code Desktop" => "Anthropic Claude Code Desktop",
        "Claude Cowork" => "Anthropic Claude Cowork",
        "Claude Desktop" => "Anthropic Claude Desktop",
        "Claude" => "Anthropic Claude",
        other => return Cow::Owned(format!("Anthropic {other}")),
    })
}

/// The host of the session (CIM `src`), when the record names one.
pub(crate) fn session_host(item: &AuditItem) -> Option<&str> {
    item.host.as_deref().filter(|h| !h.is_empty())
}

/// The target of an action, where the record names one: the MCP server of
/// an MCP tool call or connection.
pub(crate) fn dest(detail: Detail<'_>) -> Option<Cow<'_, str>> {
    ["mcp_server_name", "mcp_server.name", "server_name"]
        .iter()
        .find_map(|k| detail.attr_str(k))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use cairn_core::source::SourceProduct;

    #[test]
    fn vendor_product_is_anthropic_and_the_product() {
        for p in [
            SourceProduct::ClaudeCode,
            SourceProduct::ClaudeCodeDesktop,
            SourceProduct::Cowork,
            SourceProduct::ClaudeDesktop,
            SourceProduct::Other,
        ] {
            let name = p.display_name();
            assert_eq!(super::vendor_product(name), format!("Anthropic {name}"));
        }
        assert_eq!(super::vendor_product("X"), "Anthropic X");
    }
}
