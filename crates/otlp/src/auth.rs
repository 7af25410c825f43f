//! Bearer-token authentication with per-token tenant labels.
//!
//! Claude Code sends `Authorization: Bearer …` (from
//! `OTEL_EXPORTER_OTLP_HEADERS`); Cowork sends whatever header an admin typed.
//! Tokens are compared in constant time: both sides are hashed with SHA-256
//! first so lengths do not leak, and every configured token is compared, so
//! the position of a match does not leak either.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// One accepted token and the tenant label it adds to every record.
#[derive(Clone)]
pub struct TokenEntry {
    /// The secret token.
    pub token: String,
    /// The tenant label, if any.
    pub tenant: Option<String>,
}

impl std::fmt::Debug for TokenEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEntry")
            .field("token", &"<redacted>")
            .field("tenant", &self.tenant)
            .finish()
    }
}

/// A token's SHA-256 and its tenant label.
type TokenDigest = ([u8; 32], Option<Arc<str>>);

/// Checks request credentials. Built once; cheap to share.
#[derive(Clone)]
pub struct Authenticator {
    header: http::HeaderName,
    tokens: Arc<Vec<TokenDigest>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("header", &self.header)
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

/// What a successful check yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The tenant label of the matching token.
    pub tenant: Option<Arc<str>>,
}

fn digest(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

impl Authenticator {
    /// Accepts every request (no tokens configured).
    pub fn open() -> Authenticator {
        Authenticator {
            header: http::header::AUTHORIZATION,
            tokens: Arc::new(Vec::new()),
        }
    }

    /// Requires one of `tokens` in `header` (`authorization` takes `Bearer <token>`;
    /// any other header carries the bare token).
    pub fn new(header: http::HeaderName, tokens: &[TokenEntry]) -> Authenticator {
        let tokens = tokens
            .iter()
            .map(|t| {
                (
                    digest(t.token.as_bytes()),
                    t.tenant.as_deref().map(Arc::from),
                )
            })
            .collect();
        Authenticator {
            header,
            tokens: Arc::new(tokens),
        }
    }

    /// Whether any token is required.
    pub fn is_open(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Checks a request's headers.
    pub fn check(&self, headers: &http::HeaderMap) -> Result<Authenticated, crate::ReceiveError> {
        if self.is_open() {
            return Ok(Authenticated { tenant: None });
        }
        let presented = headers
            .get(&self.header)
            .map(|v| v.as_bytes())
            .and_then(|v| self.extract(v))
            .ok_or(crate::ReceiveError::Unauthenticated)?;
        let got = digest(presented);
        let mut found: Option<&Option<Arc<str>>> = None;
        for (want, tenant) in self.tokens.iter() {
            if bool::from(want.ct_eq(&got)) && found.is_none() {
                found = Some(tenant);
            }
        }
        found
            .map(|tenant| Authenticated {
                tenant: tenant.clone(),
            })
            .ok_or(crate::ReceiveError::Unauthenticated)
    }

    fn extract<'a>(&self, value: &'a [u8]) -> Option<&'a [u8]> {
        if self.header != http::header::AUTHORIZATION {
            return Some(value.trim_ascii());
        }
        let value = value.trim_ascii();
        let (scheme, rest) = value.split_at_checked(7)?;
        scheme
            .eq_ignore_ascii_case(b"bearer ")
            .then(|| rest.trim_ascii())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(k: &str, v: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
        h
    }

    fn auth() -> Authenticator {
        Authenticator::new(
            http::header::AUTHORIZATION,
            &[
                TokenEntry {
                    token: "alpha-token".into(),
                    tenant: Some("team-a".into()),
                },
                TokenEntry {
                    token: "beta-token".into(),
                    tenant: None,
                },
            ],
        )
    }

    #[test]
    fn bearer_token_maps_to_its_tenant() {
        let a = auth()
            .check(&headers("authorization", "Bearer alpha-token"))
            .unwrap();
        assert_eq!(a.tenant.as_deref(), Some("team-a"));
        let b = auth()
            .check(&headers("Authorization", "bearer   beta-token "))
            .unwrap();
        assert_eq!(b.tenant, None);
    }

    #[test]
    fn wrong_missing_or_malformed_credentials_are_refused() {
        for h in [
            headers("authorization", "Bearer alpha-tokenX"),
            headers("authorization", "alpha-token"),
            headers("authorization", "Basic alpha-token"),
            headers("x-other", "Bearer alpha-token"),
            http::HeaderMap::new(),
        ] {
            assert_eq!(auth().check(&h), Err(crate::ReceiveError::Unauthenticated));
        }
    }

    #[test]
    fn custom_header_carries_the_bare_token() {
        let a = Authenticator::new(
            http::HeaderName::from_static("x-cairn-token"),
            &[TokenEntry {
                token: "t1".into(),
                tenant: Some("cowork".into()),
            }],
        );
        assert_eq!(
            a.check(&headers("x-cairn-token", "t1"))
                .unwrap()
                .tenant
                .as_deref(),
            Some("cowork")
        );
        assert!(a.check(&headers("authorization", "Bearer t1")).is_err());
    }

    #[test]
    fn open_authenticator_accepts_anything() {
        assert!(Authenticator::open().check(&http::HeaderMap::new()).is_ok());
    }
}
