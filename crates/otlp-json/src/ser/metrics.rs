//! Encoding `ExportMetricsServiceRequest` down to data points, buckets,
//! quantiles and exemplars.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, metric, number_data_point,
};

use super::{Encode, Obj, write_quoted_i64};
use crate::num::{write_f64, write_u64};

impl Encode for ExportMetricsServiceRequest {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("resourceMetrics", &self.resource_metrics);
        obj.end();
    }
}

impl Encode for ResourceMetrics {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("resource", self.resource.as_ref());
        obj.list("scopeMetrics", &self.scope_metrics);
        obj.str("schemaUrl", &self.schema_url);
        obj.end();
    }
}

impl Encode for ScopeMetrics {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.msg("scope", self.scope.as_ref());
        obj.list("metrics", &self.metrics);
        obj.str("schemaUrl", &self.schema_url);
        obj.end();
    }
}

impl Encode for Metric {
    fn encode(&self, out: &mut Vec<u8>) {
        use metric::Data;
        let mut obj = Obj::new(out);
        obj.str("name", &self.name);
        obj.str("description", &self.description);
        obj.str("unit", &self.unit);
        match &self.data {
            None => {}
            Some(Data::Gauge(gauge)) => obj.msg("gauge", Some(gauge)),
            Some(Data::Sum(sum)) => obj.msg("sum", Some(sum)),
            Some(Data::Histogram(histogram)) => obj.msg("histogram", Some(histogram)),
            Some(Data::ExponentialHistogram(histogram)) => {
                obj.msg("exponentialHistogram", Some(histogram))
            }
            Some(Data::Summary(summary)) => obj.msg("summary", Some(summary)),
        }
        obj.list("metadata", &self.metadata);
        obj.end();
    }
}

impl Encode for Gauge {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("dataPoints", &self.data_points);
        obj.end();
    }
}

impl Encode for Sum {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("dataPoints", &self.data_points);
        obj.i32("aggregationTemporality", self.aggregation_temporality);
        obj.bool("isMonotonic", self.is_monotonic);
        obj.end();
    }
}

impl Encode for Histogram {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("dataPoints", &self.data_points);
        obj.i32("aggregationTemporality", self.aggregation_temporality);
        obj.end();
    }
}

impl Encode for ExponentialHistogram {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("dataPoints", &self.data_points);
        obj.i32("aggregationTemporality", self.aggregation_temporality);
        obj.end();
    }
}

impl Encode for Summary {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("dataPoints", &self.data_points);
        obj.end();
    }
}

/// Writes a list of `uint64` as quoted decimals.
fn write_u64_list(obj: &mut Obj<'_>, key: &'static str, values: &[u64]) {
    obj.list_with(key, values, |out, value| {
        out.push(b'"');
        write_u64(out, *value);
        out.push(b'"');
    });
}

impl Encode for NumberDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        use number_data_point::Value;
        let mut obj = Obj::new(out);
        obj.list("attributes", &self.attributes);
        obj.u64("startTimeUnixNano", self.start_time_unix_nano);
        obj.u64("timeUnixNano", self.time_unix_nano);
        match self.value {
            None => {}
            Some(Value::AsDouble(value)) => write_f64(obj.key("asDouble"), value),
            Some(Value::AsInt(value)) => write_quoted_i64(obj.key("asInt"), value),
        }
        obj.list("exemplars", &self.exemplars);
        obj.u32("flags", self.flags);
        obj.end();
    }
}

impl Encode for HistogramDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("attributes", &self.attributes);
        obj.u64("startTimeUnixNano", self.start_time_unix_nano);
        obj.u64("timeUnixNano", self.time_unix_nano);
        obj.u64("count", self.count);
        obj.opt_f64("sum", self.sum);
        write_u64_list(&mut obj, "bucketCounts", &self.bucket_counts);
        obj.list_with("explicitBounds", &self.explicit_bounds, |out, bound| {
            write_f64(out, *bound)
        });
        obj.list("exemplars", &self.exemplars);
        obj.u32("flags", self.flags);
        obj.opt_f64("min", self.min);
        obj.opt_f64("max", self.max);
        obj.end();
    }
}

impl Encode for ExponentialHistogramDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("attributes", &self.attributes);
        obj.u64("startTimeUnixNano", self.start_time_unix_nano);
        obj.u64("timeUnixNano", self.time_unix_nano);
        obj.u64("count", self.count);
        obj.opt_f64("sum", self.sum);
        obj.i32("scale", self.scale);
        obj.u64("zeroCount", self.zero_count);
        obj.msg("positive", self.positive.as_ref());
        obj.msg("negative", self.negative.as_ref());
        obj.u32("flags", self.flags);
        obj.list("exemplars", &self.exemplars);
        obj.opt_f64("min", self.min);
        obj.opt_f64("max", self.max);
        obj.f64("zeroThreshold", self.zero_threshold);
        obj.end();
    }
}

impl Encode for Buckets {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.i32("offset", self.offset);
        write_u64_list(&mut obj, "bucketCounts", &self.bucket_counts);
        obj.end();
    }
}

impl Encode for SummaryDataPoint {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("attributes", &self.attributes);
        obj.u64("startTimeUnixNano", self.start_time_unix_nano);
        obj.u64("timeUnixNano", self.time_unix_nano);
        obj.u64("count", self.count);
        obj.f64("sum", self.sum);
        obj.list("quantileValues", &self.quantile_values);
        obj.u32("flags", self.flags);
        obj.end();
    }
}

impl Encode for ValueAtQuantile {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.f64("quantile", self.quantile);
        obj.f64("value", self.value);
        obj.end();
    }
}

impl Encode for Exemplar {
    fn encode(&self, out: &mut Vec<u8>) {
        use exemplar::Value;
        let mut obj = Obj::new(out);
        obj.list("filteredAttributes", &self.filtered_attributes);
        obj.u64("timeUnixNano", self.time_unix_nano);
        match self.value {
            None => {}
            Some(Value::AsDouble(value)) => write_f64(obj.key("asDouble"), value),
            Some(Value::AsInt(value)) => write_quoted_i64(obj.key("asInt"), value),
        }
        obj.id("spanId", &self.span_id);
        obj.id("traceId", &self.trace_id);
        obj.end();
    }
}
