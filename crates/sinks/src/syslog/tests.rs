#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The encoders on real fixture records, read back with the strict RFC 5424
//! and CEF readers of `cairn-testkit`; escaping properties; the config
//! rules. Delivery through a real rsyslog is in `tests_rsyslog.rs`.

use cairn_testkit::siem::syslog::{Cef, Rfc5424, parse::check_timestamp, parse_cef, parse_rfc5424};
use proptest::prelude::*;

use super::{
    cef,
    config::{Config, Facility},
    encode::{Encoder, Format, timestamp},
};
use crate::{
    item::{AuditItem, ItemKind, Outcome, Severity},
    testing::{batches, chains_of, example_sinks, fixture_batches, fixture_items, items_of},
};

fn encoder(format: Format, include_detail: bool, max: usize) -> Encoder {
    Encoder::new(format, 13, "gw-1", 32473, include_detail, max)
}

fn encode(e: &Encoder, item: &AuditItem) -> Vec<u8> {
    let mut out = Vec::new();
    e.encode(item, &mut out).unwrap();
    out
}

/// Asserts the RFC 5424 header and structured data of one message against
/// its item (shared with the rsyslog tests).
pub(super) fn assert_rfc5424(m: &Rfc5424, item: &AuditItem, hostname: &str) {
    let id = &item.record_id;
    assert_eq!(m.pri, 13 * 8 + item.severity.syslog(), "{id}");
    assert_eq!(
        m.timestamp.as_deref(),
        Some(timestamp(item.time_unix_nano).as_str())
    );
    check_timestamp(m.timestamp.as_deref().unwrap()).unwrap();
    assert_eq!(m.hostname.as_deref(), Some(hostname));
    assert_eq!(m.app_name.as_deref(), Some("cairn"));
    assert_eq!(m.procid, Some(std::process::id().to_string()));
    assert_eq!(m.msgid.as_deref(), Some(item.name.as_str()), "{id}");
    assert_eq!(m.sd.len(), 1);
    assert_eq!(m.sd[0].id, "cairn@32473");
    let p = |n: &str| m.param("cairn@32473", n).map(str::to_owned);
    assert_eq!(p("record_id").as_deref(), Some(id.as_str()));
    assert_eq!(p("kind").as_deref(), Some(item.kind.as_str()));
    assert_eq!(p("user").as_deref(), item.user());
    assert_eq!(p("user_id"), item.user_id);
    assert_eq!(p("account_uuid"), item.account_uuid);
    assert_eq!(p("org"), item.organization_id);
    assert_eq!(p("act").as_deref(), Some(item.action.as_str()));
    assert_eq!(p("outcome").as_deref(), Some(item.outcome.as_str()));
    assert_eq!(p("src"), item.host);
    assert_eq!(p("app").as_deref(), Some(item.app));
    assert_eq!(p("version"), item.version);
    assert_eq!(p("tenant"), item.tenant);
    assert_eq!(p("session_id"), item.session_id);
    assert_eq!(p("prompt_id"), item.prompt_id);
    assert_eq!(p("tool"), item.tool);
    assert_eq!(p("model"), item.model);
    assert_eq!(p("cost_center"), item.cost_center);
    assert_eq!(p("trace_id"), item.trace_id);
    assert_eq!(p("cost_usd"), item.cost_usd.map(|c| c.to_string()));
    assert_eq!(p("duration_ms"), item.duration_ms.map(|c| c.to_string()));
}

/// Asserts a CEF line against its item (shared with the rsyslog tests).
pub(super) fn assert_cef(c: &Cef, item: &AuditItem, dvchost: &str) {
    assert_eq!(
        (c.version.as_str(), c.vendor.as_str(), c.product.as_str()),
        ("0", "Anthropic", item.product)
    );
    assert_eq!(Some(c.device_version.as_str()), item.version.as_deref());
    assert_eq!(c.class_id, item.name);
    assert_eq!(c.name, item.name.replace('_', " "));
    assert_eq!(c.severity, cef::severity(item.severity).to_string());
    assert_eq!(c.get("rt"), Some(item.unix_millis().to_string().as_str()));
    assert_eq!(c.get("externalId"), Some(item.record_id.as_str()));
    assert_eq!(c.get("cat"), Some(item.kind.as_str()));
    assert_eq!(c.get("act"), Some(item.action.as_str()));
    assert_eq!(c.get("outcome"), Some(item.outcome.as_str()));
    assert_eq!(c.get("suser"), item.user());
    assert_eq!(c.get("suid"), item.user_id.as_deref());
    assert_eq!(c.get("shost"), item.host.as_deref());
    assert_eq!(c.get("dvchost"), Some(dvchost));
    assert_eq!(c.get("app"), Some(item.app));
    assert_eq!(c.labelled("tool"), item.tool.as_deref());
    assert_eq!(c.labelled("model"), item.model.as_deref());
    assert_eq!(c.labelled("session"), item.session_id.as_deref());
    assert_eq!(c.labelled("prompt"), item.prompt_id.as_deref());
    assert_eq!(c.labelled("org"), item.organization_id.as_deref());
    assert_eq!(c.labelled("cost_center"), item.cost_center.as_deref());
    assert_eq!(
        c.labelled("cost_usd").map(str::to_owned),
        item.cost_usd.map(|v| v.to_string())
    );
    assert_eq!(c.labelled("tenant"), item.tenant.as_deref());
    assert_eq!(c.labelled("trace_id"), item.trace_id.as_deref());
    assert_eq!(c.get("msg"), Some(item.message.as_str()));
}

#[test]
fn every_fixture_record_maps_field_by_field_to_strict_rfc5424() {
    let e = encoder(Format::Rfc5424, false, 8192);
    let all = fixture_items();
    assert!(all.len() > 20, "{}", all.len());
    for item in &all {
        let bytes = encode(&e, item);
        let m = parse_rfc5424(&bytes).unwrap();
        assert_rfc5424(&m, item, "gw-1");
        assert!(m.bom);
        assert_eq!(m.msg.as_deref(), Some(item.message.as_str()));
        assert_eq!(m.param("cairn@32473", "truncated"), None);
    }
    // Spot checks against values read off the capture.
    let decision = all.iter().find(|i| i.name == "tool_decision").unwrap();
    let text = String::from_utf8(encode(&e, decision)).unwrap();
    assert!(
        text.starts_with("<110>1 2026-11-23T18:31:04.424000Z gw-1 cairn "),
        "{text}"
    );
    assert!(text.contains(" tool_decision [cairn@32473 record_id=\"581027cb73b6b41ff244d82ea55cfede\" kind=\"event\" user=\"c10db4ee"), "{text}");
    assert!(
        text.contains(" act=\"allowed\" outcome=\"success\" "),
        "{text}"
    );
    assert!(
        text.contains(" tool=\"Bash\" cost_center=\"eng-123\" trace_id="),
        "{text}"
    );
    assert!(text.ends_with("] \u{feff}tool Bash allowed"), "{text}");
    let api = all.iter().find(|i| i.name == "api_request").unwrap();
    let m = parse_rfc5424(&encode(&e, api)).unwrap();
    assert_eq!(m.param("cairn@32473", "cost_usd"), Some("0.007376"));
    assert_eq!(m.param("cairn@32473", "model"), Some("claude-opus-5-5"));
    let metric = all.iter().find(|i| i.kind == ItemKind::Metric).unwrap();
    let m = parse_rfc5424(&encode(&e, metric)).unwrap();
    assert_eq!(m.msgid.as_deref(), Some(metric.name.as_str()));
}

#[test]
fn errors_and_denials_set_the_syslog_severity() {
    let e = encoder(Format::Rfc5424, false, 8192);
    let errors: Vec<AuditItem> = items_of(&batches("api-error-500", None))
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .collect();
    assert!(!errors.is_empty());
    for item in &errors {
        let m = parse_rfc5424(&encode(&e, item)).unwrap();
        assert_eq!((m.facility, m.severity), (13, 3), "{}", item.name);
        assert_eq!(m.param("cairn@32473", "outcome"), Some("failure"));
    }
    let mut denied = fixture_items()
        .into_iter()
        .find(|i| i.name == "tool_decision")
        .unwrap();
    denied.severity = Severity::Warning;
    let local4 = Encoder::new(Format::Rfc5424, 20, "gw-1", 32473, false, 8192);
    let m = parse_rfc5424(&encode(&local4, &denied)).unwrap();
    assert_eq!(m.pri, 164, "local4 (20) × 8 + warning (4)");
}

#[test]
fn prompt_chains_map_to_one_message_each() {
    let e = encoder(Format::Rfc5424, false, 8192);
    let chains = chains_of(&fixture_batches());
    assert!(!chains.is_empty());
    for chain in &chains {
        let item = AuditItem::from_chain(chain);
        let m = parse_rfc5424(&encode(&e, &item)).unwrap();
        assert_rfc5424(&m, &item, "gw-1");
        assert_eq!(m.msgid.as_deref(), Some("prompt_chain"));
        assert_eq!(m.param("cairn@32473", "kind"), Some("chain"));
        assert_eq!(
            m.param("cairn@32473", "prompt_id"),
            Some(chain.prompt_id.as_str())
        );
        let cost = chain.totals.as_ref().unwrap().cost_usd;
        assert_eq!(
            m.param("cairn@32473", "cost_usd"),
            Some(cost.to_string().as_str())
        );
        assert!(m.msg.unwrap().starts_with("prompt chain: "));
    }
}

fn contract_item() -> AuditItem {
    static DECISION: std::sync::OnceLock<AuditItem> = std::sync::OnceLock::new();
    let mut item = DECISION
        .get_or_init(|| {
            fixture_items()
                .into_iter()
                .find(|i| i.name == "tool_decision")
                .unwrap()
        })
        .clone();
    item.time_unix_nano = 1_767_607_200_123_000_000;
    item.record_id = "r-8f3a".into();
    item.user_email = Some("a@example.com".into());
    item.user_id = None;
    item.host = Some("10.0.0.5".into());
    item.session_id = None;
    item.prompt_id = None;
    item.version = None;
    item.cost_center = None;
    item.trace_id = None;
    item.tool = Some("echo \"x\" \\ ]".into());
    item.message = "Bash command allowed".into();
    item
}

#[test]
fn the_contract_example_is_written_byte_for_byte_with_the_three_sd_escapes() {
    let e = encoder(Format::Rfc5424, false, 8192);
    let text = String::from_utf8(encode(&e, &contract_item())).unwrap();
    let pid = std::process::id();
    assert_eq!(
        text,
        format!(
            "<110>1 2026-01-05T10:00:00.123000Z gw-1 cairn {pid} tool_decision \
             [cairn@32473 record_id=\"r-8f3a\" kind=\"event\" user=\"a@example.com\" act=\"allowed\" \
             outcome=\"success\" src=\"10.0.0.5\" app=\"claude_code\" tool=\"echo \\\"x\\\" \\\\ \\]\"] \
             \u{feff}Bash command allowed"
        )
    );
    let m = parse_rfc5424(text.as_bytes()).unwrap();
    assert_eq!(m.param("cairn@32473", "tool"), Some("echo \"x\" \\ ]"));
}

#[test]
fn header_fields_are_made_valid() {
    assert_eq!(
        timestamp(1_767_607_200_123_456_789),
        "2026-01-05T10:00:00.123456Z"
    );
    assert_eq!(timestamp(0), "-");
    let e = Encoder::new(Format::Rfc5424, 13, "gw 1\u{e9}\n", 9, false, 8192);
    assert_eq!(e.hostname(), "gw_1__");
    assert_eq!(
        Encoder::new(Format::Rfc5424, 13, "", 9, false, 8192).hostname(),
        "-"
    );
    let long = "h".repeat(300);
    assert_eq!(
        Encoder::new(Format::Rfc5424, 13, &long, 9, false, 8192)
            .hostname()
            .len(),
        255
    );
    let mut item = contract_item();
    item.name = format!("{}é tail", "n".repeat(40));
    item.time_unix_nano = 0;
    let m = parse_rfc5424(&encode(&e, &item)).unwrap();
    assert_eq!(m.msgid, Some("n".repeat(32)));
    assert_eq!(m.timestamp, None);
    assert_eq!(m.sd[0].id, "cairn@9");
    item.name = String::new();
    assert_eq!(parse_rfc5424(&encode(&e, &item)).unwrap().msgid, None);
}

#[test]
fn detail_is_appended_on_request_and_cut_at_the_end_of_msg_only() {
    let all = fixture_items();
    let item = all.iter().find(|i| i.name == "api_request").unwrap();
    let full = encoder(Format::Rfc5424, true, 65_536);
    let m = parse_rfc5424(&encode(&full, item)).unwrap();
    let msg = m.msg.clone().unwrap();
    assert_eq!(msg, format!("{} {}", item.message, item.detail));
    let json: serde_json::Value = serde_json::from_str(&msg[item.message.len() + 1..]).unwrap();
    assert_eq!(json, item.detail);
    assert_eq!(m.param("cairn@32473", "truncated"), None);

    let mut wide = item.clone();
    wide.message = "é".repeat(2000);
    for limit in [600, 1000, 1400, 1401, 2048] {
        let e = encoder(Format::Rfc5424, true, limit);
        let bytes = encode(&e, &wide);
        assert!(
            bytes.len() <= limit && bytes.len() >= limit - 1,
            "{limit}: {}",
            bytes.len()
        );
        let m = parse_rfc5424(&bytes).unwrap();
        assert_rfc5424(&m, &wide, "gw-1");
        assert_eq!(m.param("cairn@32473", "truncated"), Some("true"));
        let cut = m.msg.unwrap();
        assert!(!cut.is_empty() && wide.message.starts_with(&cut), "{limit}");
    }
    // Header and structured data alone over the limit: refused, not mangled.
    let mut heavy = item.clone();
    heavy.cost_center = Some("c".repeat(600));
    let mut out = Vec::new();
    let err = encoder(Format::Rfc5424, false, 480)
        .encode(&heavy, &mut out)
        .unwrap_err();
    assert!(err.0.contains("480-byte message limit"), "{}", err.0);
    assert!(!err.0.contains("ccc"), "no record content in the reason");
}

#[test]
fn every_fixture_record_maps_field_by_field_to_cef() {
    let e = encoder(Format::Cef, false, 8192);
    let mut all = fixture_items();
    all.extend(
        chains_of(&fixture_batches())
            .iter()
            .map(AuditItem::from_chain),
    );
    for item in &all {
        let bytes = encode(&e, item);
        let m = parse_rfc5424(&bytes).unwrap();
        assert_eq!(m.pri, 13 * 8 + item.severity.syslog());
        assert_eq!(m.msgid.as_deref(), Some(item.name.as_str()));
        assert!(m.sd.is_empty() && !m.bom);
        let c = parse_cef(m.msg.as_deref().unwrap()).unwrap();
        assert_cef(&c, item, "gw-1");
    }
}

#[test]
fn the_cef_contract_example_escapes_header_and_extension_differently() {
    let mut item = contract_item();
    item.message = "path a=b with pipe | kept\nline\r2 back\\slash".into();
    item.version = Some("2.1|0\\x".into());
    item.tool = Some("Bash".into());
    let (head, pairs) = cef::line(&item, "gw-1");
    assert_eq!(
        head,
        "CEF:0|Anthropic|Claude Code|2.1\\|0\\\\x|tool_decision|tool decision|3|"
    );
    let ext = pairs.join(" ");
    assert!(
        ext.starts_with("rt=1767607200123 externalId=r-8f3a cat=event act=allowed outcome=success suser=a@example.com shost=10.0.0.5 dvchost=gw-1 app=claude_code cs1Label=tool cs1=Bash "),
        "{ext}"
    );
    assert!(
        ext.ends_with(" msg=path a\\=b with pipe | kept\\nline\\r2 back\\\\slash"),
        "{ext}"
    );
    let c = parse_cef(&format!("{head}{ext}")).unwrap();
    assert_eq!(c.get("msg"), Some(item.message.as_str()));
    assert_eq!(c.device_version, "2.1|0\\x");
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z =\\\\|\\n\\r\"\\]\\[é☃]{0,40}",
        proptest::collection::vec(any::<char>(), 0..30).prop_map(|v| v.into_iter().collect()),
        "(\\\\|=|\\|| k=| |\\\\n){0,12}",
    ]
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

prop_compose! {
    fn arbitrary_item()(
        strings in proptest::collection::vec(opt_text(), 12),
        message in text(),
        action in text(),
        name in text(),
    ) -> AuditItem {
        let mut item = contract_item();
        let mut s = strings.into_iter();
        let mut next = || s.next().flatten();
        item.user_email = next();
        item.user_id = next();
        item.account_uuid = next();
        item.organization_id = next();
        item.session_id = next();
        item.prompt_id = next();
        item.host = next();
        item.tenant = next();
        item.tool = next();
        item.model = next();
        item.cost_center = next();
        item.version = next();
        item.message = message;
        item.action = action;
        item.name = name;
        item.outcome = Outcome::Unknown;
        item
    }
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Unescaping the CEF line gives back every value; the header has
    /// exactly seven unescaped pipes; no raw CR or LF anywhere.
    #[test]
    fn cef_escaping_round_trips(item in arbitrary_item()) {
        let (head, pairs) = cef::line(&item, "gw-1");
        let line = format!("{head}{}", pairs.join(" "));
        prop_assert!(!line.contains(['\n', '\r']));
        let mut unescaped_pipes = 0;
        let mut escaped = false;
        for ch in head.chars() {
            match (escaped, ch) {
                (false, '\\') => escaped = true,
                (false, '|') => unescaped_pipes += 1,
                _ => escaped = false,
            }
        }
        prop_assert_eq!(unescaped_pipes, 7);
        let c = parse_cef(&line).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
        let flat = |s: &str| s.replace(['\r', '\n'], " ");
        prop_assert_eq!(&c.class_id, &flat(&item.name));
        prop_assert_eq!(&c.name, &flat(&item.name.replace('_', " ")));
        prop_assert_eq!(&c.device_version, &flat(item.version.as_deref().unwrap_or("")));
        prop_assert_eq!(c.get("msg"), Some(item.message.as_str()).filter(|m| !m.is_empty()));
        prop_assert_eq!(c.get("act"), Some(item.action.as_str()).filter(|m| !m.is_empty()));
        prop_assert_eq!(c.get("suser"), item.user().filter(|u| !u.is_empty()));
        prop_assert_eq!(c.get("shost"), nonempty(&item.host));
        prop_assert_eq!(c.labelled("tool"), nonempty(&item.tool));
        prop_assert_eq!(c.labelled("model"), nonempty(&item.model));
        prop_assert_eq!(c.labelled("session"), nonempty(&item.session_id));
        prop_assert_eq!(c.labelled("prompt"), nonempty(&item.prompt_id));
        prop_assert_eq!(c.labelled("org"), nonempty(&item.organization_id));
        prop_assert_eq!(c.labelled("cost_center"), nonempty(&item.cost_center));
        prop_assert_eq!(c.labelled("tenant"), nonempty(&item.tenant));
    }

    /// A CEF message cut to any limit still parses, stays within the limit,
    /// and every value is the original or (the last one) a prefix of it.
    #[test]
    fn cut_cef_lines_still_parse(item in arbitrary_item(), limit in 480usize..1200) {
        let e = encoder(Format::Cef, false, limit);
        let mut out = Vec::new();
        if e.encode(&item, &mut out).is_err() {
            return Ok(());
        }
        prop_assert!(out.len() <= limit);
        let m = parse_rfc5424(&out).map_err(TestCaseError::fail)?;
        let c = parse_cef(m.msg.as_deref().unwrap_or("")).map_err(TestCaseError::fail)?;
        let (_, pairs) = cef::line(&item, "gw-1");
        let full = parse_cef(&format!("CEF:0|a|b|c|d|e|3|{}", pairs.join(" "))).unwrap();
        prop_assert!(c.extension.len() <= full.extension.len());
        for (i, (got, want)) in c.extension.iter().zip(&full.extension).enumerate() {
            prop_assert_eq!(&got.0, &want.0);
            if i + 1 == c.extension.len() {
                prop_assert!(want.1.starts_with(got.1.as_str()));
            } else {
                prop_assert_eq!(&got.1, &want.1);
            }
        }
    }

    /// Structured-data values and the message survive the strict reader.
    #[test]
    fn rfc5424_escaping_round_trips(item in arbitrary_item()) {
        let e = encoder(Format::Rfc5424, false, 65_536);
        let bytes = encode(&e, &item);
        let m = parse_rfc5424(&bytes).map_err(TestCaseError::fail)?;
        let p = |n: &str| m.param("cairn@32473", n);
        prop_assert_eq!(p("user"), item.user().filter(|u| !u.is_empty()));
        prop_assert_eq!(p("act"), Some(item.action.as_str()).filter(|a| !a.is_empty()));
        prop_assert_eq!(p("src"), nonempty(&item.host));
        prop_assert_eq!(p("tool"), nonempty(&item.tool));
        prop_assert_eq!(p("model"), nonempty(&item.model));
        prop_assert_eq!(p("tenant"), nonempty(&item.tenant));
        prop_assert_eq!(p("org"), nonempty(&item.organization_id));
        prop_assert_eq!(p("cost_center"), nonempty(&item.cost_center));
        prop_assert_eq!(m.msg.as_deref(), Some(item.message.as_str()));
        prop_assert!(m.bom);
    }
}

fn config(toml_text: &str) -> Result<Config, String> {
    toml::from_str::<Config>(toml_text).map_err(|e| e.to_string())
}

#[test]
fn config_defaults_and_facility_names() {
    let c = config("address = \"127.0.0.1:514\"").unwrap();
    c.check().unwrap();
    assert_eq!(c.facility.code(), Ok(13));
    assert_eq!(c.max_bytes(), 8192);
    assert_eq!(c.enterprise_number, 32473);
    assert!(!c.include_detail);
    let u = config("address = \"127.0.0.1:514\"\ntransport = \"udp\"").unwrap();
    assert_eq!(u.max_bytes(), 1400);
    assert_eq!(Facility::Name("local4".into()).code(), Ok(20));
    assert_eq!(Facility::Name("AUTHPRIV".into()).code(), Ok(10));
    assert_eq!(Facility::Number(4).code(), Ok(4));
    assert!(Facility::Number(24).code().is_err());
    assert!(Facility::Name("local8".into()).code().is_err());
    let c = config("address = \"[::1]:6514\"\ntransport = \"tls\"\nfacility = \"local0\"").unwrap();
    c.check().unwrap();
    assert!(c.build().is_ok(), "public roots, no files needed");
}

#[test]
fn config_refusals_name_the_problem() {
    let cases = [
        ("address = \"localhost\"", "host:port"),
        ("address = \"h:0\"", "valid port"),
        ("address = \"h:1\"\nfacility = 40", "0..=23"),
        ("address = \"h:1\"\nhostname = \"a b\"", "printable"),
        ("address = \"h:1\"\nenterprise_number = 0", "enterprise"),
        (
            "address = \"h:1\"\nmax_message_bytes = 100",
            "minimum of 480",
        ),
        ("address = \"h:1\"\nmax_datagram_bytes = 1000", "udp only"),
        (
            "address = \"h:1\"\ntransport = \"udp\"\nmax_message_bytes = 1000",
            "max_datagram_bytes",
        ),
        (
            "address = \"h:1\"\ntransport = \"udp\"\nmax_datagram_bytes = 70000",
            "ceiling",
        ),
        (
            "address = \"h:1\"\nformat = \"cef\"\ninclude_detail = true",
            "rfc5424",
        ),
        ("address = \"h:1\"\nca_file = \"/x\"", "tls"),
        (
            "address = \"h:1\"\ntransport = \"tls\"\nclient_cert = \"/x\"",
            "client_key",
        ),
        (
            "address = \"h:1\"\ntransport = \"tls\"\nserver_name = \"a b\"",
            "server_name",
        ),
    ];
    for (text, want) in cases {
        let err = config(text).unwrap().check().unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
    assert!(
        config("address = \"h:1\"\nport = 5").is_err(),
        "unknown keys are refused"
    );
    assert!(config("address = \"h:1\"\ntransport = \"relp\"").is_err());
    assert!(config("address = \"h:1\"\nformat = \"leef\"").is_err());
    let err = config("address = \"h:1\"\ntransport = \"tls\"\nca_file = \"/nonexistent/ca.pem\"")
        .unwrap()
        .build()
        .err()
        .unwrap();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}

#[test]
fn the_example_config_file_is_valid() {
    let sinks = example_sinks("sink-syslog.toml");
    assert!(!sinks.is_empty());
    for sink in &sinks {
        let syslog = sink.syslog.as_ref().expect("a [sinks.syslog] table");
        syslog.check().unwrap();
        assert!(!sink.route.records.is_empty());
    }
}
