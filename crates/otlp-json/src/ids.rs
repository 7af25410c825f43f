//! Byte fields in OTLP/JSON, both ways: trace and span ids as hex, `bytesValue` as base64.
//!
//! OTLP/JSON departs from protobuf's canonical JSON here: `traceId`,
//! `spanId`, `parentSpanId` and the exemplar/link ids are hex strings (any
//! case on input, lowercase on output), and an empty string is an empty id.
//! Only `AnyValue.bytesValue` is base64 (standard alphabet on output; standard
//! or url-safe, padded or not, on input).

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{DeserializeSeed, Deserializer, Error, Visitor};

/// Length in bytes of a trace id.
pub(crate) const TRACE_ID_LEN: usize = 16;
/// Length in bytes of a span id.
pub(crate) const SPAN_ID_LEN: usize = 8;

/// Seed and visitor for a hex id of a fixed byte length (`""` or `null` give no id).
#[derive(Clone, Copy)]
pub(crate) struct HexId {
    len: usize,
    what: &'static str,
}

/// Decodes a 16-byte trace id.
pub(crate) const TRACE_ID: HexId = HexId {
    len: TRACE_ID_LEN,
    what: "trace id",
};
/// Decodes an 8-byte span id.
pub(crate) const SPAN_ID: HexId = HexId {
    len: SPAN_ID_LEN,
    what: "span id",
};

impl<'de> DeserializeSeed<'de> for HexId {
    type Value = Vec<u8>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HexId {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} as {} hex digits", self.what, self.len * 2)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Vec<u8>, E> {
        if v.is_empty() {
            return Ok(Vec::new());
        }
        if v.len() != self.len * 2 {
            return Err(E::custom(format_args!(
                "invalid {}: expected {} hex digits, got {} characters",
                self.what,
                self.len * 2,
                v.len()
            )));
        }
        let mut out = vec![0u8; self.len];
        hex::decode_to_slice(v, &mut out)
            .map_err(|err| E::custom(format_args!("invalid {} {v:?}: {err}", self.what)))?;
        Ok(out)
    }

    fn visit_unit<E: Error>(self) -> Result<Vec<u8>, E> {
        Ok(Vec::new())
    }
}

/// Lenient base64 decoding: padding optional, trailing bits tolerated.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Seed and visitor for `bytesValue` (`null` gives no bytes).
#[derive(Clone, Copy)]
pub(crate) struct Base64Bytes;

impl<'de> DeserializeSeed<'de> for Base64Bytes {
    type Value = Vec<u8>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Base64Bytes {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("base64 bytes")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Vec<u8>, E> {
        let engine = if v.bytes().any(|b| b == b'-' || b == b'_') {
            &URL_SAFE_LENIENT
        } else {
            &STANDARD_LENIENT
        };
        engine
            .decode(v)
            .map_err(|err| E::custom(format_args!("invalid base64 in bytesValue: {err}")))
    }

    fn visit_unit<E: Error>(self) -> Result<Vec<u8>, E> {
        Ok(Vec::new())
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` as a quoted lowercase hex string.
pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2 + 2);
    out.push(b'"');
    for &b in bytes {
        out.push(HEX_DIGITS[usize::from(b >> 4)]);
        out.push(HEX_DIGITS[usize::from(b & 0x0f)]);
    }
    out.push(b'"');
}

/// Appends `bytes` as a quoted standard, padded base64 string.
pub(crate) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut text);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}
