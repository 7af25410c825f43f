//! Credentials in sink configs: written as an environment variable name or
//! a file path (preferred, so configs can be committed), or inline. The
//! resolved value never appears in `Debug` output or cairn's logs.

use std::path::PathBuf;

use serde::Deserialize;

/// Where a credential comes from.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SecretRef {
    /// `token = { env = "CAIRN_SPLUNK_TOKEN" }`
    Env {
        /// The variable's name.
        env: String,
    },
    /// `token = { file = "/run/secrets/splunk" }` (trailing newline trimmed).
    File {
        /// The file's path.
        file: PathBuf,
    },
    /// `token = "…"` inline.
    Inline(String),
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Env { env } => write!(f, "env:{env}"),
            SecretRef::File { file } => write!(f, "file:{}", file.display()),
            SecretRef::Inline(_) => f.write_str("inline:[secret]"),
        }
    }
}

/// A resolved credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[secret]")
    }
}

impl Secret {
    /// A secret from a value (tests, token endpoints).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for building a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl SecretRef {
    /// Reads the credential. The error names where it looked, never a value.
    pub fn resolve(&self) -> Result<Secret, String> {
        let value = match self {
            SecretRef::Env { env } => {
                std::env::var(env).map_err(|_| format!("environment variable {env} is not set"))?
            }
            SecretRef::File { file } => std::fs::read_to_string(file)
                .map_err(|e| format!("reading {}: {e}", file.display()))?
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
            SecretRef::Inline(v) => v.clone(),
        };
        if value.is_empty() {
            return Err(format!("{self:?} is empty"));
        }
        Ok(Secret(value))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Deserialize)]
    struct T {
        token: SecretRef,
    }

    #[test]
    fn the_three_forms_resolve_and_never_print_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok");
        std::fs::write(&path, "from-file\n").unwrap();
        let t: T = toml::from_str(&format!("token = {{ file = {:?} }}", path)).unwrap();
        assert_eq!(t.token.resolve().unwrap().expose(), "from-file");
        let t: T = toml::from_str("token = \"inline-value\"").unwrap();
        let s = t.token.resolve().unwrap();
        assert_eq!(s.expose(), "inline-value");
        assert!(!format!("{:?} {:?}", t.token, s).contains("inline-value"));
        let t: T = toml::from_str("token = { env = \"CAIRN_TEST_SURELY_UNSET_VAR\" }").unwrap();
        let err = t.token.resolve().unwrap_err();
        assert!(err.contains("CAIRN_TEST_SURELY_UNSET_VAR"), "{err}");
    }
}
