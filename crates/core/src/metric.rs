//! Typed views of Claude Code's eight counters.
//!
//! All eight are counters, so they arrive as monotonic Sums, with DELTA
//! temporality by default and CUMULATIVE when the user asks for it; the
//! temporality is read from each message, never assumed. Metrics with other
//! names (or other shapes) pass through as `Unknown`.

use opentelemetry_proto::tonic::metrics::v1::{Metric, metric::Data, number_data_point};
use serde::Serialize;

use crate::value::Attrs;

/// Which of the documented counters a metric is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// `claude_code.session.count`
    SessionCount,
    /// `claude_code.lines_of_code.count`
    LinesOfCode,
    /// `claude_code.pull_request.count`
    PullRequestCount,
    /// `claude_code.commit.count`
    CommitCount,
    /// `claude_code.cost.usage` (USD)
    CostUsage,
    /// `claude_code.token.usage` (tokens)
    TokenUsage,
    /// `claude_code.code_edit_tool.decision`
    CodeEditToolDecision,
    /// `claude_code.active_time.total` (seconds)
    ActiveTime,
    /// Anything else; the name is kept.
    Unknown(String),
}

impl MetricKind {
    /// Classifies a metric name.
    pub fn from_name(name: &str) -> MetricKind {
        match name {
            "claude_code.session.count" => MetricKind::SessionCount,
            "claude_code.lines_of_code.count" => MetricKind::LinesOfCode,
            "claude_code.pull_request.count" => MetricKind::PullRequestCount,
            "claude_code.commit.count" => MetricKind::CommitCount,
            "claude_code.cost.usage" => MetricKind::CostUsage,
            "claude_code.token.usage" => MetricKind::TokenUsage,
            "claude_code.code_edit_tool.decision" => MetricKind::CodeEditToolDecision,
            "claude_code.active_time.total" => MetricKind::ActiveTime,
            other => MetricKind::Unknown(other.to_owned()),
        }
    }
}

/// Aggregation temporality as read from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Temporality {
    /// Each point is the change since the previous export.
    Delta,
    /// Each point is the running total since `start_time_unix_nano`.
    Cumulative,
    /// Unspecified, or a shape that has none (gauge, summary).
    Unspecified,
}

impl Temporality {
    fn from_i32(v: i32) -> Temporality {
        match v {
            1 => Temporality::Delta,
            2 => Temporality::Cumulative,
            _ => Temporality::Unspecified,
        }
    }
}

/// One numeric data point with the attributes that matter for attribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricPoint {
    /// The value (int points are widened to f64).
    pub value: f64,
    /// Start of the interval (delta) or of the series (cumulative).
    pub start_time_unix_nano: u64,
    /// End of the interval.
    pub time_unix_nano: u64,
    /// The `type` attribute (`input`, `output`, `cacheRead`, `added`, `user`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// The `model` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The typed view of one metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaudeMetric {
    /// Which counter.
    pub kind: MetricKind,
    /// Temporality read from the message.
    pub temporality: Temporality,
    /// Whether the sum is monotonic (false for non-sums).
    pub monotonic: bool,
    /// The numeric points of a Sum or Gauge; empty for other shapes.
    pub points: Vec<MetricPoint>,
}

impl ClaudeMetric {
    /// Builds the typed view of a metric.
    pub fn read(metric: &Metric) -> ClaudeMetric {
        let kind = MetricKind::from_name(&metric.name);
        let (temporality, monotonic, raw) = match &metric.data {
            Some(Data::Sum(sum)) => (
                Temporality::from_i32(sum.aggregation_temporality),
                sum.is_monotonic,
                sum.data_points.as_slice(),
            ),
            Some(Data::Gauge(g)) => (Temporality::Unspecified, false, g.data_points.as_slice()),
            Some(Data::Histogram(h)) => (
                Temporality::from_i32(h.aggregation_temporality),
                false,
                &[][..],
            ),
            Some(Data::ExponentialHistogram(h)) => (
                Temporality::from_i32(h.aggregation_temporality),
                false,
                &[][..],
            ),
            Some(Data::Summary(_)) | None => (Temporality::Unspecified, false, &[][..]),
        };
        let points = raw
            .iter()
            .filter_map(|p| {
                let value = match p.value? {
                    number_data_point::Value::AsDouble(d) => d,
                    number_data_point::Value::AsInt(i) => i as f64,
                };
                let attrs = Attrs(&p.attributes);
                Some(MetricPoint {
                    value,
                    start_time_unix_nano: p.start_time_unix_nano,
                    time_unix_nano: p.time_unix_nano,
                    r#type: attrs.string("type"),
                    model: attrs.string("model"),
                })
            })
            .collect();
        ClaudeMetric {
            kind,
            temporality,
            monotonic,
            points,
        }
    }
}

/// The attributes of a metric's first data point (where Claude Code puts the
/// standard identity attributes), or none.
pub fn first_point_attributes(
    metric: &Metric,
) -> &[opentelemetry_proto::tonic::common::v1::KeyValue] {
    match &metric.data {
        Some(Data::Sum(s)) => s.data_points.first().map(|p| p.attributes.as_slice()),
        Some(Data::Gauge(g)) => g.data_points.first().map(|p| p.attributes.as_slice()),
        Some(Data::Histogram(h)) => h.data_points.first().map(|p| p.attributes.as_slice()),
        Some(Data::ExponentialHistogram(h)) => {
            h.data_points.first().map(|p| p.attributes.as_slice())
        }
        Some(Data::Summary(s)) => s.data_points.first().map(|p| p.attributes.as_slice()),
        None => None,
    }
    .unwrap_or(&[])
}
