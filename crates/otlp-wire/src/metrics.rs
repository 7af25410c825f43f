//! `opentelemetry.proto.metrics.v1` and the metrics export request: every
//! point type, packed or unpacked repeated numbers, zigzag and optional
//! fields as prost reads them.

use opentelemetry_proto::tonic::{
    collector::metrics::v1::ExportMetricsServiceRequest,
    metrics::v1::{
        Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
        HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
        SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
        number_data_point, summary_data_point::ValueAtQuantile,
    },
};

use crate::{
    common::{attribute, merge_resource, merge_scope},
    fields::{
        double, envelope, fixed64, numbers, optional, repeated, request, sint32, variant,
        variant_of,
    },
    reader::{FIXED64, Reader, Result, VARINT, WireError, bytes, string, varint},
};

/// Decodes an `ExportMetricsServiceRequest`: the same value, or an error
/// for the same bytes, as `ExportMetricsServiceRequest::decode` with prost.
pub fn decode_metrics(buf: &[u8]) -> std::result::Result<ExportMetricsServiceRequest, WireError> {
    Ok(ExportMetricsServiceRequest {
        resource_metrics: request(buf, merge_resource_metrics)?,
    })
}

fn merge_resource_metrics(rm: &mut ResourceMetrics, buf: &[u8], ctx: u32) -> Result<()> {
    let fields = (&mut rm.resource, &mut rm.scope_metrics, &mut rm.schema_url);
    envelope(buf, ctx, fields, merge_resource, merge_scope_metrics)
}

fn merge_scope_metrics(sm: &mut ScopeMetrics, buf: &[u8], ctx: u32) -> Result<()> {
    let fields = (&mut sm.scope, &mut sm.metrics, &mut sm.schema_url);
    envelope(buf, ctx, fields, merge_scope, merge_metric)
}

fn merge_metric(m: &mut Metric, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        let field = (tag, wire);
        let data = &mut m.data;
        match tag {
            1 => string(&mut r, tag, wire, &mut m.name)?,
            2 => string(&mut r, tag, wire, &mut m.description)?,
            3 => string(&mut r, tag, wire, &mut m.unit)?,
            5 => variant(
                data,
                &mut r,
                field,
                ctx,
                (as_gauge, Data::Gauge),
                merge_gauge,
            )?,
            7 => variant(data, &mut r, field, ctx, (as_sum, Data::Sum), merge_sum)?,
            9 => variant(
                data,
                &mut r,
                field,
                ctx,
                (as_histogram, Data::Histogram),
                merge_histogram,
            )?,
            10 => variant(
                data,
                &mut r,
                field,
                ctx,
                (as_exp_histogram, Data::ExponentialHistogram),
                merge_exp_histogram,
            )?,
            11 => variant(
                data,
                &mut r,
                field,
                ctx,
                (as_summary, Data::Summary),
                merge_summary,
            )?,
            12 => attribute(&mut m.metadata, &mut r, buf, tag, wire, ctx)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_gauge(g: &mut Gauge, buf: &[u8], ctx: u32) -> Result<()> {
    series(&mut g.data_points, None, buf, ctx, merge_number)
}

fn merge_sum(s: &mut Sum, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => repeated(
                &mut s.data_points,
                &mut r,
                buf,
                (tag, wire),
                ctx,
                merge_number,
            )?,
            2 => s.aggregation_temporality = varint(&mut r, tag, wire)? as i32,
            3 => s.is_monotonic = varint(&mut r, tag, wire)? != 0,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_histogram(h: &mut Histogram, buf: &[u8], ctx: u32) -> Result<()> {
    let temporality = Some(&mut h.aggregation_temporality);
    series(
        &mut h.data_points,
        temporality,
        buf,
        ctx,
        merge_histogram_point,
    )
}

fn merge_exp_histogram(h: &mut ExponentialHistogram, buf: &[u8], ctx: u32) -> Result<()> {
    let temporality = Some(&mut h.aggregation_temporality);
    series(&mut h.data_points, temporality, buf, ctx, merge_exp_point)
}

fn merge_summary(s: &mut Summary, buf: &[u8], ctx: u32) -> Result<()> {
    series(&mut s.data_points, None, buf, ctx, merge_summary_point)
}

/// Gauge, Histogram, ExponentialHistogram and Summary: their points at 1
/// and, for the histograms, the aggregation temporality at 2 (for the
/// others field 2 is unknown and skipped).
fn series<P: Default>(
    points: &mut Vec<P>,
    mut temporality: Option<&mut i32>,
    buf: &[u8],
    ctx: u32,
    merge: impl Fn(&mut P, &[u8], u32) -> Result<()>,
) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match (tag, temporality.as_deref_mut()) {
            (1, _) => repeated(points, &mut r, buf, (tag, wire), ctx, &merge)?,
            (2, Some(t)) => *t = varint(&mut r, tag, wire)? as i32,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_number(p: &mut NumberDataPoint, buf: &[u8], ctx: u32) -> Result<()> {
    use number_data_point::Value;
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            2 => p.start_time_unix_nano = fixed64(&mut r, tag, wire)?,
            3 => p.time_unix_nano = fixed64(&mut r, tag, wire)?,
            4 => p.value = Some(Value::AsDouble(double(&mut r, tag, wire)?)),
            5 => repeated(
                &mut p.exemplars,
                &mut r,
                buf,
                (tag, wire),
                ctx,
                merge_exemplar,
            )?,
            6 => p.value = Some(Value::AsInt(fixed64(&mut r, tag, wire)? as i64)),
            7 => attribute(&mut p.attributes, &mut r, buf, tag, wire, ctx)?,
            8 => p.flags = varint(&mut r, tag, wire)? as u32,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_histogram_point(p: &mut HistogramDataPoint, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        let field = (tag, wire);
        match tag {
            2 => p.start_time_unix_nano = fixed64(&mut r, tag, wire)?,
            3 => p.time_unix_nano = fixed64(&mut r, tag, wire)?,
            4 => p.count = fixed64(&mut r, tag, wire)?,
            5 => p.sum = Some(double(&mut r, tag, wire)?),
            6 => numbers(&mut p.bucket_counts, &mut r, field, FIXED64, read_fixed64)?,
            7 => numbers(&mut p.explicit_bounds, &mut r, field, FIXED64, read_double)?,
            8 => repeated(&mut p.exemplars, &mut r, buf, field, ctx, merge_exemplar)?,
            9 => attribute(&mut p.attributes, &mut r, buf, tag, wire, ctx)?,
            10 => p.flags = varint(&mut r, tag, wire)? as u32,
            11 => p.min = Some(double(&mut r, tag, wire)?),
            12 => p.max = Some(double(&mut r, tag, wire)?),
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_exp_point(p: &mut ExponentialHistogramDataPoint, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        let field = (tag, wire);
        match tag {
            1 => attribute(&mut p.attributes, &mut r, buf, tag, wire, ctx)?,
            2 => p.start_time_unix_nano = fixed64(&mut r, tag, wire)?,
            3 => p.time_unix_nano = fixed64(&mut r, tag, wire)?,
            4 => p.count = fixed64(&mut r, tag, wire)?,
            5 => p.sum = Some(double(&mut r, tag, wire)?),
            6 => p.scale = sint32(&mut r, tag, wire)?,
            7 => p.zero_count = fixed64(&mut r, tag, wire)?,
            8 => optional(&mut p.positive, &mut r, field, ctx, merge_buckets)?,
            9 => optional(&mut p.negative, &mut r, field, ctx, merge_buckets)?,
            10 => p.flags = varint(&mut r, tag, wire)? as u32,
            11 => repeated(&mut p.exemplars, &mut r, buf, field, ctx, merge_exemplar)?,
            12 => p.min = Some(double(&mut r, tag, wire)?),
            13 => p.max = Some(double(&mut r, tag, wire)?),
            14 => p.zero_threshold = double(&mut r, tag, wire)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_buckets(b: &mut Buckets, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => b.offset = sint32(&mut r, tag, wire)?,
            2 => numbers(
                &mut b.bucket_counts,
                &mut r,
                (tag, wire),
                VARINT,
                read_varint,
            )?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_summary_point(p: &mut SummaryDataPoint, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        let field = (tag, wire);
        match tag {
            2 => p.start_time_unix_nano = fixed64(&mut r, tag, wire)?,
            3 => p.time_unix_nano = fixed64(&mut r, tag, wire)?,
            4 => p.count = fixed64(&mut r, tag, wire)?,
            5 => p.sum = double(&mut r, tag, wire)?,
            6 => repeated(
                &mut p.quantile_values,
                &mut r,
                buf,
                field,
                ctx,
                merge_quantile,
            )?,
            7 => attribute(&mut p.attributes, &mut r, buf, tag, wire, ctx)?,
            8 => p.flags = varint(&mut r, tag, wire)? as u32,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_quantile(q: &mut ValueAtQuantile, buf: &[u8], ctx: u32) -> Result<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            1 => q.quantile = double(&mut r, tag, wire)?,
            2 => q.value = double(&mut r, tag, wire)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn merge_exemplar(e: &mut Exemplar, buf: &[u8], ctx: u32) -> Result<()> {
    use exemplar::Value;
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key()?;
        match tag {
            2 => e.time_unix_nano = fixed64(&mut r, tag, wire)?,
            3 => e.value = Some(Value::AsDouble(double(&mut r, tag, wire)?)),
            4 => bytes(&mut r, tag, wire, &mut e.span_id)?,
            5 => bytes(&mut r, tag, wire, &mut e.trace_id)?,
            6 => e.value = Some(Value::AsInt(fixed64(&mut r, tag, wire)? as i64)),
            7 => attribute(&mut e.filtered_attributes, &mut r, buf, tag, wire, ctx)?,
            _ => r.skip(wire, tag, ctx)?,
        }
    }
    Ok(())
}

fn read_double(r: &mut Reader<'_>) -> Result<f64> {
    r.fixed64().map(f64::from_bits)
}

fn read_fixed64(r: &mut Reader<'_>) -> Result<u64> {
    r.fixed64()
}

fn read_varint(r: &mut Reader<'_>) -> Result<u64> {
    r.varint()
}

variant_of!(as_gauge, Data::Gauge, Gauge);
variant_of!(as_sum, Data::Sum, Sum);
variant_of!(as_histogram, Data::Histogram, Histogram);
variant_of!(
    as_exp_histogram,
    Data::ExponentialHistogram,
    ExponentialHistogram
);
variant_of!(as_summary, Data::Summary, Summary);
