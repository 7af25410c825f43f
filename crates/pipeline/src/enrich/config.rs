//! The `[enrich]` configuration: which attributes carry the assignment, the
//! directory file and its key, how often it is checked. Unknown keys are
//! refused; every field has a default.

use std::{path::PathBuf, time::Duration};

use serde::{Deserialize, Deserializer};

use super::DirectoryKey;

/// The record or resource attributes that carry the assignment.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceKeys {
    /// Default `cost_center`.
    pub cost_center: String,
    /// Default `department`.
    pub department: String,
    /// Default `team.id`.
    pub team: String,
    /// Default `manager`.
    pub manager: String,
}

impl Default for ResourceKeys {
    fn default() -> ResourceKeys {
        ResourceKeys {
            cost_center: "cost_center".into(),
            department: "department".into(),
            team: "team.id".into(),
            manager: "manager".into(),
        }
    }
}

/// The `[enrich]` configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichConfig {
    /// Which attributes carry the assignment.
    pub resource_keys: ResourceKeys,
    /// The directory file (`.csv` or `.json`); none: attributes only.
    pub directory: Option<PathBuf>,
    /// What the directory is keyed by (default `user.email`).
    pub directory_key: DirectoryKey,
    /// How often the file is checked for changes; whole seconds in config,
    /// at least 1 (default 10).
    #[serde(deserialize_with = "seconds")]
    pub reload_interval: Duration,
}

impl Default for EnrichConfig {
    fn default() -> EnrichConfig {
        EnrichConfig {
            resource_keys: ResourceKeys::default(),
            directory: None,
            directory_key: DirectoryKey::default(),
            reload_interval: Duration::from_secs(10),
        }
    }
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match u64::deserialize(d)? {
        0 => Err(serde::de::Error::custom(
            "reload_interval must be at least 1 second",
        )),
        s => Ok(Duration::from_secs(s)),
    }
}
