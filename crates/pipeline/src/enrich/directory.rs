//! The user directory: who belongs to which cost center, read from a CSV or
//! JSON file. A loaded [`Directory`] never changes; the
//! [`super::DirectoryHandle`] swaps in a new one when the file changes.
//!
//! * **Shape.** CSV: a header row naming the key column and any of
//!   `department`, `cost_center`, `team`, `manager` (other columns are
//!   ignored). JSON: an array of objects with the same field names, or an
//!   object mapping each key to `{department, cost_center, team, manager}`.
//!   Blank values read as absent; a repeated key counts as a duplicate and
//!   the later row wins (logged with its line, never its values).
//! * **Keys.** One column names the user, by `user.email`,
//!   `user.account_uuid` or `user.id` ([`DirectoryKey`]). Keys are trimmed;
//!   e-mail addresses are also ASCII-lowercased. With a [`Pseudonymizer`],
//!   each key is indexed under its pseudonym too, so records whose identity
//!   the redaction policy hashed (`anon:<hex>`) still find their entry.
//! * **Errors** name the file and the line (CSV, JSON syntax) or the entry
//!   (JSON array).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use cairn_core::identity::Identity;
use cairn_redact::Pseudonymizer;
use serde::{Deserialize, Deserializer};

/// Which identity attribute the directory is keyed by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum DirectoryKey {
    /// `user.email` (the default).
    #[default]
    #[serde(rename = "user.email")]
    Email,
    /// `user.account_uuid`.
    #[serde(rename = "user.account_uuid")]
    AccountUuid,
    /// `user.id`.
    #[serde(rename = "user.id")]
    UserId,
}

impl DirectoryKey {
    /// The record attribute this key reads.
    pub fn attribute(self) -> &'static str {
        match self {
            DirectoryKey::Email => "user.email",
            DirectoryKey::AccountUuid => "user.account_uuid",
            DirectoryKey::UserId => "user.id",
        }
    }

    /// The column (CSV) or field (JSON) names accepted for the key.
    pub fn column_names(self) -> [&'static str; 2] {
        match self {
            DirectoryKey::Email => ["user.email", "email"],
            DirectoryKey::AccountUuid => ["user.account_uuid", "account_uuid"],
            DirectoryKey::UserId => ["user.id", "user_id"],
        }
    }

    /// The record's value for this key.
    pub fn of(self, identity: &Identity) -> Option<&str> {
        match self {
            DirectoryKey::Email => identity.email.as_deref(),
            DirectoryKey::AccountUuid => identity.account_uuid.as_deref(),
            DirectoryKey::UserId => identity.user_id.as_deref(),
        }
    }

    /// A key as indexed: trimmed, and ASCII-lowercased for e-mails.
    pub fn normalise(self, value: &str) -> String {
        match self {
            DirectoryKey::Email => normalise_email(value),
            DirectoryKey::AccountUuid | DirectoryKey::UserId => value.trim().to_owned(),
        }
    }
}

/// What the directory knows about one user. Empty values read as absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Entry {
    /// Department.
    #[serde(default, deserialize_with = "text")]
    pub department: Option<String>,
    /// Cost center.
    #[serde(default, deserialize_with = "text")]
    pub cost_center: Option<String>,
    /// Team.
    #[serde(default, deserialize_with = "text")]
    pub team: Option<String>,
    /// Manager.
    #[serde(default, deserialize_with = "text")]
    pub manager: Option<String>,
}

/// Why a directory file could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The file could not be opened or read.
    #[error("directory {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The extension is neither `.csv` nor `.json`.
    #[error("directory {}: unknown format (the name must end in .csv or .json)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A line of the file is malformed.
    #[error("directory {}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// One JSON entry is malformed.
    #[error("directory {}: entry {entry}: {message}", path.display())]
    Entry {
        /// The file.
        path: PathBuf,
        /// 1-based position in the array.
        entry: usize,
        /// What is wrong.
        message: String,
    },
}

/// One loaded directory file; immutable.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    key: DirectoryKey,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    users: usize,
    duplicates: usize,
}

/// `user.email` as indexed: trimmed and ASCII-lowercased.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// The pseudonym of an e-mail address, normalised first. The redaction
/// stage hashes `user.email` through this same function, so a hashed
/// address still finds its directory entry.
pub fn email_pseudonym(p: &Pseudonymizer, email: &str) -> String {
    p.pseudonymize(&normalise_email(email))
}

impl Directory {
    /// An empty directory keyed by `key`.
    pub fn empty(key: DirectoryKey) -> Directory {
        Directory {
            key,
            ..Directory::default()
        }
    }

    /// Loads a `.csv` or `.json` file (see the module docs for the shape).
    pub fn load(
        path: &Path,
        key: DirectoryKey,
        pseudonymizer: Option<&Pseudonymizer>,
    ) -> Result<Directory, DirectoryError> {
        super::handle::read_file(path, key, pseudonymizer).map(|(dir, _)| dir)
    }

    /// Parses CSV text: a header row naming the key column and any of
    /// `department`, `cost_center`, `team`, `manager`; other columns are
    /// ignored. `path` is only used in errors.
    pub fn from_csv(
        text: &str,
        path: &Path,
        key: DirectoryKey,
        pseudonymizer: Option<&Pseudonymizer>,
    ) -> Result<Directory, DirectoryError> {
        let line_err = |line: u64, message: String| DirectoryError::Line {
            path: path.to_owned(),
            line,
            message,
        };
        let csv_err = |e: csv::Error| {
            let line = e.position().map_or(1, csv::Position::line);
            line_err(line, e.to_string())
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader.headers().map_err(csv_err)?.clone();
        let column = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let names = key.column_names();
        let key_col = column(&names).ok_or_else(|| {
            line_err(
                1,
                format!("no key column (expected {} or {})", names[0], names[1]),
            )
        })?;
        let cols = [
            column(&["department"]),
            column(&["cost_center"]),
            column(&["team"]),
            column(&["manager"]),
        ];
        let mut builder = Builder::new(key, pseudonymizer);
        for row in reader.records() {
            let row = row.map_err(csv_err)?;
            let line = row.position().map_or(0, csv::Position::line);
            let cell = |i: Option<usize>| {
                i.and_then(|i| row.get(i))
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            let user = row.get(key_col).unwrap_or("");
            if user.is_empty() {
                return Err(line_err(line, format!("empty {}", names[0])));
            }
            let entry = Entry {
                department: cell(cols[0]),
                cost_center: cell(cols[1]),
                team: cell(cols[2]),
                manager: cell(cols[3]),
            };
            builder.insert(user, entry, || format!("{}:{line}", path.display()));
        }
        Ok(builder.finish())
    }

    /// Parses JSON text: an array of objects with the CSV's field names, or
    /// an object mapping each key to `{department, cost_center, team,
    /// manager}`. `path` is only used in errors.
    pub fn from_json(
        text: &str,
        path: &Path,
        key: DirectoryKey,
        pseudonymizer: Option<&Pseudonymizer>,
    ) -> Result<Directory, DirectoryError> {
        let syntax = |e: serde_json::Error| DirectoryError::Line {
            path: path.to_owned(),
            line: e.line() as u64,
            message: e.to_string(),
        };
        let mut builder = Builder::new(key, pseudonymizer);
        if text.trim_start().starts_with('[') {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_str(text).map_err(syntax)?;
            let names = key.column_names();
            for (i, mut row) in rows.into_iter().enumerate() {
                let entry_err = |message: String| DirectoryError::Entry {
                    path: path.to_owned(),
                    entry: i + 1,
                    message,
                };
                let user = names
                    .iter()
                    .find_map(|n| row.remove(*n))
                    .ok_or_else(|| entry_err(format!("no \"{}\"", names[0])))?;
                let user = match user {
                    serde_json::Value::String(s) if !s.trim().is_empty() => s,
                    _ => return Err(entry_err(format!("\"{}\" must be a string", names[0]))),
                };
                let entry: Entry = serde_json::from_value(serde_json::Value::Object(row))
                    .map_err(|e| entry_err(e.to_string()))?;
                builder.insert(&user, entry, || {
                    format!("{}: entry {}", path.display(), i + 1)
                });
            }
        } else {
            let Ordered(pairs) = serde_json::from_str(text).map_err(syntax)?;
            for (user, entry) in pairs {
                builder.insert(&user, entry, || path.display().to_string());
            }
        }
        Ok(builder.finish())
    }

    /// The entry for a user, given the record's value of the directory key
    /// (as sent, or its pseudonym).
    pub fn get(&self, user: &str) -> Option<&Entry> {
        let found = self.index.get(user).or_else(|| {
            let untidy = user.trim().len() != user.len()
                || (self.key == DirectoryKey::Email
                    && user.bytes().any(|b| b.is_ascii_uppercase()));
            untidy
                .then(|| self.index.get(&self.key.normalise(user)))
                .flatten()
        });
        found.and_then(|&i| self.entries.get(i))
    }

    /// The key it is indexed by.
    pub fn key(&self) -> DirectoryKey {
        self.key
    }

    /// Distinct users (pseudonyms not counted twice).
    pub fn len(&self) -> usize {
        self.users
    }

    /// Whether it has no users.
    pub fn is_empty(&self) -> bool {
        self.users == 0
    }

    /// Rows whose key repeated an earlier row's (the later row won).
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }
}

/// Collects rows into a directory: last row wins, duplicates counted.
struct Builder<'p> {
    dir: Directory,
    pseudonymizer: Option<&'p Pseudonymizer>,
}

impl<'p> Builder<'p> {
    fn new(key: DirectoryKey, pseudonymizer: Option<&'p Pseudonymizer>) -> Builder<'p> {
        Builder {
            dir: Directory::empty(key),
            pseudonymizer,
        }
    }

    fn insert(&mut self, user: &str, entry: Entry, at: impl FnOnce() -> String) {
        let normal = self.dir.key.normalise(user);
        if let Some(&i) = self.dir.index.get(&normal) {
            self.dir.duplicates += 1;
            tracing::warn!(at = %at(), "directory: duplicate key, the later row wins");
            if let Some(slot) = self.dir.entries.get_mut(i) {
                *slot = entry;
            }
            return;
        }
        let i = self.dir.entries.len();
        self.dir.entries.push(entry);
        self.dir.users += 1;
        if let Some(p) = self.pseudonymizer {
            self.dir.index.insert(p.pseudonymize(&normal), i);
        }
        self.dir.index.insert(normal, i);
    }

    fn finish(self) -> Directory {
        self.dir
    }
}

/// A JSON object read as ordered `(key, entry)` pairs, so "last wins" is
/// well defined and repeated keys are seen.
struct Ordered(Vec<(String, Entry)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of entries or an object mapping users to entries")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = m.next_entry::<String, Entry>()? {
                    out.push(pair);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON string or number as text; null and blank read as absent.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        S(String),
        N(serde_json::Number),
    }
    Ok(match Option::<Text>::deserialize(d)? {
        Some(Text::S(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(Text::N(n)) => Some(n.to_string()),
        None => None,
    })
}
