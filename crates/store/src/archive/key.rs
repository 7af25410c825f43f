//! The archive's Ed25519 signing key and the text form of its public key.
//!
//! The private key is a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`), the
//! form `openssl genpkey -algorithm ed25519` writes, so an operator may make
//! one outside cairn and name it in the config. Otherwise cairn generates
//! one on first start at `<data-dir>/archive.key`, created with mode 0600
//! and never rewritten.
//!
//! The public key's text form is standard base64 (with padding) of its 32
//! bytes: 44 characters, what `cairn archive pubkey` prints. The parser also
//! takes 64 hex digits.

use std::{
    fs::{self, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{
    Signature, Signer, SigningKey, VerifyingKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};

/// Why a key could not be loaded, generated or parsed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("archive key {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The key file is not a PKCS#8 PEM Ed25519 private key.
    #[error("archive key {path}: not a PKCS#8 PEM Ed25519 private key ({reason})")]
    Format {
        /// The key file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// The system's random source failed.
    #[error("cannot generate an archive key: {0}")]
    Random(String),
    /// A public key string is neither base64 nor hex of 32 bytes, or not a
    /// valid Ed25519 point.
    #[error("not an Ed25519 public key (base64 or hex of 32 bytes): {0}")]
    PublicKey(String),
}

/// The key that signs the archive's seals.
pub struct ArchiveKey {
    signing: SigningKey,
}

impl std::fmt::Debug for ArchiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveKey")
            .field("public", &self.public_key_string())
            .finish_non_exhaustive()
    }
}

impl ArchiveKey {
    /// The key file's name inside the data dir.
    pub const FILE_NAME: &'static str = "archive.key";

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<ArchiveKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let signing = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(ArchiveKey { signing })
    }

    /// A key from its 32-byte seed (tests, benches, key escrow tools).
    pub fn from_seed(seed: &[u8; 32]) -> ArchiveKey {
        ArchiveKey {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// Loads `<data_dir>/archive.key`, or generates it (mode 0600, written
    /// to a temporary file, synced and renamed into place) when absent.
    pub fn load_or_generate(data_dir: &Path) -> Result<ArchiveKey, KeyError> {
        let path = data_dir.join(Self::FILE_NAME);
        if path.exists() {
            return Self::from_file(&path);
        }
        let key = Self::generate()?;
        key.write_new(&path)?;
        tracing::info!(path = %path.display(), public_key = %key.public_key_string(), "generated the archive signing key");
        Ok(key)
    }

    /// Loads a PKCS#8 PEM private key. Warns when the file is readable by
    /// group or others.
    pub fn from_file(path: &Path) -> Result<ArchiveKey, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let text = fs::read_to_string(path).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "the archive key is readable by others; chmod 600 it");
            }
        }
        let signing = SigningKey::from_pkcs8_pem(&text).map_err(|e| KeyError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(ArchiveKey { signing })
    }

    fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let pem = self
            .signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::Format {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension(format!("key.tmp-{}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(pem.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        // No `rename` over an existing key: a key that appeared meanwhile
        // (another process) wins, and ours is discarded.
        if path.exists() {
            let _ = fs::remove_file(&tmp);
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "created concurrently; start again to load it",
            )));
        }
        fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent() {
            crate::archive::segments::sync_dir(dir).map_err(io)?;
        }
        Ok(())
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public key as base64 (see the module docs).
    pub fn public_key_string(&self) -> String {
        public_key_string(&self.verifying_key())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }
}

/// The text form of a public key: standard base64 of its 32 bytes.
pub fn public_key_string(key: &VerifyingKey) -> String {
    STANDARD.encode(key.as_bytes())
}

/// Parses a public key given as base64 (44 characters) or hex (64).
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| KeyError::PublicKey(e.to_string()))?
    } else {
        STANDARD
            .decode(text)
            .map_err(|e| KeyError::PublicKey(e.to_string()))?
    };
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| KeyError::PublicKey(format!("{} bytes, not 32", b.len())))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| KeyError::PublicKey(e.to_string()))
}
