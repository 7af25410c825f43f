//! The kind vocabulary: what a finding is, how specific it is, and compact sets of kinds.
//!
//! Built-in kinds use the names of the shared redaction corpus README. Custom rules get ids
//! after the built-ins; their names live in the [`crate::Redactor`] that registered them.

use std::fmt;

/// What a finding is: a built-in vocabulary kind or a custom rule's kind.
///
/// Built-ins are the associated constants (`Kind::EMAIL`, …). Custom kinds are allocated by
/// [`crate::RedactorConfig::build`]; get their names with [`crate::Redactor::kind_name`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kind(pub(crate) u8);

/// Names of the built-in kinds, indexed by `Kind.0`.
const BUILTIN_NAMES: [&str; BUILTIN_COUNT] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "github_token",
    "gitlab_token",
    "anthropic_api_key",
    "openai_api_key",
    "slack_token",
    "slack_webhook_url",
    "stripe_key",
    "google_api_key",
    "gcp_service_account",
    "private_key",
    "jwt",
    "bearer_token",
    "basic_auth_url",
    "password_assignment",
    "azure_storage_connection_string",
    "npm_token",
    "pypi_token",
    "twilio",
    "sendgrid_api_key",
    "datadog_api_key",
    "huggingface_token",
    "generic_secret",
    "us_ssn",
    "credit_card",
    "email",
    "phone_us",
    "iban",
    "ipv4",
];

/// Number of built-in kinds.
pub(crate) const BUILTIN_COUNT: usize = 30;
/// Highest number of kinds a [`KindSet`] can hold (built-ins plus custom).
pub(crate) const MAX_KINDS: usize = 128;

#[allow(missing_docs)]
impl Kind {
    pub const AWS_ACCESS_KEY_ID: Kind = Kind(0);
    pub const AWS_SECRET_ACCESS_KEY: Kind = Kind(1);
    pub const GITHUB_TOKEN: Kind = Kind(2);
    pub const GITLAB_TOKEN: Kind = Kind(3);
    pub const ANTHROPIC_API_KEY: Kind = Kind(4);
    pub const OPENAI_API_KEY: Kind = Kind(5);
    pub const SLACK_TOKEN: Kind = Kind(6);
    pub const SLACK_WEBHOOK_URL: Kind = Kind(7);
    pub const STRIPE_KEY: Kind = Kind(8);
    pub const GOOGLE_API_KEY: Kind = Kind(9);
    pub const GCP_SERVICE_ACCOUNT: Kind = Kind(10);
    pub const PRIVATE_KEY: Kind = Kind(11);
    pub const JWT: Kind = Kind(12);
    pub const BEARER_TOKEN: Kind = Kind(13);
    pub const BASIC_AUTH_URL: Kind = Kind(14);
    pub const PASSWORD_ASSIGNMENT: Kind = Kind(15);
    pub const AZURE_STORAGE_CONNECTION_STRING: Kind = Kind(16);
    pub const NPM_TOKEN: Kind = Kind(17);
    pub const PYPI_TOKEN: Kind = Kind(18);
    pub const TWILIO: Kind = Kind(19);
    pub const SENDGRID_API_KEY: Kind = Kind(20);
    pub const DATADOG_API_KEY: Kind = Kind(21);
    pub const HUGGINGFACE_TOKEN: Kind = Kind(22);
    pub const GENERIC_SECRET: Kind = Kind(23);
    pub const US_SSN: Kind = Kind(24);
    pub const CREDIT_CARD: Kind = Kind(25);
    pub const EMAIL: Kind = Kind(26);
    pub const PHONE_US: Kind = Kind(27);
    pub const IBAN: Kind = Kind(28);
    pub const IPV4: Kind = Kind(29);
}

impl Kind {
    /// The vocabulary name of a built-in kind; `None` for a custom kind.
    pub fn builtin_name(self) -> Option<&'static str> {
        BUILTIN_NAMES.get(usize::from(self.0)).copied()
    }

    /// The built-in kind with this vocabulary name.
    pub fn from_builtin_name(name: &str) -> Option<Kind> {
        BUILTIN_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| u8::try_from(i).ok())
            .map(Kind)
    }

    /// Every built-in kind, in vocabulary order.
    pub fn builtins() -> impl Iterator<Item = Kind> {
        (0..BUILTIN_COUNT as u8).map(Kind)
    }

    /// True for kinds registered by custom rules.
    pub fn is_custom(self) -> bool {
        usize::from(self.0) >= BUILTIN_COUNT
    }

    /// How specific the kind is: when findings overlap, the merged replacement is labeled with
    /// the highest-ranked kind. Vendor formats beat context-only detections, which beat PII.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Kind::GCP_SERVICE_ACCOUNT => 100,
            Kind::PRIVATE_KEY => 98,
            Kind::AWS_ACCESS_KEY_ID
            | Kind::GITHUB_TOKEN
            | Kind::GITLAB_TOKEN
            | Kind::ANTHROPIC_API_KEY
            | Kind::OPENAI_API_KEY
            | Kind::SLACK_TOKEN
            | Kind::SLACK_WEBHOOK_URL
            | Kind::STRIPE_KEY
            | Kind::GOOGLE_API_KEY
            | Kind::AZURE_STORAGE_CONNECTION_STRING
            | Kind::NPM_TOKEN
            | Kind::PYPI_TOKEN
            | Kind::SENDGRID_API_KEY
            | Kind::HUGGINGFACE_TOKEN => 90,
            Kind::JWT => 85,
            Kind::TWILIO => 75,
            Kind::DATADOG_API_KEY => 72,
            Kind::AWS_SECRET_ACCESS_KEY => 70,
            Kind::BASIC_AUTH_URL => 65,
            Kind::PASSWORD_ASSIGNMENT => 60,
            Kind::BEARER_TOKEN => 50,
            Kind::GENERIC_SECRET => 40,
            Kind::CREDIT_CARD => 35,
            Kind::IBAN => 34,
            Kind::US_SSN => 33,
            Kind::PHONE_US => 30,
            Kind::EMAIL => 25,
            Kind::IPV4 => 10,
            // Custom rules are written for formats the built-ins do not know, so they are
            // treated as more specific than every built-in except PEM blocks.
            _ => 95,
        }
    }
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.builtin_name() {
            Some(n) => f.write_str(n),
            None => write!(f, "custom#{}", usize::from(self.0) - BUILTIN_COUNT),
        }
    }
}

/// A set of kinds (a 128-bit set). Copy, allocation-free: cheap to attach to every record.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u128);

impl KindSet {
    /// The empty set.
    pub const fn new() -> KindSet {
        KindSet(0)
    }

    /// Adds a kind.
    pub fn insert(&mut self, kind: Kind) {
        self.0 |= 1u128 << (u32::from(kind.0) % 128);
    }

    /// Removes a kind.
    pub fn remove(&mut self, kind: Kind) {
        self.0 &= !(1u128 << (u32::from(kind.0) % 128));
    }

    /// True when the set holds `kind`.
    pub fn contains(&self, kind: Kind) -> bool {
        self.0 & (1u128 << (u32::from(kind.0) % 128)) != 0
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// Number of kinds in the set.
    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// Union of two sets.
    pub fn union(self, other: KindSet) -> KindSet {
        KindSet(self.0 | other.0)
    }

    /// The kinds in ascending id order.
    pub fn iter(&self) -> impl Iterator<Item = Kind> + '_ {
        let bits = self.0;
        (0..MAX_KINDS as u8)
            .filter(move |i| bits & (1u128 << u32::from(*i)) != 0)
            .map(Kind)
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(iter: I) -> Self {
        let mut s = KindSet::new();
        for k in iter {
            s.insert(k);
        }
        s
    }
}

impl fmt::Debug for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::builtins() {
            let n = k.builtin_name().unwrap_or_default();
            assert_eq!(Kind::from_builtin_name(n), Some(k));
        }
        assert_eq!(Kind::builtins().count(), BUILTIN_COUNT);
        assert_eq!(Kind::from_builtin_name("nope"), None);
    }

    #[test]
    fn set_ops() {
        let mut s = KindSet::new();
        assert!(s.is_empty());
        s.insert(Kind::EMAIL);
        s.insert(Kind(127));
        assert!(s.contains(Kind::EMAIL) && s.contains(Kind(127)));
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![Kind::EMAIL, Kind(127)]);
        s.remove(Kind::EMAIL);
        assert!(!s.contains(Kind::EMAIL));
    }
}
