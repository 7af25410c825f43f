//! The canonical JSON form of a record: one line of the records file.
//!
//! Stable field names for people and `jq`: typed fields first, then every
//! original attribute as plain JSON under `attributes`, so nothing received
//! is missing from the file.
//!
//! [`Record::to_json`] defines the form as a `serde_json::Value`;
//! [`Record::write_json`] writes the same bytes straight into a buffer (the
//! records file, the archive and the sinks use it, one tree fewer per
//! record). Tests hold the two to byte equality.

use serde_json::{Map, Value, json};

use crate::{
    json::{self, KeyStyle, write_sorted},
    record::{Origin, Record, RecordBody},
    render_fixed,
    render_shared::write_members,
    value::{attrs_to_json, to_json, write_attrs_json, write_json},
};

pub use crate::render_shared::SharedJson;

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;

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

fn hex_or_null_to(out: &mut Vec<u8>, id: &[u8]) {
    if id.is_empty() {
        json::null(out);
    } else {
        json::hex_string(out, id);
    }
}

impl Record {
    /// Appends the record, with its batch's origin, as one JSON object:
    /// exactly the bytes of `serde_json::to_vec(&self.to_json(origin))`.
    pub fn write_json(&self, origin: &Origin, out: &mut Vec<u8>) {
        self.write_json_styled(origin, KeyStyle::Plain, out);
    }

    /// [`Record::write_json`] with every object key written in `style`
    /// (the fixed keys of the record itself have no dots, so only the
    /// attributes and typed maps change).
    pub fn write_json_styled(&self, origin: &Origin, style: KeyStyle, out: &mut Vec<u8>) {
        self.write_json_inner(origin, style, None, out);
    }

    /// [`Record::write_json_styled`], the members the records of a batch
    /// share (origin, resource, scope) copied from `shared`, which renders
    /// them once: the same bytes.
    pub fn write_json_shared(
        &self,
        origin: &Origin,
        style: KeyStyle,
        shared: &mut SharedJson,
        out: &mut Vec<u8>,
    ) {
        self.write_json_inner(origin, style, Some(shared), out);
    }

    fn write_json_inner(
        &self,
        origin: &Origin,
        style: KeyStyle,
        mut shared: Option<&mut SharedJson>,
        out: &mut Vec<u8>,
    ) {
        // Members in key order: the order a `serde_json::Map` iterates.
        let mut o = json::Object::open(out);
        let mut common = |o: &mut json::Object<'_>| match shared.as_deref_mut() {
            Some(shared) => o.members(shared.members(self, origin, style)),
            None => write_members(o, self, origin, style),
        };
        let tenant = |o: &mut json::Object<'_>| {
            if let Some(t) = &origin.tenant {
                o.str("tenant", t);
            }
        };
        match &self.body {
            RecordBody::Event(e) => {
                write_attrs_json(&e.log.attributes, style, o.key("attributes"));
                if let Some(body) = &e.log.body {
                    write_json(body, style, o.key("body"));
                }
                o.str("event", &e.header.name);
                render_fixed::header(&e.header, o.key("header"));
                render_fixed::identity(&self.identity, o.key("identity"));
                o.str("kind", "event");
                common(&mut o);
                json::i64(o.key("severity_number"), i64::from(e.log.severity_number));
                write_sorted(&origin.signal, style, o.key("signal"));
                o.str("source", self.source.as_str());
                hex_or_null_to(o.key("span_id"), &e.log.span_id);
                tenant(&mut o);
                json::u64_string(o.key("time_unix_nano"), e.log.time_unix_nano);
                hex_or_null_to(o.key("trace_id"), &e.log.trace_id);
                write_sorted(&e.event, style, o.key("typed"));
            }
            RecordBody::Metric(m) => {
                render_fixed::identity(&self.identity, o.key("identity"));
                o.str("kind", "metric");
                o.str("metric", &m.metric.name);
                write_metric_points(&m.metric, style, o.key("points"));
                common(&mut o);
                write_sorted(&origin.signal, style, o.key("signal"));
                o.str("source", self.source.as_str());
                tenant(&mut o);
                write_sorted(&m.typed, style, o.key("typed"));
                o.str("unit", &m.metric.unit);
            }
            RecordBody::Span(s) => {
                let span = &s.span;
                write_attrs_json(&span.attributes, style, o.key("attributes"));
                json::u64_string(o.key("end_time_unix_nano"), span.end_time_unix_nano);
                let events = o.key("events");
                events.push(b'[');
                for (i, ev) in span.events.iter().enumerate() {
                    if i > 0 {
                        events.push(b',');
                    }
                    let mut e = json::Object::open(events);
                    write_attrs_json(&ev.attributes, style, e.key("attributes"));
                    e.str("name", &ev.name);
                    json::u64_string(e.key("time_unix_nano"), ev.time_unix_nano);
                    e.close();
                }
                events.push(b']');
                render_fixed::identity(&self.identity, o.key("identity"));
                o.str("kind", "span");
                hex_or_null_to(o.key("parent_span_id"), &span.parent_span_id);
                common(&mut o);
                write_sorted(&origin.signal, style, o.key("signal"));
                o.str("source", self.source.as_str());
                o.str("span", &span.name);
                hex_or_null_to(o.key("span_id"), &span.span_id);
                json::u64_string(o.key("start_time_unix_nano"), span.start_time_unix_nano);
                tenant(&mut o);
                hex_or_null_to(o.key("trace_id"), &span.trace_id);
                write_sorted(&s.typed, style, o.key("typed"));
            }
        }
        o.close();
    }
}

fn write_metric_points(
    metric: &opentelemetry_proto::tonic::metrics::v1::Metric,
    style: KeyStyle,
    out: &mut Vec<u8>,
) {
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
    let number_points = match &metric.data {
        Some(Data::Sum(s)) => &s.data_points[..],
        Some(Data::Gauge(g)) => &g.data_points[..],
        _ => &[][..],
    };
    out.push(b'[');
    for (i, p) in number_points.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut o = json::Object::open(out);
        write_attrs_json(&p.attributes, style, o.key("attributes"));
        json::u64_string(o.key("start_time_unix_nano"), p.start_time_unix_nano);
        json::u64_string(o.key("time_unix_nano"), p.time_unix_nano);
        match p.value {
            Some(number_data_point::Value::AsDouble(d)) => o.f64("value", d),
            Some(number_data_point::Value::AsInt(i)) => json::i64(o.key("value"), i),
            None => json::null(o.key("value")),
        }
        o.close();
    }
    out.push(b']');
}
