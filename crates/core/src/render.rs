//! The canonical JSON form of a record: one line of the records file.
//!
//! Stable field names for people and `jq`: typed fields first, then every
//! original attribute as plain JSON under `attributes`, so nothing received
//! is missing from the file.

use serde_json::{Map, Value, json};

use crate::{
    record::{Origin, Record, RecordBody},
    value::{attrs_to_json, to_json},
};

fn hex_or_null(id: &[u8]) -> Value {
    if id.is_empty() {
        Value::Null
    } else {
        Value::String(hex::encode(id))
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl Record {
    /// Renders the record, with its batch's origin, as one JSON object.
    pub fn to_json(&self, origin: &Origin) -> Value {
        let mut o = Map::new();
        o.insert("signal".into(), to_value(&origin.signal));
        o.insert("protocol".into(), to_value(&origin.protocol));
        o.insert(
            "received_unix_nano".into(),
            json!(origin.received_unix_nano.to_string()),
        );
        if let Some(t) = &origin.tenant {
            o.insert("tenant".into(), json!(t.as_ref()));
        }
        o.insert("source".into(), json!(self.source.as_str()));
        o.insert("identity".into(), to_value(&self.identity));
        o.insert(
            "resource".into(),
            Value::Object(attrs_to_json(self.resource.attrs().0)),
        );
        if let Some(scope) = &self.scope.scope {
            o.insert(
                "scope".into(),
                json!({"name": scope.name, "version": scope.version}),
            );
        }
        match &self.body {
            RecordBody::Event(e) => {
                o.insert("kind".into(), json!("event"));
                o.insert("event".into(), json!(e.header.name));
                o.insert("header".into(), to_value(&e.header));
                o.insert("typed".into(), to_value(&e.event));
                o.insert(
                    "time_unix_nano".into(),
                    json!(e.log.time_unix_nano.to_string()),
                );
                o.insert("trace_id".into(), hex_or_null(&e.log.trace_id));
                o.insert("span_id".into(), hex_or_null(&e.log.span_id));
                o.insert("severity_number".into(), json!(e.log.severity_number));
                if let Some(body) = &e.log.body {
                    o.insert("body".into(), to_json(body));
                }
                o.insert(
                    "attributes".into(),
                    Value::Object(attrs_to_json(&e.log.attributes)),
                );
            }
            RecordBody::Metric(m) => {
                o.insert("kind".into(), json!("metric"));
                o.insert("metric".into(), json!(m.metric.name));
                o.insert("unit".into(), json!(m.metric.unit));
                o.insert("typed".into(), to_value(&m.typed));
                o.insert("points".into(), metric_points_json(&m.metric));
            }
            RecordBody::Span(s) => {
                o.insert("kind".into(), json!("span"));
                o.insert("span".into(), json!(s.span.name));
                o.insert("typed".into(), to_value(&s.typed));
                o.insert("trace_id".into(), hex_or_null(&s.span.trace_id));
                o.insert("span_id".into(), hex_or_null(&s.span.span_id));
                o.insert("parent_span_id".into(), hex_or_null(&s.span.parent_span_id));
                o.insert(
                    "start_time_unix_nano".into(),
                    json!(s.span.start_time_unix_nano.to_string()),
                );
                o.insert(
                    "end_time_unix_nano".into(),
                    json!(s.span.end_time_unix_nano.to_string()),
                );
                o.insert(
                    "attributes".into(),
                    Value::Object(attrs_to_json(&s.span.attributes)),
                );
                let events: Vec<Value> = s
                    .span
                    .events
                    .iter()
                    .map(|ev| {
                        json!({
                            "name": ev.name,
                            "time_unix_nano": ev.time_unix_nano.to_string(),
                            "attributes": attrs_to_json(&ev.attributes),
                        })
                    })
                    .collect();
                o.insert("events".into(), Value::Array(events));
            }
        }
        Value::Object(o)
    }
}

fn metric_points_json(metric: &opentelemetry_proto::tonic::metrics::v1::Metric) -> Value {
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
    let number_points = match &metric.data {
        Some(Data::Sum(s)) => &s.data_points[..],
        Some(Data::Gauge(g)) => &g.data_points[..],
        _ => &[][..],
    };
    Value::Array(
        number_points
            .iter()
            .map(|p| {
                let value = match p.value {
                    Some(number_data_point::Value::AsDouble(d)) => json!(d),
                    Some(number_data_point::Value::AsInt(i)) => json!(i),
                    None => Value::Null,
                };
                json!({
                    "value": value,
                    "start_time_unix_nano": p.start_time_unix_nano.to_string(),
                    "time_unix_nano": p.time_unix_nano.to_string(),
                    "attributes": attrs_to_json(&p.attributes),
                })
            })
            .collect(),
    )
}
