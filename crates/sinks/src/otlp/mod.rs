//! OTLP exporter sink (being built).

use crate::{
    driver::{BatchLimits, SinkError},
    item::AuditItem,
    sink::{EncodeError, Report, Sink},
};

/// Settings.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}

impl Config {
    /// Validates.
    pub fn check(&self) -> Result<(), String> {
        Err("not yet".into())
    }
    /// Builds.
    pub fn build(&self) -> Result<Otlp, String> {
        Err("not yet".into())
    }
}

/// The sink.
pub struct Otlp;

impl Sink for Otlp {
    fn limits(&self) -> BatchLimits {
        BatchLimits {
            max_items: 1,
            max_bytes: 1,
            max_delay: std::time::Duration::from_secs(1),
        }
    }
    fn encode_item(&self, _item: &AuditItem, _out: &mut Vec<u8>) -> Result<(), EncodeError> {
        Err(EncodeError("not yet".into()))
    }
    async fn send(&self, _batch: &[crate::sink::Encoded]) -> Result<Report, SinkError> {
        Err(SinkError::Permanent {
            reason: "not yet".into(),
        })
    }
}
