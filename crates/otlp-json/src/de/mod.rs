//! Decoding OTLP/JSON straight into the `opentelemetry-proto` prost structs.
//!
//! This module owns the machinery the per-signal files share: matching object
//! keys to field enums without allocating ([`FieldId`], the `fields!` macro),
//! the generic object visitor ([`Msg`] over [`DecodeMsg`]), and seeds for
//! `null`-tolerant optionals, arrays, strings and booleans. Every seed treats
//! JSON `null` as the field's default and every object skips unknown keys.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{DecodeError, clear_path, push_index, push_key};

pub(crate) mod common;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod response;
pub(crate) mod trace;

/// The known keys of one JSON object, as an enum with an `Unknown` catch-all.
pub(crate) trait FieldId: Copy {
    /// Maps a JSON key (lowerCamelCase or the proto's snake_case) to a field.
    fn from_key(key: &str) -> Self;
    /// The lowerCamelCase key, for error paths.
    fn name(self) -> &'static str;
    /// True for keys the mapping does not know (skipped).
    fn is_unknown(self) -> bool;
}

/// Declares a [`FieldId`] enum: `Variant = "camelKey" | "snake_key", ...`.
macro_rules! fields {
    ($vis:vis enum $name:ident { $($variant:ident = $camel:literal $(| $alias:literal)*),* $(,)? }) => {
        #[derive(Clone, Copy, Debug)]
        $vis enum $name {
            $($variant,)*
            Unknown,
        }

        impl $crate::de::FieldId for $name {
            #[inline]
            fn from_key(key: &str) -> Self {
                match key {
                    $($camel $(| $alias)* => Self::$variant,)*
                    _ => Self::Unknown,
                }
            }

            fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $camel,)*
                    Self::Unknown => "?",
                }
            }

            #[inline]
            fn is_unknown(self) -> bool {
                matches!(self, Self::Unknown)
            }
        }
    };
}
pub(crate) use fields;

/// Seed reading one object key as a field enum.
pub(crate) struct Key<F>(PhantomData<F>);

impl<F> Key<F> {
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, F: FieldId> DeserializeSeed<'de> for Key<F> {
    type Value = F;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<F, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de, F: FieldId> Visitor<'de> for Key<F> {
    type Value = F;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    #[inline]
    fn visit_str<E: Error>(self, v: &str) -> Result<F, E> {
        Ok(F::from_key(v))
    }
}

/// Skips the value of an unknown key.
#[inline]
pub(crate) fn skip_value<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

/// A prost message decoded from a JSON object, one field at a time.
pub(crate) trait DecodeMsg: Default {
    /// The message's keys.
    type Field: FieldId;
    /// What the object is, for type errors.
    const EXPECTING: &'static str;
    /// Reads the value of `field` (never `Unknown`) into `self`.
    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: Self::Field,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// Seed and visitor for any [`DecodeMsg`] (`null` gives the default message).
pub(crate) struct Msg<M>(PhantomData<M>);

impl<M> Msg<M> {
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<M> Clone for Msg<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Msg<M> {}

impl<'de, M: DecodeMsg> DeserializeSeed<'de> for Msg<M> {
    type Value = M;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<M, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, M: DecodeMsg> Visitor<'de> for Msg<M> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(M::EXPECTING)
    }

    fn visit_unit<E: Error>(self) -> Result<M, E> {
        Ok(M::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
        let mut msg = M::default();
        while let Some(field) = map.next_key_seed(Key::<M::Field>::new())? {
            if field.is_unknown() {
                skip_value(&mut map)?;
            } else if let Err(err) = msg.field(field, &mut map) {
                push_key(field.name());
                return Err(err);
            }
        }
        Ok(msg)
    }
}

/// Wraps a seed so that `null` gives `None` (for optional messages and oneof members).
#[derive(Clone, Copy)]
pub(crate) struct Opt<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Opt<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Opt<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer).map(Some)
    }
}

/// Seed for a JSON array whose elements each use a copy of `S` (`null` gives no elements).
#[derive(Clone, Copy)]
pub(crate) struct List<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de> + Copy> DeserializeSeed<'de> for List<S> {
    type Value = Vec<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for List<S> {
    type Value = Vec<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            match seq.next_element_seed(self.0) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => return Ok(out),
                Err(err) => {
                    push_index(out.len());
                    return Err(err);
                }
            }
        }
    }
}

/// Seed and visitor for a string field (`null` gives `""`).
#[derive(Clone, Copy)]
pub(crate) struct Str;

impl<'de> DeserializeSeed<'de> for Str {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Str {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_unit<E: Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
}

/// Seed and visitor for a bool field (`null` gives `false`).
#[derive(Clone, Copy)]
pub(crate) struct Bool;

impl<'de> DeserializeSeed<'de> for Bool {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bool {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean")
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_unit<E: Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// Runs `seed` over the whole of `bytes` (trailing non-whitespace is an error).
///
/// The input is checked for UTF-8 once up front, so that serde_json can
/// borrow every string without validating it again (a fifth of the parse time
/// otherwise).
pub(crate) fn decode_with<'de, S: DeserializeSeed<'de>>(
    bytes: &'de [u8],
    seed: S,
) -> Result<S::Value, DecodeError> {
    clear_path();
    let text = std::str::from_utf8(bytes)
        .map_err(|err| DecodeError::invalid_utf8(bytes, err.valid_up_to()))?;
    let mut de = serde_json::Deserializer::from_str(text);
    seed.deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value))
        .map_err(|err| DecodeError::from_json(&err))
}
