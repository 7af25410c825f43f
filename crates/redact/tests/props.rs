//! Property tests: no input makes the engine panic or fail internally, detected secrets never
//! survive, and redacting twice changes nothing more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use cairn_redact::{Outcome, Redactor, RedactorConfig, Unscannable};
use proptest::prelude::*;

fn redactor() -> &'static Redactor {
    static R: OnceLock<Redactor> = OnceLock::new();
    R.get_or_init(|| RedactorConfig::default().build().unwrap())
}

/// Fragments that look like the real thing, glued together with noise: far more likely to
/// exercise the rules than uniformly random strings.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[A-Za-z0-9+/=_.~-]{8,60}",
        "(AKIA|ASIA)[A-Z2-7]{16}",
        "sk-(ant-api03|proj)-[A-Za-z0-9_-]{30,95}",
        "eyJ[A-Za-z0-9_-]{10,40}\\.eyJ[A-Za-z0-9_-]{10,40}\\.[A-Za-z0-9_-]{10,43}",
        "[a-z]{2,8}(\\.[a-z]{2,6})?@[a-z]{2,10}\\.(com|io|de)",
        "[2-9][0-8][0-9][-. ][2-9][0-9]{2}[-. ][0-9]{4}",
        "4[0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}",
        "[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}",
        "(DB_PASSWORD|api_key|SECRET_KEY|token|Bearer)[=: ]{1,3}[A-Za-z0-9!#%*_.-]{0,30}",
        "(postgres|https)://[a-z]{0,6}:[A-Za-z0-9!-]{0,12}@[a-z.]{1,12}",
        "-----BEGIN (RSA |EC )?PRIVATE KEY-----(\\n|\\\\n)[A-Za-z0-9+/]{0,70}((\\n|\\\\n)-----END PRIVATE KEY-----)?",
        "[0-9a-f]{32,64}",
        "(\\\\n|\\\\\"|\\\\u00e9|\\\\\\\\|\")",
        "[\u{80}-\u{10FFFF}]{1,3}",
        "…\\[[0-9]{2,4} chars\\]",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(fragment(), 0..12).prop_map(|v| v.concat()),
    ]
}

/// The same fragments, delimited the way tokens are in prose, code, logs and JSON.
fn delimited_text() -> impl Strategy<Value = String> {
    let sep = prop_oneof![
        Just(" "),
        Just("\n"),
        Just(", "),
        Just("\t"),
        Just("; "),
        Just("\": \""),
        Just("\\n")
    ];
    proptest::collection::vec((fragment(), sep), 0..12).prop_map(|v| {
        v.into_iter()
            .flat_map(|(f, s)| [f, s.to_string()])
            .collect()
    })
}

fn scanned(out: &Outcome<'_>) -> bool {
    !matches!(out, Outcome::Unscannable(Unscannable::Internal))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_strings(s in text()) {
        let out = redactor().redact(&s);
        prop_assert!(scanned(&out), "internal error on {s:?}");
    }

    #[test]
    fn never_panics_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..256)) {
        let out = redactor().redact_bytes(&b);
        prop_assert!(scanned(&out));
        if std::str::from_utf8(&b).is_err() {
            let not_utf8 = matches!(out.unscannable(), Some(Unscannable::NotUtf8 { .. }));
            prop_assert!(not_utf8);
        }
    }

    #[test]
    fn detected_secrets_never_survive(s in text()) {
        let out = redactor().redact(&s);
        for f in out.findings() {
            let secret = &s[f.start..f.end];
            // A quote inside a region is kept for JSON's sake; everything else must go.
            for piece in secret.split('"').filter(|p| p.len() >= 8) {
                prop_assert!(!out.text().contains(piece), "{piece:?} survived in {:?}", out.text());
            }
        }
    }

    /// Idempotent, delimited or glued: the engine folds in what a second pass would find.
    #[test]
    fn redaction_is_idempotent(s in prop_oneof![delimited_text(), text()]) {
        let once = redactor().redact(&s).text().to_string();
        let twice = redactor().redact(&once).text().to_string();
        prop_assert_eq!(&once, &twice, "input {:?}", s);
    }

    #[test]
    fn second_pass_never_reveals(s in text()) {
        let once = redactor().redact(&s).text().to_string();
        let twice = redactor().redact(&once).text().to_string();
        prop_assert!(twice.matches("[REDACTED:").count() + twice.matches("[DROPPED:").count()
            >= once.matches("[REDACTED:").count() + once.matches("[DROPPED:").count());
        prop_assert!(twice.len() <= once.len() + 64 * once.matches("[REDACTED:").count().max(1));
    }

    #[test]
    fn findings_are_sorted_disjoint_and_on_char_boundaries(s in text()) {
        let out = redactor().redact(&s);
        let mut last = 0;
        for f in out.findings() {
            prop_assert!(f.start >= last && f.start < f.end && f.end <= s.len());
            prop_assert!(s.is_char_boundary(f.start) && s.is_char_boundary(f.end));
            last = f.end;
        }
    }
}
