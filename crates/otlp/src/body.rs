//! Reading request bodies within limits: size, time, and inflated size.
//!
//! The compressed body is collected under a byte limit and a deadline (a
//! slow client that never finishes is cut off). Gzip is inflated as a stream
//! and stopped one byte past the limit, so a zip bomb costs at most `limit`
//! bytes of memory and the CPU to produce them.

use std::{io::Read, time::Duration};

use bytes::Bytes;
use http_body_util::BodyExt;

use crate::ReceiveError;

/// Size and time limits for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes accepted on the wire and after inflation.
    pub max_body_bytes: usize,
    /// How long a client has to send its whole body.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// Collects a body, refusing it past `limits.max_body_bytes` or the deadline.
pub async fn collect<B>(body: B, limits: Limits) -> Result<Bytes, ReceiveError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limited = http_body_util::Limited::new(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.body_timeout, limited.collect()).await {
        Err(_) => Err(ReceiveError::Timeout(limits.body_timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(ReceiveError::TooLarge {
                    limit: limits.max_body_bytes,
                })
            } else {
                Err(ReceiveError::Malformed(format!("reading body: {e}")))
            }
        }
    }
}

/// The content encodings cairn takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// No compression.
    Identity,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
}

impl Encoding {
    /// Parses a `Content-Encoding` header value (absent = identity).
    pub fn parse(value: Option<&[u8]>) -> Result<Encoding, ReceiveError> {
        let Some(v) = value else {
            return Ok(Encoding::Identity);
        };
        let v = v.trim_ascii();
        if v.is_empty() || v.eq_ignore_ascii_case(b"identity") {
            Ok(Encoding::Identity)
        } else if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") {
            Ok(Encoding::Gzip)
        } else {
            Err(ReceiveError::UnsupportedMediaType(format!(
                "content-encoding {} (use gzip or none)",
                String::from_utf8_lossy(v)
            )))
        }
    }
}

/// Inflates a gzip body, stopping past `limit` bytes of output.
pub fn gunzip(input: &[u8], limit: usize) -> Result<Bytes, ReceiveError> {
    let decoder = flate2::read::MultiGzDecoder::new(input);
    let mut out = Vec::with_capacity(input.len().saturating_mul(4).min(limit));
    let mut bounded = decoder.take(limit as u64 + 1);
    bounded
        .read_to_end(&mut out)
        .map_err(|e| ReceiveError::Malformed(format!("invalid gzip body: {e}")))?;
    if out.len() > limit {
        return Err(ReceiveError::TooLarge { limit });
    }
    Ok(Bytes::from(out))
}

/// Applies `encoding` to a collected body.
pub fn decode(body: Bytes, encoding: Encoding, limit: usize) -> Result<Bytes, ReceiveError> {
    match encoding {
        Encoding::Identity => Ok(body),
        Encoding::Gzip => gunzip(&body, limit),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Write;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_round_trips_under_the_limit() {
        let data = b"hello cairn".repeat(100);
        assert_eq!(gunzip(&gz(&data), data.len()).unwrap(), Bytes::from(data));
    }

    #[test]
    fn zip_bomb_stops_at_the_limit() {
        // 64 MiB of zeros compresses to ~64 KiB; the limit is 1 MiB.
        let bomb = gz(&vec![0u8; 64 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        assert_eq!(
            gunzip(&bomb, 1024 * 1024),
            Err(ReceiveError::TooLarge { limit: 1024 * 1024 })
        );
    }

    #[test]
    fn corrupt_gzip_is_malformed() {
        let mut data = gz(b"some payload that is long enough to corrupt");
        let n = data.len();
        data[n / 2] ^= 0xff;
        assert!(matches!(
            gunzip(&data, 1 << 20),
            Err(ReceiveError::Malformed(_))
        ));
        assert!(matches!(
            gunzip(b"not gzip at all", 1 << 20),
            Err(ReceiveError::Malformed(_))
        ));
    }

    #[test]
    fn encodings_parse() {
        assert_eq!(Encoding::parse(None).unwrap(), Encoding::Identity);
        assert_eq!(Encoding::parse(Some(b"GZIP")).unwrap(), Encoding::Gzip);
        assert!(matches!(
            Encoding::parse(Some(b"br")),
            Err(ReceiveError::UnsupportedMediaType(_))
        ));
    }

    #[tokio::test]
    async fn collect_enforces_the_size_limit() {
        let limits = Limits {
            max_body_bytes: 10,
            body_timeout: Duration::from_secs(5),
        };
        let ok = collect(
            http_body_util::Full::new(Bytes::from_static(b"0123456789")),
            limits,
        )
        .await;
        assert_eq!(ok.unwrap().len(), 10);
        let big = collect(
            http_body_util::Full::new(Bytes::from_static(b"0123456789x")),
            limits,
        )
        .await;
        assert_eq!(big, Err(ReceiveError::TooLarge { limit: 10 }));
    }
}
