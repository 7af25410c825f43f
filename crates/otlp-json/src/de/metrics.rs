//! Decoding `ExportMetricsServiceRequest` and everything under it: the five
//! metric kinds, their data points, buckets, quantiles and exemplars.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::summary_data_point::ValueAtQuantile;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, metric, number_data_point,
};
use serde::de::{Error, MapAccess};

use super::common::ATTRIBUTES;
use super::{Bool, DecodeMsg, List, Msg, Opt, Str, fields, skip_value};
use crate::ids::{SPAN_ID, TRACE_ID};
use crate::num::{Enum, F64, I32, I64, U32, U64};

const AGGREGATION_TEMPORALITY: Enum = Enum {
    name: "AggregationTemporality",
    by_name: |name| AggregationTemporality::from_str_name(name).map(|v| v as i32),
};

/// Stores a oneof member, refusing a second one in the same object.
fn set_oneof<T, E: Error>(slot: &mut Option<T>, member: Option<T>, what: &str) -> Result<(), E> {
    if let Some(member) = member {
        if slot.is_some() {
            return Err(E::custom(format_args!(
                "{what} has more than one value field"
            )));
        }
        *slot = Some(member);
    }
    Ok(())
}

fields! {
    pub(crate) enum RequestField {
        ResourceMetrics = "resourceMetrics" | "resource_metrics",
    }
}

impl DecodeMsg for ExportMetricsServiceRequest {
    type Field = RequestField;
    const EXPECTING: &'static str = "an ExportMetricsServiceRequest object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: RequestField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            RequestField::ResourceMetrics => {
                self.resource_metrics = map.next_value_seed(List(Msg::new()))?
            }
            RequestField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum ResourceMetricsField {
        Resource = "resource",
        ScopeMetrics = "scopeMetrics" | "scope_metrics",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl DecodeMsg for ResourceMetrics {
    type Field = ResourceMetricsField;
    const EXPECTING: &'static str = "a ResourceMetrics object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ResourceMetricsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ResourceMetricsField::Resource => {
                self.resource = map.next_value_seed(Opt(Msg::new()))?
            }
            ResourceMetricsField::ScopeMetrics => {
                self.scope_metrics = map.next_value_seed(List(Msg::new()))?
            }
            ResourceMetricsField::SchemaUrl => self.schema_url = map.next_value_seed(Str)?,
            ResourceMetricsField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum ScopeMetricsField {
        Scope = "scope",
        Metrics = "metrics",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl DecodeMsg for ScopeMetrics {
    type Field = ScopeMetricsField;
    const EXPECTING: &'static str = "a ScopeMetrics object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ScopeMetricsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ScopeMetricsField::Scope => self.scope = map.next_value_seed(Opt(Msg::new()))?,
            ScopeMetricsField::Metrics => self.metrics = map.next_value_seed(List(Msg::new()))?,
            ScopeMetricsField::SchemaUrl => self.schema_url = map.next_value_seed(Str)?,
            ScopeMetricsField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum MetricField {
        Name = "name",
        Description = "description",
        Unit = "unit",
        Metadata = "metadata",
        Gauge = "gauge",
        Sum = "sum",
        Histogram = "histogram",
        ExponentialHistogram = "exponentialHistogram" | "exponential_histogram",
        Summary = "summary",
    }
}

impl DecodeMsg for Metric {
    type Field = MetricField;
    const EXPECTING: &'static str = "a Metric object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: MetricField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use metric::Data;
        let data = match field {
            MetricField::Name => {
                self.name = map.next_value_seed(Str)?;
                return Ok(());
            }
            MetricField::Description => {
                self.description = map.next_value_seed(Str)?;
                return Ok(());
            }
            MetricField::Unit => {
                self.unit = map.next_value_seed(Str)?;
                return Ok(());
            }
            MetricField::Metadata => {
                self.metadata = map.next_value_seed(ATTRIBUTES)?;
                return Ok(());
            }
            MetricField::Gauge => map.next_value_seed(Opt(Msg::new()))?.map(Data::Gauge),
            MetricField::Sum => map.next_value_seed(Opt(Msg::new()))?.map(Data::Sum),
            MetricField::Histogram => map.next_value_seed(Opt(Msg::new()))?.map(Data::Histogram),
            MetricField::ExponentialHistogram => map
                .next_value_seed(Opt(Msg::new()))?
                .map(Data::ExponentialHistogram),
            MetricField::Summary => map.next_value_seed(Opt(Msg::new()))?.map(Data::Summary),
            MetricField::Unknown => {
                skip_value(map)?;
                None
            }
        };
        set_oneof(&mut self.data, data, "Metric")
    }
}

fields! {
    pub(crate) enum PointsField {
        DataPoints = "dataPoints" | "data_points",
        AggregationTemporality = "aggregationTemporality" | "aggregation_temporality",
        IsMonotonic = "isMonotonic" | "is_monotonic",
    }
}

impl DecodeMsg for Gauge {
    type Field = PointsField;
    const EXPECTING: &'static str = "a Gauge object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            PointsField::DataPoints => self.data_points = map.next_value_seed(List(Msg::new()))?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for Sum {
    type Field = PointsField;
    const EXPECTING: &'static str = "a Sum object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            PointsField::DataPoints => self.data_points = map.next_value_seed(List(Msg::new()))?,
            PointsField::AggregationTemporality => {
                self.aggregation_temporality = map.next_value_seed(AGGREGATION_TEMPORALITY)?;
            }
            PointsField::IsMonotonic => self.is_monotonic = map.next_value_seed(Bool)?,
            PointsField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for Histogram {
    type Field = PointsField;
    const EXPECTING: &'static str = "a Histogram object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            PointsField::DataPoints => self.data_points = map.next_value_seed(List(Msg::new()))?,
            PointsField::AggregationTemporality => {
                self.aggregation_temporality = map.next_value_seed(AGGREGATION_TEMPORALITY)?;
            }
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for ExponentialHistogram {
    type Field = PointsField;
    const EXPECTING: &'static str = "an ExponentialHistogram object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            PointsField::DataPoints => self.data_points = map.next_value_seed(List(Msg::new()))?,
            PointsField::AggregationTemporality => {
                self.aggregation_temporality = map.next_value_seed(AGGREGATION_TEMPORALITY)?;
            }
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for Summary {
    type Field = PointsField;
    const EXPECTING: &'static str = "a Summary object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointsField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            PointsField::DataPoints => self.data_points = map.next_value_seed(List(Msg::new()))?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

// The keys of all four data point kinds and of exemplars, in one enum: each
// message reads the keys it has and skips the others like unknown keys.
fields! {
    pub(crate) enum PointField {
        Attributes = "attributes",
        FilteredAttributes = "filteredAttributes" | "filtered_attributes",
        StartTimeUnixNano = "startTimeUnixNano" | "start_time_unix_nano",
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        AsDouble = "asDouble" | "as_double",
        AsInt = "asInt" | "as_int",
        Exemplars = "exemplars",
        Flags = "flags",
        Count = "count",
        Sum = "sum",
        BucketCounts = "bucketCounts" | "bucket_counts",
        ExplicitBounds = "explicitBounds" | "explicit_bounds",
        Min = "min",
        Max = "max",
        Scale = "scale",
        ZeroCount = "zeroCount" | "zero_count",
        Positive = "positive",
        Negative = "negative",
        ZeroThreshold = "zeroThreshold" | "zero_threshold",
        QuantileValues = "quantileValues" | "quantile_values",
        SpanId = "spanId" | "span_id",
        TraceId = "traceId" | "trace_id",
        Offset = "offset",
        Quantile = "quantile",
        Value = "value",
    }
}

impl DecodeMsg for NumberDataPoint {
    type Field = PointField;
    const EXPECTING: &'static str = "a NumberDataPoint object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use PointField as F;
        use number_data_point::Value;
        match field {
            F::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            F::StartTimeUnixNano => self.start_time_unix_nano = map.next_value_seed(U64)?,
            F::TimeUnixNano => self.time_unix_nano = map.next_value_seed(U64)?,
            F::AsDouble => {
                let value = map.next_value_seed(Opt(F64))?.map(Value::AsDouble);
                set_oneof(&mut self.value, value, "NumberDataPoint")?;
            }
            F::AsInt => {
                let value = map.next_value_seed(Opt(I64))?.map(Value::AsInt);
                set_oneof(&mut self.value, value, "NumberDataPoint")?;
            }
            F::Exemplars => self.exemplars = map.next_value_seed(List(Msg::new()))?,
            F::Flags => self.flags = map.next_value_seed(U32)?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for HistogramDataPoint {
    type Field = PointField;
    const EXPECTING: &'static str = "a HistogramDataPoint object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use PointField as F;
        match field {
            F::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            F::StartTimeUnixNano => self.start_time_unix_nano = map.next_value_seed(U64)?,
            F::TimeUnixNano => self.time_unix_nano = map.next_value_seed(U64)?,
            F::Count => self.count = map.next_value_seed(U64)?,
            F::Sum => self.sum = map.next_value_seed(Opt(F64))?,
            F::BucketCounts => self.bucket_counts = map.next_value_seed(List(U64))?,
            F::ExplicitBounds => self.explicit_bounds = map.next_value_seed(List(F64))?,
            F::Exemplars => self.exemplars = map.next_value_seed(List(Msg::new()))?,
            F::Flags => self.flags = map.next_value_seed(U32)?,
            F::Min => self.min = map.next_value_seed(Opt(F64))?,
            F::Max => self.max = map.next_value_seed(Opt(F64))?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for ExponentialHistogramDataPoint {
    type Field = PointField;
    const EXPECTING: &'static str = "an ExponentialHistogramDataPoint object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use PointField as F;
        match field {
            F::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            F::StartTimeUnixNano => self.start_time_unix_nano = map.next_value_seed(U64)?,
            F::TimeUnixNano => self.time_unix_nano = map.next_value_seed(U64)?,
            F::Count => self.count = map.next_value_seed(U64)?,
            F::Sum => self.sum = map.next_value_seed(Opt(F64))?,
            F::Scale => self.scale = map.next_value_seed(I32)?,
            F::ZeroCount => self.zero_count = map.next_value_seed(U64)?,
            F::Positive => self.positive = map.next_value_seed(Opt(Msg::new()))?,
            F::Negative => self.negative = map.next_value_seed(Opt(Msg::new()))?,
            F::Flags => self.flags = map.next_value_seed(U32)?,
            F::Exemplars => self.exemplars = map.next_value_seed(List(Msg::new()))?,
            F::Min => self.min = map.next_value_seed(Opt(F64))?,
            F::Max => self.max = map.next_value_seed(Opt(F64))?,
            F::ZeroThreshold => self.zero_threshold = map.next_value_seed(F64)?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for Buckets {
    type Field = PointField;
    const EXPECTING: &'static str = "a Buckets object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            PointField::Offset => self.offset = map.next_value_seed(I32)?,
            PointField::BucketCounts => self.bucket_counts = map.next_value_seed(List(U64))?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for SummaryDataPoint {
    type Field = PointField;
    const EXPECTING: &'static str = "a SummaryDataPoint object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use PointField as F;
        match field {
            F::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            F::StartTimeUnixNano => self.start_time_unix_nano = map.next_value_seed(U64)?,
            F::TimeUnixNano => self.time_unix_nano = map.next_value_seed(U64)?,
            F::Count => self.count = map.next_value_seed(U64)?,
            F::Sum => self.sum = map.next_value_seed(F64)?,
            F::QuantileValues => self.quantile_values = map.next_value_seed(List(Msg::new()))?,
            F::Flags => self.flags = map.next_value_seed(U32)?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for ValueAtQuantile {
    type Field = PointField;
    const EXPECTING: &'static str = "a ValueAtQuantile object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            PointField::Quantile => self.quantile = map.next_value_seed(F64)?,
            PointField::Value => self.value = map.next_value_seed(F64)?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}

impl DecodeMsg for Exemplar {
    type Field = PointField;
    const EXPECTING: &'static str = "an Exemplar object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: PointField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        use PointField as F;
        use exemplar::Value;
        match field {
            F::FilteredAttributes => self.filtered_attributes = map.next_value_seed(ATTRIBUTES)?,
            F::TimeUnixNano => self.time_unix_nano = map.next_value_seed(U64)?,
            F::AsDouble => {
                let value = map.next_value_seed(Opt(F64))?.map(Value::AsDouble);
                set_oneof(&mut self.value, value, "Exemplar")?;
            }
            F::AsInt => {
                let value = map.next_value_seed(Opt(I64))?.map(Value::AsInt);
                set_oneof(&mut self.value, value, "Exemplar")?;
            }
            F::SpanId => self.span_id = map.next_value_seed(SPAN_ID)?,
            F::TraceId => self.trace_id = map.next_value_seed(TRACE_ID)?,
            _ => skip_value(map)?,
        }
        Ok(())
    }
}
