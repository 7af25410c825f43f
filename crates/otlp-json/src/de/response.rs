//! Decoding the three `Export*ServiceResponse` bodies and their `partialSuccess`.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use serde::de::MapAccess;

use super::{DecodeMsg, Msg, Opt, Str, fields, skip_value};
use crate::num::I64;

fields! {
    pub(crate) enum ResponseField {
        PartialSuccess = "partialSuccess" | "partial_success",
    }
}

fields! {
    pub(crate) enum PartialSuccessField {
        RejectedLogRecords = "rejectedLogRecords" | "rejected_log_records",
        RejectedDataPoints = "rejectedDataPoints" | "rejected_data_points",
        RejectedSpans = "rejectedSpans" | "rejected_spans",
        ErrorMessage = "errorMessage" | "error_message",
    }
}

/// Implements `DecodeMsg` for one response and its partial-success message,
/// whose rejected-count field is `$count` (named by `$count_key`).
macro_rules! response_decoder {
    ($response:ty, $partial:ty, $count:ident, $count_key:ident) => {
        impl DecodeMsg for $response {
            type Field = ResponseField;
            const EXPECTING: &'static str = concat!("an ", stringify!($response), " object");

            fn field<'de, A: MapAccess<'de>>(
                &mut self,
                field: ResponseField,
                map: &mut A,
            ) -> Result<(), A::Error> {
                match field {
                    ResponseField::PartialSuccess => {
                        self.partial_success = map.next_value_seed(Opt(Msg::new()))?
                    }
                    ResponseField::Unknown => skip_value(map)?,
                }
                Ok(())
            }
        }

        impl DecodeMsg for $partial {
            type Field = PartialSuccessField;
            const EXPECTING: &'static str = concat!("an ", stringify!($partial), " object");

            fn field<'de, A: MapAccess<'de>>(
                &mut self,
                field: PartialSuccessField,
                map: &mut A,
            ) -> Result<(), A::Error> {
                match field {
                    PartialSuccessField::$count_key => self.$count = map.next_value_seed(I64)?,
                    PartialSuccessField::ErrorMessage => {
                        self.error_message = map.next_value_seed(Str)?
                    }
                    _ => skip_value(map)?,
                }
                Ok(())
            }
        }
    };
}

response_decoder!(
    ExportLogsServiceResponse,
    ExportLogsPartialSuccess,
    rejected_log_records,
    RejectedLogRecords
);
response_decoder!(
    ExportMetricsServiceResponse,
    ExportMetricsPartialSuccess,
    rejected_data_points,
    RejectedDataPoints
);
response_decoder!(
    ExportTraceServiceResponse,
    ExportTracePartialSuccess,
    rejected_spans,
    RejectedSpans
);
