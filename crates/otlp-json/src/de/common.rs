//! Decoding the shared `common.v1` and `resource.v1` messages: `AnyValue`
//! (with its nesting bound), `KeyValue`, `ArrayValue`, `KeyValueList`,
//! `InstrumentationScope`, `EntityRef` and `Resource`.

use std::fmt;

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, Visitor};

use super::{Bool, DecodeMsg, Key, List, Opt, Str, fields, skip_value};
use crate::MAX_ANY_VALUE_DEPTH;
use crate::error::push_key;
use crate::ids::Base64Bytes;
use crate::num::{F64, I32, I64, U32};

/// A top-level `AnyValue` (log body).
pub(crate) const ANY_VALUE: AnyValueSeed = AnyValueSeed { depth: 0 };

/// Attribute lists at the top of the value tree.
pub(crate) const ATTRIBUTES: List<KeyValueSeed> = List(KeyValueSeed { depth: 0 });

fields! {
    enum AnyValueField {
        StringValue = "stringValue" | "string_value",
        BoolValue = "boolValue" | "bool_value",
        IntValue = "intValue" | "int_value",
        DoubleValue = "doubleValue" | "double_value",
        ArrayValue = "arrayValue" | "array_value",
        KvlistValue = "kvlistValue" | "kvlist_value",
        BytesValue = "bytesValue" | "bytes_value",
        StringValueStrindex = "stringValueStrindex" | "string_value_strindex",
    }
}

/// Seed for an `AnyValue` at nesting level `depth` (0 for attribute values and bodies).
#[derive(Clone, Copy)]
pub(crate) struct AnyValueSeed {
    pub(crate) depth: usize,
}

impl<'de> DeserializeSeed<'de> for AnyValueSeed {
    type Value = AnyValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<AnyValue, D::Error> {
        if self.depth > MAX_ANY_VALUE_DEPTH {
            return Err(D::Error::custom(format_args!(
                "AnyValue nested deeper than {MAX_ANY_VALUE_DEPTH} levels"
            )));
        }
        deserializer.deserialize_any(self)
    }
}

impl AnyValueSeed {
    /// Reads the value of one known key as the oneof member it names (`None` for `null`).
    fn member<'de, A: MapAccess<'de>>(
        self,
        field: AnyValueField,
        map: &mut A,
    ) -> Result<Option<any_value::Value>, A::Error> {
        use any_value::Value as V;
        let inner = Self {
            depth: self.depth + 1,
        };
        Ok(match field {
            AnyValueField::StringValue => map.next_value_seed(Opt(Str))?.map(V::StringValue),
            AnyValueField::BoolValue => map.next_value_seed(Opt(Bool))?.map(V::BoolValue),
            AnyValueField::IntValue => map.next_value_seed(Opt(I64))?.map(V::IntValue),
            AnyValueField::DoubleValue => map.next_value_seed(Opt(F64))?.map(V::DoubleValue),
            AnyValueField::ArrayValue => map
                .next_value_seed(Opt(ArrayValueSeed { inner }))?
                .map(V::ArrayValue),
            AnyValueField::KvlistValue => map
                .next_value_seed(Opt(KeyValueListSeed { inner }))?
                .map(V::KvlistValue),
            AnyValueField::BytesValue => map.next_value_seed(Opt(Base64Bytes))?.map(V::BytesValue),
            AnyValueField::StringValueStrindex => {
                map.next_value_seed(Opt(I32))?.map(V::StringValueStrindex)
            }
            AnyValueField::Unknown => {
                skip_value(map)?;
                None
            }
        })
    }
}

impl<'de> Visitor<'de> for AnyValueSeed {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AnyValue object")
    }

    fn visit_unit<E: Error>(self) -> Result<AnyValue, E> {
        Ok(AnyValue::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
        let mut value = None;
        while let Some(field) = map.next_key_seed(Key::<AnyValueField>::new())? {
            match self.member(field, &mut map) {
                Ok(None) => {}
                Ok(Some(member)) => {
                    if value.is_some() {
                        push_key(crate::de::FieldId::name(field));
                        return Err(A::Error::custom("AnyValue has more than one value field"));
                    }
                    value = Some(member);
                }
                Err(err) => {
                    push_key(crate::de::FieldId::name(field));
                    return Err(err);
                }
            }
        }
        Ok(AnyValue { value })
    }
}

fields! {
    enum ValuesField {
        Values = "values",
    }
}

/// Seed for `ArrayValue`; `inner` is the seed of its elements.
#[derive(Clone, Copy)]
struct ArrayValueSeed {
    inner: AnyValueSeed,
}

impl<'de> DeserializeSeed<'de> for ArrayValueSeed {
    type Value = ArrayValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ArrayValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArrayValueSeed {
    type Value = ArrayValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ArrayValue object")
    }

    fn visit_unit<E: Error>(self) -> Result<ArrayValue, E> {
        Ok(ArrayValue::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ArrayValue, A::Error> {
        let mut out = ArrayValue::default();
        while let Some(field) = map.next_key_seed(Key::<ValuesField>::new())? {
            match field {
                ValuesField::Values => match map.next_value_seed(List(self.inner)) {
                    Ok(values) => out.values = values,
                    Err(err) => {
                        push_key("values");
                        return Err(err);
                    }
                },
                ValuesField::Unknown => skip_value(&mut map)?,
            }
        }
        Ok(out)
    }
}

/// Seed for `KeyValueList`; `inner` is the seed of its entries' values.
#[derive(Clone, Copy)]
struct KeyValueListSeed {
    inner: AnyValueSeed,
}

impl<'de> DeserializeSeed<'de> for KeyValueListSeed {
    type Value = KeyValueList;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<KeyValueList, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyValueListSeed {
    type Value = KeyValueList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a KeyValueList object")
    }

    fn visit_unit<E: Error>(self) -> Result<KeyValueList, E> {
        Ok(KeyValueList::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyValueList, A::Error> {
        let mut out = KeyValueList::default();
        let entries = List(KeyValueSeed {
            depth: self.inner.depth,
        });
        while let Some(field) = map.next_key_seed(Key::<ValuesField>::new())? {
            match field {
                ValuesField::Values => match map.next_value_seed(entries) {
                    Ok(values) => out.values = values,
                    Err(err) => {
                        push_key("values");
                        return Err(err);
                    }
                },
                ValuesField::Unknown => skip_value(&mut map)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum KeyValueField {
        Key = "key",
        Value = "value",
        KeyStrindex = "keyStrindex" | "key_strindex",
    }
}

/// Seed for a `KeyValue` whose value sits at nesting level `depth`.
#[derive(Clone, Copy)]
pub(crate) struct KeyValueSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for KeyValueSeed {
    type Value = KeyValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<KeyValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyValueSeed {
    type Value = KeyValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a KeyValue object")
    }

    fn visit_unit<E: Error>(self) -> Result<KeyValue, E> {
        Ok(KeyValue::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyValue, A::Error> {
        let mut out = KeyValue::default();
        while let Some(field) = map.next_key_seed(Key::<KeyValueField>::new())? {
            let read = match field {
                KeyValueField::Key => map.next_value_seed(Str).map(|key| out.key = key),
                KeyValueField::Value => map
                    .next_value_seed(Opt(AnyValueSeed { depth: self.depth }))
                    .map(|value| out.value = value),
                KeyValueField::KeyStrindex => map
                    .next_value_seed(I32)
                    .map(|index| out.key_strindex = index),
                KeyValueField::Unknown => skip_value(&mut map),
            };
            if let Err(err) = read {
                push_key(crate::de::FieldId::name(field));
                return Err(err);
            }
        }
        Ok(out)
    }
}

fields! {
    pub(crate) enum ScopeField {
        Name = "name",
        Version = "version",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    }
}

impl DecodeMsg for InstrumentationScope {
    type Field = ScopeField;
    const EXPECTING: &'static str = "an InstrumentationScope object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ScopeField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ScopeField::Name => self.name = map.next_value_seed(Str)?,
            ScopeField::Version => self.version = map.next_value_seed(Str)?,
            ScopeField::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            ScopeField::DroppedAttributesCount => {
                self.dropped_attributes_count = map.next_value_seed(U32)?
            }
            ScopeField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum EntityRefField {
        SchemaUrl = "schemaUrl" | "schema_url",
        Type = "type",
        IdKeys = "idKeys" | "id_keys",
        DescriptionKeys = "descriptionKeys" | "description_keys",
    }
}

impl DecodeMsg for EntityRef {
    type Field = EntityRefField;
    const EXPECTING: &'static str = "an EntityRef object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: EntityRefField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            EntityRefField::SchemaUrl => self.schema_url = map.next_value_seed(Str)?,
            EntityRefField::Type => self.r#type = map.next_value_seed(Str)?,
            EntityRefField::IdKeys => self.id_keys = map.next_value_seed(List(Str))?,
            EntityRefField::DescriptionKeys => {
                self.description_keys = map.next_value_seed(List(Str))?
            }
            EntityRefField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}

fields! {
    pub(crate) enum ResourceField {
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
        EntityRefs = "entityRefs" | "entity_refs",
    }
}

impl DecodeMsg for Resource {
    type Field = ResourceField;
    const EXPECTING: &'static str = "a Resource object";

    fn field<'de, A: MapAccess<'de>>(
        &mut self,
        field: ResourceField,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            ResourceField::Attributes => self.attributes = map.next_value_seed(ATTRIBUTES)?,
            ResourceField::DroppedAttributesCount => {
                self.dropped_attributes_count = map.next_value_seed(U32)?
            }
            ResourceField::EntityRefs => {
                self.entity_refs = map.next_value_seed(List(super::Msg::<EntityRef>::new()))?;
            }
            ResourceField::Unknown => skip_value(map)?,
        }
        Ok(())
    }
}
