//! Sumo Logic HTTP Source sink (being built; not selectable until it lands).

/// Settings.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}
