//! Numbers and enums in OTLP/JSON, both ways.
//!
//! Decoding: integers of any width arrive as JSON numbers or decimal strings
//! (also integral floats like `1.0` or `"1e3"`, for leniency); doubles as
//! numbers, numeric strings or `"NaN"`, `"Infinity"`, `"-Infinity"`; enums as
//! integers or their proto names. `null` is the field's default everywhere.
//!
//! Encoding: 64-bit integers as quoted decimals, 32-bit ones and enums as bare
//! numbers, finite doubles as shortest round-trip numbers, the others as the
//! three special strings.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, Error, Visitor};

/// Largest magnitude below which every integral `f64` converts exactly to an `i128`.
const F64_INT_LIMIT: f64 = 18_446_744_073_709_551_616.0; // 2^64

/// Integer types a JSON field can decode into.
pub(crate) trait IntTarget: TryFrom<i128> + Default + Copy {
    /// Name used in error messages.
    const NAME: &'static str;
}

impl IntTarget for u64 {
    const NAME: &'static str = "uint64";
}
impl IntTarget for i64 {
    const NAME: &'static str = "int64";
}
impl IntTarget for u32 {
    const NAME: &'static str = "uint32";
}
impl IntTarget for i32 {
    const NAME: &'static str = "int32";
}

/// Seed and visitor for an integer field of type `T` (`null` gives 0).
pub(crate) struct Int<T>(PhantomData<T>);

impl<T> Clone for Int<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Int<T> {}

/// Decodes a `uint64` / `fixed64` field.
pub(crate) const U64: Int<u64> = Int(PhantomData);
/// Decodes an `int64` / `sfixed64` field.
pub(crate) const I64: Int<i64> = Int(PhantomData);
/// Decodes a `uint32` / `fixed32` field.
pub(crate) const U32: Int<u32> = Int(PhantomData);
/// Decodes an `int32` / `sint32` field.
pub(crate) const I32: Int<i32> = Int(PhantomData);

fn convert<T: IntTarget, E: Error>(value: i128) -> Result<T, E> {
    T::try_from(value)
        .map_err(|_| E::custom(format_args!("{value} is out of range for {}", T::NAME)))
}

fn integral_f64<T: IntTarget, E: Error>(value: f64) -> Result<T, E> {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < F64_INT_LIMIT {
        // Exact: integral and well inside i128.
        convert(value as i128)
    } else {
        Err(E::custom(format_args!(
            "expected an integer ({}), got {value}",
            T::NAME
        )))
    }
}

/// Parses a decimal integer string, falling back to an integral float (`"1e3"`, `"2.0"`).
fn parse_int_str<T: IntTarget, E: Error>(s: &str) -> Result<T, E> {
    match s.parse::<i128>() {
        Ok(value) => convert(value),
        Err(_) => match s.parse::<f64>() {
            Ok(value) => integral_f64(value),
            _ => Err(E::custom(format_args!(
                "expected an integer ({}), got string {s:?}",
                T::NAME
            ))),
        },
    }
}

impl<'de, T: IntTarget> DeserializeSeed<'de> for Int<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: IntTarget> Visitor<'de> for Int<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an integer ({}) as a number or a decimal string",
            T::NAME
        )
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
        convert(i128::from(v))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
        convert(i128::from(v))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<T, E> {
        integral_f64(v)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        parse_int_str(v)
    }

    fn visit_unit<E: Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
}

/// Seed and visitor for a `double` field (`null` gives 0.0).
#[derive(Clone, Copy)]
pub(crate) struct F64;

/// Parses the string form of a double: the three special names or a number.
fn parse_f64_str<E: Error>(s: &str) -> Result<f64, E> {
    match s {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse::<f64>()
            .map_err(|_| E::custom(format_args!("expected a double, got string {s:?}"))),
    }
}

impl<'de> DeserializeSeed<'de> for F64 {
    type Value = f64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<f64, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for F64 {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a double as a number, a numeric string, \"NaN\", \"Infinity\" or \"-Infinity\"",
        )
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<f64, E> {
        parse_f64_str(v)
    }

    fn visit_unit<E: Error>(self) -> Result<f64, E> {
        Ok(0.0)
    }
}

/// Seed and visitor for a proto enum field: an `int32`, or a name that
/// `by_name` knows (`null` gives 0).
#[derive(Clone, Copy)]
pub(crate) struct Enum {
    /// Proto enum name, for messages.
    pub(crate) name: &'static str,
    /// Maps a value name (`SPAN_KIND_SERVER`) to its number.
    pub(crate) by_name: fn(&str) -> Option<i32>,
}

impl<'de> DeserializeSeed<'de> for Enum {
    type Value = i32;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<i32, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Enum {
    type Value = i32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} as an integer or a value name", self.name)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<i32, E> {
        I32.visit_u64(v)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<i32, E> {
        I32.visit_i64(v)
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<i32, E> {
        I32.visit_f64(v)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<i32, E> {
        match (self.by_name)(v) {
            Some(value) => Ok(value),
            None => v
                .parse::<i32>()
                .map_err(|_| E::custom(format_args!("unknown {} name {v:?}", self.name))),
        }
    }

    fn visit_unit<E: Error>(self) -> Result<i32, E> {
        Ok(0)
    }
}

/// Appends the decimal digits of `v`.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        // `v % 10` is below 10, so the cast is exact.
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// Appends the decimal digits of `v`, with a leading `-` when negative.
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Appends `v` as a JSON number, or as `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v == f64::INFINITY {
        out.extend_from_slice(b"\"Infinity\"");
    } else if v == f64::NEG_INFINITY {
        out.extend_from_slice(b"\"-Infinity\"");
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        // Integral and exactly representable as i64: the common case (counts, 1.0).
        if v == 0.0 && v.is_sign_negative() {
            out.extend_from_slice(b"-0.0");
        } else {
            write_i64(out, v as i64);
            out.extend_from_slice(b".0");
        }
    } else {
        // `Debug` prints the shortest string that parses back to the same
        // value, using exponent notation (`1e-7`, `1.5e300`) when that is
        // shorter: always a valid JSON number for finite values.
        let mut text = String::new();
        let _ = fmt::Write::write_fmt(&mut text, format_args!("{v:?}"));
        out.extend_from_slice(text.as_bytes());
    }
}
