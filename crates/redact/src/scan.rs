//! The compiled engine: the anchor automaton, compiled rules, and the scan pipeline
//! (prefilter → confirm → validate → merge → replace).
//!
//! One Aho-Corasick pass (leftmost-first, restarted one byte after each hit so nested or
//! overlapping anchors are all seen; at most 64 case-sensitive literals of four bytes or more,
//! so the SIMD "Teddy" prefilter applies) finds vendor prefixes and credential keywords; each
//! hit runs its rule on a bounded slice. Digit runs, `@` and long token runs are found by byte
//! scans. No rule ever
//! runs a regex over the whole text, except custom rules that were configured without
//! keywords.

use std::borrow::Cow;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind, Span};

use crate::classes::{Classes, with_classes};
use crate::config::{BuildError, RedactorConfig, valid_kind_name};
use crate::kind::{BUILTIN_COUNT, Kind, KindSet, MAX_KINDS};
use crate::outcome::{Finding, Outcome, Redacted, Unscannable};
use crate::replace::{self, Region};
use crate::rules::custom::CustomRules;
use crate::rules::url::SlackWebhook;
use crate::rules::vendor::{self, Vendor, VendorRule};
use crate::rules::{Raw, Sink, bare, bearer, digits, email, keyword, pem};

/// What an anchor hit triggers.
#[derive(Clone, Copy, Debug)]
enum Anchor {
    /// Index into [`VENDOR_RULES`]; the token starts at the anchor.
    Vendor(usize),
    /// Stripe's `k_live_` / `k_test_`: the token starts one byte before the anchor.
    Stripe,
    /// OpenAI's `T3BlbkFJ` marker in the middle of a key: the token starts at `sk-` before it.
    OpenAiMarker,
    Pem,
    /// A JWT header start (`eyJhbGci`…): the token starts at the anchor.
    JwtHeader,
    /// `.eyJ`, the start of a JWT payload: the token starts at the header before it.
    JwtPayload,
    SlackWebhook,
    Keyword,
    Bearer,
    /// `mysql` / `login`: look for a `-p` password flag on the rest of the command line.
    PasswordFlag,
}

static VENDOR_RULES: [&VendorRule; 16] = [
    &vendor::AWS_KEY_ID,
    &vendor::GITHUB,
    &vendor::GITHUB_PAT,
    &vendor::GITLAB,
    &vendor::ANTHROPIC,
    &vendor::OPENAI,
    &vendor::SLACK,
    &vendor::STRIPE,
    &vendor::GOOGLE,
    &vendor::NPM,
    &vendor::PYPI,
    &vendor::SENDGRID,
    &vendor::HUGGINGFACE,
    &vendor::WHSEC,
    &vendor::GOOGLE_OAUTH,
    &vendor::AZURE_KEY,
];
const V_AWS: usize = 0;
const V_GITHUB: usize = 1;
const V_GITHUB_PAT: usize = 2;
const V_GITLAB: usize = 3;
const V_ANTHROPIC: usize = 4;
const V_OPENAI: usize = 5;
const V_SLACK: usize = 6;
const V_STRIPE: usize = 7;
const V_GOOGLE: usize = 8;
const V_NPM: usize = 9;
const V_PYPI: usize = 10;
const V_SENDGRID: usize = 11;
const V_HF: usize = 12;
const V_WHSEC: usize = 13;
const V_YA29: usize = 14;
const V_AZURE: usize = 15;

/// Every literal of the prefilter pass. Case-sensitive and at least four bytes long on
/// purpose: case-insensitive matching disables the SIMD prefilter, and three-byte literals
/// (`key`, `eyJ`, `://`) make its fingerprints match ordinary prose so often that verification
/// dominated the scan. Keywords are listed in the spellings code uses (`_key`/`_KEY`,
/// `oken`/`OKEN` for `token`/`Token`/`TOKEN`); `user:pass@host` URLs are found from `@`
/// by the byte scan instead.
///
/// The order does not change what is found (no literal is a prefix of another, so two never
/// match at the same offset and leftmost-first has nothing to prefer), but it is how Teddy
/// shares its 16 buckets out: a literal whose first bytes' low nibbles are new goes to bucket
/// `15 - index % 16`, and every bucket matches the union of its literals' nibbles. This order
/// came from a search (random orders, then pairwise swaps) for the fewest false candidates:
/// the anchor pass alone went from 2.49 to 1.79 ms on the 8 MiB corpus, and from 0.68 to
/// 0.54 ms on 2 MB of text it was not tuned on (this repository's sources and docs).
const ANCHORS: &[(&str, Anchor)] = &[
    ("ya29.", Anchor::Vendor(V_YA29)),
    ("glpat-", Anchor::Vendor(V_GITLAB)),
    ("AccountKey=", Anchor::Vendor(V_AZURE)),
    ("xoxa", Anchor::Vendor(V_SLACK)),
    ("oken", Anchor::Keyword),
    ("_PWD", Anchor::Keyword),
    ("EARER", Anchor::Bearer),
    ("gho_", Anchor::Vendor(V_GITHUB)),
    ("sk-svcacct-", Anchor::Vendor(V_OPENAI)),
    ("xoxe", Anchor::Vendor(V_SLACK)),
    ("AKIA", Anchor::Vendor(V_AWS)),
    ("eyJhbGci", Anchor::JwtHeader),
    ("ASIA", Anchor::Vendor(V_AWS)),
    ("_key", Anchor::Keyword),
    ("eyJ0eXAi", Anchor::JwtHeader),
    ("xapp", Anchor::Vendor(V_SLACK)),
    ("sk-admin-", Anchor::Vendor(V_OPENAI)),
    ("pypi-AgE", Anchor::Vendor(V_PYPI)),
    ("sk-ant-", Anchor::Vendor(V_ANTHROPIC)),
    ("ghs_", Anchor::Vendor(V_GITHUB)),
    ("-key", Anchor::Keyword),
    ("k_live_", Anchor::Stripe),
    ("AIza", Anchor::Vendor(V_GOOGLE)),
    ("_PASS", Anchor::Keyword),
    ("npm_", Anchor::Vendor(V_NPM)),
    ("xoxb", Anchor::Vendor(V_SLACK)),
    ("eyJraWQi", Anchor::JwtHeader),
    ("github_pat_", Anchor::Vendor(V_GITHUB_PAT)),
    ("-KEY", Anchor::Keyword),
    ("xoxp", Anchor::Vendor(V_SLACK)),
    ("ecret", Anchor::Keyword),
    ("gloas-", Anchor::Vendor(V_GITLAB)),
    ("SharedAccessKey=", Anchor::Vendor(V_AZURE)),
    ("hooks.slack.com", Anchor::SlackWebhook),
    ("mysql", Anchor::PasswordFlag),
    ("ECRET", Anchor::Keyword),
    ("OKEN", Anchor::Keyword),
    ("_pass", Anchor::Keyword),
    ("glrt-", Anchor::Vendor(V_GITLAB)),
    ("_pwd", Anchor::Keyword),
    ("earer", Anchor::Bearer),
    ("xoxs", Anchor::Vendor(V_SLACK)),
    ("ghp_", Anchor::Vendor(V_GITHUB)),
    (".eyJ", Anchor::JwtPayload),
    ("T3BlbkFJ", Anchor::OpenAiMarker),
    ("sk-proj-", Anchor::Vendor(V_OPENAI)),
    ("whsec_", Anchor::Vendor(V_WHSEC)),
    ("glptt-", Anchor::Vendor(V_GITLAB)),
    ("xoxr", Anchor::Vendor(V_SLACK)),
    ("login", Anchor::PasswordFlag),
    ("ghr_", Anchor::Vendor(V_GITHUB)),
    ("_KEY", Anchor::Keyword),
    ("ASSW", Anchor::Keyword),
    ("gldt-", Anchor::Vendor(V_GITLAB)),
    ("assw", Anchor::Keyword),
    ("ghu_", Anchor::Vendor(V_GITHUB)),
    ("-----BEGIN", Anchor::Pem),
    ("k_test_", Anchor::Stripe),
];

/// The compiled redaction engine. Immutable, `Send + Sync`: build once, share everywhere.
pub struct Redactor {
    /// The anchor literals as a packed (Teddy) searcher, called directly: the automaton below
    /// would only hand each search to this same searcher, at a cost per call that the short
    /// re-scan windows feel. `None` where Teddy is unavailable (no SIMD support).
    packed: Option<packed::Searcher>,
    anchors: AhoCorasick,
    vendors: Vec<Vendor>,
    slack_webhook: SlackWebhook,
    custom: CustomRules,
    /// Names of custom kinds, indexed by `kind.0 - BUILTIN_COUNT`.
    custom_names: Vec<String>,
    disabled: KindSet,
    max_scan_bytes: usize,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("custom_kinds", &self.custom_names)
            .field("disabled", &self.disabled)
            .field("max_scan_bytes", &self.max_scan_bytes)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// A builder starting from the default configuration.
    pub fn builder() -> crate::RedactorBuilder {
        crate::RedactorBuilder::new()
    }

    pub(crate) fn from_config(config: &RedactorConfig) -> Result<Redactor, BuildError> {
        if config.max_scan_bytes == 0 {
            return Err(BuildError::ZeroScanLimit);
        }
        let patterns: Vec<&str> = ANCHORS.iter().map(|(p, _)| *p).collect();
        let anchors = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(BuildError::Automaton)?;
        let packed = {
            let mut b = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostFirst)
                .builder();
            b.extend(&patterns);
            b.build()
        };
        let vendors = VENDOR_RULES
            .iter()
            .map(|r| Vendor::compile(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(BuildError::BuiltinRule)?;
        let slack_webhook = SlackWebhook::compile().map_err(BuildError::BuiltinRule)?;

        let mut custom_names: Vec<String> = Vec::new();
        let mut specs = Vec::with_capacity(config.custom_rules.len());
        for rule in &config.custom_rules {
            if !valid_kind_name(&rule.kind) {
                return Err(BuildError::InvalidKindName(rule.kind.clone()));
            }
            let kind = match Kind::from_builtin_name(&rule.kind) {
                Some(k) => k,
                None => match custom_names.iter().position(|n| *n == rule.kind) {
                    Some(i) => custom_kind(i)?,
                    None => {
                        custom_names.push(rule.kind.clone());
                        custom_kind(custom_names.len() - 1)?
                    }
                },
            };
            specs.push((kind, rule));
        }
        let custom = CustomRules::compile(&specs)?;

        let mut disabled = KindSet::new();
        for name in &config.disabled_kinds {
            let kind = Kind::from_builtin_name(name)
                .or_else(|| {
                    custom_names
                        .iter()
                        .position(|n| n == name)
                        .and_then(|i| custom_kind(i).ok())
                })
                .ok_or_else(|| BuildError::UnknownKind(name.clone()))?;
            disabled.insert(kind);
        }
        Ok(Redactor {
            packed,
            anchors,
            vendors,
            slack_webhook,
            custom,
            custom_names,
            disabled,
            max_scan_bytes: config.max_scan_bytes,
        })
    }

    /// The name of a kind: its vocabulary name or the custom rule's kind.
    pub fn kind_name(&self, kind: Kind) -> &str {
        match kind.builtin_name() {
            Some(n) => n,
            None => self
                .custom_names
                .get(usize::from(kind.0) - BUILTIN_COUNT)
                .map_or("custom", String::as_str),
        }
    }

    /// The kind with this name (built-in or custom).
    pub fn kind_by_name(&self, name: &str) -> Option<Kind> {
        Kind::from_builtin_name(name).or_else(|| {
            self.custom_names
                .iter()
                .position(|n| n == name)
                .and_then(|i| custom_kind(i).ok())
        })
    }

    /// Names of the kinds in `set`, in id order.
    pub fn kind_names<'r>(&'r self, set: &KindSet) -> Vec<&'r str> {
        set.iter().map(|k| self.kind_name(k)).collect()
    }

    /// The configured scan limit in bytes.
    pub fn max_scan_bytes(&self) -> usize {
        self.max_scan_bytes
    }

    /// Scans `text` and replaces every finding with `[REDACTED:<kind>]`.
    ///
    /// Never returns the original text unscanned: values over the scan limit, and any internal
    /// failure, produce [`Outcome::Unscannable`].
    pub fn redact<'a>(&self, text: &'a str) -> Outcome<'a> {
        match self.redact_inner(text) {
            Err(u) => Outcome::Unscannable(u),
            Ok((findings, None)) => Outcome::Scanned(Redacted {
                text: Cow::Borrowed(text),
                kinds: KindSet::new(),
                findings,
            }),
            Ok((findings, Some(out))) => {
                let kinds = findings.iter().map(|f| f.kind).collect();
                Outcome::Scanned(Redacted {
                    text: Cow::Owned(out),
                    kinds,
                    findings,
                })
            }
        }
    }

    /// Like [`Redactor::redact`] for raw bytes; bytes that are not UTF-8 are unscannable.
    pub fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Outcome<'a> {
        if bytes.len() > self.max_scan_bytes {
            return Outcome::Unscannable(Unscannable::TooLarge {
                len: bytes.len(),
                limit: self.max_scan_bytes,
            });
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.redact(text),
            Err(e) => Outcome::Unscannable(Unscannable::NotUtf8 {
                valid_up_to: e.valid_up_to(),
            }),
        }
    }

    /// The merged findings of `text` (byte spans into `text`), without rewriting it.
    pub fn find(&self, text: &str) -> Result<Vec<Finding>, Unscannable> {
        self.redact_inner(text).map(|(f, _)| f)
    }

    /// Findings and, when there are any, the rewritten text.
    fn redact_inner(&self, text: &str) -> Result<(Vec<Finding>, Option<String>), Unscannable> {
        if text.len() > self.max_scan_bytes {
            return Err(Unscannable::TooLarge {
                len: text.len(),
                limit: self.max_scan_bytes,
            });
        }
        // The rules index with bounds checks everywhere; should one still panic, the value is
        // dropped instead of taking the pipeline down or passing through unscanned.
        catch_unwind(AssertUnwindSafe(|| self.fixpoint(text))).map_err(|_| Unscannable::Internal)?
    }

    /// Scans, renders, then re-scans the neighbourhood of every replacement in the output:
    /// a marker can change what a context rule sees next to it (a hash whose cue window now
    /// reaches a credential name), and whatever a second pass would find is folded back in,
    /// mapped to input offsets. The result is a fixed point: redacting it again changes
    /// nothing. The re-scan covers a few hundred bytes per finding, not the whole value.
    fn fixpoint(&self, text: &str) -> Result<(Vec<Finding>, Option<String>), Unscannable> {
        let hay = text.as_bytes();
        let mut findings = self.scan(text);
        if findings.is_empty() {
            return Ok((findings, None));
        }
        let name = |k: Kind| self.kind_name(k);
        for _ in 0..3 {
            let (out, regions) = replace::render_mapped(text, &findings, name)?;
            let extra = self.rescan_near(&out, &regions);
            if extra.is_empty() {
                return Ok((findings, Some(out)));
            }
            let mut raw: Vec<Raw> = findings
                .iter()
                .map(|f| Raw {
                    start: f.start,
                    end: f.end,
                    kind: f.kind,
                })
                .collect();
            raw.extend(extra);
            findings = replace::merge(hay, raw);
        }
        let (out, _) = replace::render_mapped(text, &findings, name)?;
        Ok((findings, Some(out)))
    }

    /// Findings of a second pass over the rendered `out`, near its replacements, as input
    /// offsets. Only findings that reach outside the existing replacements count.
    fn rescan_near(&self, out: &str, regions: &[Region]) -> Vec<Raw> {
        // Farther than any rule looks for context that decides detection (hash cue windows:
        // 64 bytes before, 40 after; credential names: 64). Wider windows only pick kinds.
        const REACH: usize = 96;
        let ob = out.as_bytes();
        let mut extra = Vec::new();
        let mut windows: Vec<(usize, usize)> = Vec::new();
        for r in regions {
            let mut s = r.out.0.saturating_sub(REACH);
            let mut e = (r.out.1 + REACH).min(ob.len());
            // Widen to whitespace so no token is cut by the window edge.
            let (s_floor, e_cap) = (s.saturating_sub(64), (e + 64).min(ob.len()));
            while s > s_floor && !ob[s - 1].is_ascii_whitespace() {
                s -= 1;
            }
            while e < e_cap && !ob[e].is_ascii_whitespace() {
                e += 1;
            }
            while s > 0 && !out.is_char_boundary(s) {
                s -= 1;
            }
            while e < ob.len() && !out.is_char_boundary(e) {
                e += 1;
            }
            match windows.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => windows.push((s, e)),
            }
        }
        for (ws, we) in windows {
            let Some(w) = out.get(ws..we) else { continue };
            for f in self.scan(w) {
                let (a, b) = (ws + f.start, ws + f.end);
                let inside_marker = regions.iter().any(|r| r.out.0 <= a && b <= r.out.1);
                if inside_marker {
                    continue;
                }
                let (oa, ob_) = (
                    replace::map_back(regions, a, false),
                    replace::map_back(regions, b, true),
                );
                if oa < ob_ {
                    extra.push(Raw {
                        start: oa,
                        end: ob_,
                        kind: f.kind,
                    });
                }
            }
        }
        extra
    }

    fn scan(&self, text: &str) -> Vec<Finding> {
        let hay = text.as_bytes();
        let mut sink = Sink::new(hay, self.disabled);
        // Precise rules first; each later stage treats every finding so far as a boundary,
        // exactly as its `[REDACTED:…]` marker will be, so a second pass over the output sees
        // the same pieces and finds nothing new.
        self.scan_anchors(&mut sink);
        sink.index_for_lookup();
        email::scan_at_signs(&mut sink);
        sink.index_for_lookup();
        // A value shorter than a long token and without a digit gives both bitmap scans
        // nothing to look at (most attribute keys and many values).
        if hay.len() >= bare::MIN_RUN || hay.iter().any(u8::is_ascii_digit) {
            with_classes(hay, |classes| self.scan_bitmaps(&mut sink, classes));
        }
        if !self.custom.is_empty() {
            self.custom.scan(text, &mut sink);
        }
        replace::merge(hay, sink.into_findings())
    }

    /// The stages that read the text's class bitmaps: the digit scan, then the long-token
    /// scan.
    fn scan_bitmaps(&self, sink: &mut Sink<'_>, classes: &[Classes]) {
        digits::scan_digits(sink, classes);
        sink.index_for_lookup();
        // Formats whose fixed prefix is too short for the anchor pass are recognised by the
        // long-token scan and confirmed by their vendor rule.
        let prefixed = |sink: &mut Sink<'_>, start: usize| -> bool {
            let t = sink.hay.get(start..).unwrap_or_default();
            let rule = if t.starts_with(b"SG.") {
                V_SENDGRID
            } else if t.starts_with(b"hf_") {
                V_HF
            } else if t.starts_with(b"sk-") {
                V_OPENAI
            } else {
                return false;
            };
            self.vendors
                .get(rule)
                .is_some_and(|v| v.apply(sink, start, start + 3))
        };
        bare::scan(sink, classes, &prefixed);
    }

    fn scan_anchors(&self, sink: &mut Sink<'_>) {
        let hay = sink.hay;
        let mut pos = 0;
        while pos < hay.len() {
            let m = match &self.packed {
                Some(p) => p.find_in(hay, Span::from(pos..hay.len())),
                None => self.anchors.find(Input::new(hay).range(pos..)),
            };
            let Some(m) = m else {
                break;
            };
            let (s, e) = (m.start(), m.end());
            match ANCHORS.get(m.pattern().as_usize()).map(|a| a.1) {
                Some(Anchor::Vendor(i)) => {
                    if let Some(v) = self.vendors.get(i) {
                        v.apply(sink, s, e);
                    }
                }
                Some(Anchor::Stripe) => {
                    if let Some(v) = self.vendors.get(V_STRIPE) {
                        v.apply(sink, s.saturating_sub(1), e);
                    }
                }
                Some(Anchor::OpenAiMarker) => {
                    if let (Some(start), Some(v)) =
                        (vendor::token_start(hay, s, 160), self.vendors.get(V_OPENAI))
                        && hay.get(start..).is_some_and(|t| t.starts_with(b"sk-"))
                    {
                        v.apply(sink, start, start + 3);
                    }
                }
                Some(Anchor::Pem) => pem::pem(sink, s),
                Some(Anchor::JwtHeader) => vendor::jwt(sink, s),
                Some(Anchor::JwtPayload) => {
                    if let Some(start) = vendor::token_start(hay, s, 4096) {
                        vendor::jwt(sink, start);
                    }
                }
                Some(Anchor::SlackWebhook) => self.slack_webhook.apply(sink, s),
                Some(Anchor::Keyword) => keyword::keyword(sink, s, e),
                Some(Anchor::Bearer) => bearer::bearer(sink, s),
                Some(Anchor::PasswordFlag) => bearer::password_flag(sink, e),
                None => {}
            }
            pos = s + 1;
        }
    }
}

fn custom_kind(i: usize) -> Result<Kind, BuildError> {
    let id = BUILTIN_COUNT + i;
    if id >= MAX_KINDS {
        return Err(BuildError::TooManyKinds {
            max: MAX_KINDS - BUILTIN_COUNT,
        });
    }
    u8::try_from(id)
        .map(Kind)
        .map_err(|_| BuildError::TooManyKinds {
            max: MAX_KINDS - BUILTIN_COUNT,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn anchors_fit_the_simd_prefilter() {
        // More than 64 literals silently falls back to a much slower search, and a literal
        // shorter than four bytes shrinks every fingerprint.
        assert!(ANCHORS.len() <= 64, "{} anchors", ANCHORS.len());
        assert!(ANCHORS.iter().all(|(a, _)| a.len() >= 4));
    }

    #[test]
    fn anchor_order_decides_nothing() {
        // Two literals can only match at the same offset if one is a prefix of the other;
        // without that, reordering `ANCHORS` (done for speed) cannot change any match.
        for (a, _) in ANCHORS {
            for (b, _) in ANCHORS {
                assert!(a == b || !b.starts_with(a), "{a} is a prefix of {b}");
            }
        }
    }

    #[test]
    fn redactor_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Redactor>();
    }
}
