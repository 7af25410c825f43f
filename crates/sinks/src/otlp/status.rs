//! The gRPC status table of the OTLP contract, with `google.rpc.RetryInfo`
//! read from the status details.

use std::time::Duration;

use tonic::Code;

use crate::driver::SinkError;

/// `google.rpc.Status`, as far as cairn reads it.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// The `RetryInfo.retry_delay` carried in a status's details, if any.
pub(super) fn retry_info(details: &[u8]) -> Option<Duration> {
    use prost::Message;
    let status = RpcStatus::decode(details).ok()?;
    let any = status.details.iter().find(|d| d.type_url == RETRY_INFO)?;
    let d = RetryInfo::decode(any.value.as_slice()).ok()?.retry_delay?;
    let secs = u64::try_from(d.seconds).ok()?;
    let nanos = u32::try_from(d.nanos).unwrap_or(0);
    Some(Duration::new(secs.min(3600), nanos))
}

/// The message of a `google.rpc.Status` body (OTLP/HTTP error answers).
pub(super) fn http_error_message(body: &[u8]) -> Option<String> {
    use prost::Message;
    let status = RpcStatus::decode(body).ok()?;
    let m = status.message.trim();
    (!m.is_empty()).then(|| m.chars().take(300).collect())
}

/// Encodes a status with a `RetryInfo` (tests build server answers with it).
#[cfg(test)]
pub(super) fn with_retry_info(code: Code, message: &str, delay: Duration) -> tonic::Status {
    use prost::Message;
    let info = RetryInfo {
        retry_delay: Some(ProtoDuration {
            seconds: i64::try_from(delay.as_secs()).unwrap_or(0),
            nanos: i32::try_from(delay.subsec_nanos()).unwrap_or(0),
        }),
    };
    let status = RpcStatus {
        code: code as i32,
        message: message.into(),
        details: vec![Any {
            type_url: RETRY_INFO.into(),
            value: info.encode_to_vec(),
        }],
    };
    tonic::Status::with_details(code, message, status.encode_to_vec().into())
}

/// Classifies a gRPC failure per the contract's table.
pub(super) fn classify(status: &tonic::Status) -> SinkError {
    let reason = format!("gRPC {:?}: {}", status.code(), status.message());
    let hint = retry_info(status.details());
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => SinkError::Retryable {
            reason,
            retry_after: hint,
        },
        Code::ResourceExhausted if hint.is_some() => SinkError::Retryable {
            reason,
            retry_after: hint,
        },
        _ => SinkError::Permanent { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grpc_table_with_and_without_retry_info() {
        for code in [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ] {
            assert!(
                classify(&tonic::Status::new(code, "x")).is_retryable(),
                "{code:?}"
            );
        }
        for code in [
            Code::Unknown,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Internal,
            Code::ResourceExhausted,
        ] {
            assert!(
                !classify(&tonic::Status::new(code, "x")).is_retryable(),
                "{code:?}"
            );
        }
        let s = with_retry_info(
            Code::ResourceExhausted,
            "slow down",
            Duration::from_millis(1500),
        );
        assert_eq!(
            classify(&s),
            SinkError::Retryable {
                reason: "gRPC ResourceExhausted: slow down".into(),
                retry_after: Some(Duration::from_millis(1500)),
            }
        );
        let s = with_retry_info(Code::Unavailable, "busy", Duration::from_secs(2));
        assert_eq!(retry_info(s.details()), Some(Duration::from_secs(2)));
    }
}
