//! Encoding the shared `common.v1` and `resource.v1` messages: `AnyValue`,
//! `KeyValue`, `InstrumentationScope`, `EntityRef` and `Resource`.

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, EntityRef, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::{Encode, Obj, write_quoted_i64, write_str};
use crate::ids::write_base64;
use crate::num::{write_f64, write_i64};

/// Deepest `AnyValue` nesting the encoder follows; anything below is written
/// as an empty `AnyValue` (`{}`), so that a hostile in-memory tree cannot
/// exhaust the stack. Decoders (ours, prost's) never build trees this deep.
const MAX_ENCODE_DEPTH: usize = 128;

fn write_any_value(out: &mut Vec<u8>, value: &AnyValue, depth: usize) {
    use any_value::Value as V;
    let mut obj = Obj::new(out);
    match (&value.value, depth > MAX_ENCODE_DEPTH) {
        (None, _) | (Some(_), true) => {}
        (Some(V::StringValue(s)), false) => write_str(obj.key("stringValue"), s),
        (Some(V::BoolValue(b)), false) => {
            obj.key("boolValue")
                .extend_from_slice(if *b { b"true" } else { b"false" });
        }
        (Some(V::IntValue(i)), false) => write_quoted_i64(obj.key("intValue"), *i),
        (Some(V::DoubleValue(d)), false) => write_f64(obj.key("doubleValue"), *d),
        (Some(V::ArrayValue(array)), false) => {
            let out = obj.key("arrayValue");
            let mut inner = Obj::new(out);
            inner.list_with("values", &array.values, |out, item| {
                write_any_value(out, item, depth + 1);
            });
            inner.end();
        }
        (Some(V::KvlistValue(list)), false) => {
            let out = obj.key("kvlistValue");
            let mut inner = Obj::new(out);
            inner.list_with("values", &list.values, |out, item| {
                write_key_value(out, item, depth + 1);
            });
            inner.end();
        }
        (Some(V::BytesValue(bytes)), false) => write_base64(obj.key("bytesValue"), bytes),
        (Some(V::StringValueStrindex(index)), false) => {
            write_i64(obj.key("stringValueStrindex"), i64::from(*index));
        }
    }
    obj.end();
}

fn write_key_value(out: &mut Vec<u8>, kv: &KeyValue, depth: usize) {
    let mut obj = Obj::new(out);
    // The key is written even when empty: it is what an attribute is about.
    write_str(obj.key("key"), &kv.key);
    if let Some(value) = &kv.value {
        write_any_value(obj.key("value"), value, depth);
    }
    obj.i32("keyStrindex", kv.key_strindex);
    obj.end();
}

impl Encode for AnyValue {
    fn encode(&self, out: &mut Vec<u8>) {
        write_any_value(out, self, 0);
    }
}

impl Encode for KeyValue {
    fn encode(&self, out: &mut Vec<u8>) {
        write_key_value(out, self, 0);
    }
}

impl Encode for InstrumentationScope {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.str("name", &self.name);
        obj.str("version", &self.version);
        obj.list("attributes", &self.attributes);
        obj.u32("droppedAttributesCount", self.dropped_attributes_count);
        obj.end();
    }
}

impl Encode for EntityRef {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.str("schemaUrl", &self.schema_url);
        obj.str("type", &self.r#type);
        obj.list_with("idKeys", &self.id_keys, |out, key| write_str(out, key));
        obj.list_with("descriptionKeys", &self.description_keys, |out, key| {
            write_str(out, key)
        });
        obj.end();
    }
}

impl Encode for Resource {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut obj = Obj::new(out);
        obj.list("attributes", &self.attributes);
        obj.u32("droppedAttributesCount", self.dropped_attributes_count);
        obj.list("entityRefs", &self.entity_refs);
        obj.end();
    }
}
