//! The protobuf wire primitives over a byte slice: varints, keys,
//! length-delimited fields, fixed-width numbers and skipping unknown fields,
//! each failing where prost's `encoding` module fails.

/// Why a body is not a valid message. Only "it failed" has to match prost;
/// the kinds are for the error message the client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A varint ran past the end or past ten bytes, or overflowed 64 bits.
    #[error("invalid varint")]
    Varint,
    /// A field key larger than 32 bits, or wire type 6 or 7.
    #[error("invalid field key")]
    Key,
    /// Field number 0.
    #[error("invalid tag value: 0")]
    Tag,
    /// A length or fixed-width value runs past the end of its message.
    #[error("buffer underflow")]
    Underflow,
    /// A known field arrived with another wire type than its own.
    #[error("invalid wire type for field {tag}")]
    WireType {
        /// The field number.
        tag: u32,
    },
    /// A string field is not UTF-8.
    #[error("invalid string value: data is not UTF-8 encoded")]
    Utf8,
    /// Messages (or groups) nested more than 100 deep.
    #[error("recursion limit reached")]
    Depth,
    /// An end-group marker without its start, or for another group.
    #[error("unexpected end group tag")]
    EndGroup,
}

pub(crate) type Result<T> = std::result::Result<T, WireError>;

pub(crate) const VARINT: u8 = 0;
pub(crate) const FIXED64: u8 = 1;
pub(crate) const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
pub(crate) const FIXED32: u8 = 5;

/// prost's nesting limit: the fields of a message `d` levels below the
/// request see `LIMIT - d`, and entering a message (or skipping a field) at
/// 0 fails.
pub(crate) const LIMIT: u32 = 100;

/// A cursor over one message's bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64> {
        match self.buf.first() {
            Some(&b) if b < 0x80 => {
                self.buf = &self.buf[1..];
                Ok(u64::from(b))
            }
            _ => self.varint_long(),
        }
    }

    fn varint_long(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for (i, &b) in self.buf.iter().take(10).enumerate() {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                // The tenth byte may only carry the top bit of a u64.
                if i == 9 && b > 1 {
                    return Err(WireError::Varint);
                }
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        Err(WireError::Varint)
    }

    /// The next field's number and wire type.
    #[inline]
    pub(crate) fn key(&mut self) -> Result<(u32, u8)> {
        let key = self.varint()?;
        let key = u32::try_from(key).map_err(|_| WireError::Key)?;
        let wire = (key & 7) as u8;
        if wire > FIXED32 {
            return Err(WireError::Key);
        }
        let tag = key >> 3;
        if tag == 0 {
            return Err(WireError::Tag);
        }
        Ok((tag, wire))
    }

    #[inline]
    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| WireError::Underflow)?;
        if n > self.buf.len() {
            return Err(WireError::Underflow);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// A length-delimited field's bytes.
    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()?;
        self.take(n)
    }

    #[inline]
    pub(crate) fn fixed64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        b.try_into()
            .map(u64::from_le_bytes)
            .map_err(|_| WireError::Underflow)
    }

    #[inline]
    pub(crate) fn fixed32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        b.try_into()
            .map(u32::from_le_bytes)
            .map_err(|_| WireError::Underflow)
    }

    /// Skips an unknown field, groups included, as prost's `skip_field`.
    pub(crate) fn skip(&mut self, wire: u8, tag: u32, ctx: u32) -> Result<()> {
        if ctx == 0 {
            return Err(WireError::Depth);
        }
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LEN => self.bytes().map(drop),
            FIXED32 => self.take(4).map(drop),
            START_GROUP => loop {
                let (inner, inner_wire) = self.key()?;
                if inner_wire == END_GROUP {
                    return if inner == tag {
                        Ok(())
                    } else {
                        Err(WireError::EndGroup)
                    };
                }
                self.skip(inner_wire, inner, ctx - 1)?;
            },
            _ => Err(WireError::EndGroup),
        }
    }
}

/// Checks a known field's wire type.
#[inline]
pub(crate) fn expect(tag: u32, wire: u8, want: u8) -> Result<()> {
    if wire == want {
        Ok(())
    } else {
        Err(WireError::WireType { tag })
    }
}

/// The body of a nested message field and the depth its fields see.
#[inline]
pub(crate) fn message<'a>(
    r: &mut Reader<'a>,
    tag: u32,
    wire: u8,
    ctx: u32,
) -> Result<(&'a [u8], u32)> {
    expect(tag, wire, LEN)?;
    if ctx == 0 {
        return Err(WireError::Depth);
    }
    Ok((r.bytes()?, ctx - 1))
}

/// A string field's text.
#[inline]
pub(crate) fn text<'a>(r: &mut Reader<'a>, tag: u32, wire: u8) -> Result<&'a str> {
    expect(tag, wire, LEN)?;
    utf8(r.bytes()?)
}

/// `std::str::from_utf8` with an ASCII fast path. Most OTLP strings are
/// short ASCII (keys, ids, names), where std's validator walks byte by byte
/// until it is word-aligned; `is_ascii` checks them a word at a time. This
/// is the crate's one audited `unsafe`.
#[inline]
#[allow(unsafe_code)]
pub(crate) fn utf8(b: &[u8]) -> Result<&str> {
    if b.is_ascii() {
        // SAFETY: every byte is below 0x80, and any sequence of ASCII bytes
        // is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(b) })
    } else {
        std::str::from_utf8(b).map_err(|_| WireError::Utf8)
    }
}

/// Replaces `out` with a string field's text (the last occurrence wins).
#[inline]
pub(crate) fn string(r: &mut Reader<'_>, tag: u32, wire: u8, out: &mut String) -> Result<()> {
    // A fresh allocation of the exact size: cheaper than growing `out`,
    // which is empty but for a repeated field.
    *out = text(r, tag, wire)?.to_owned();
    Ok(())
}

/// Replaces `out` with a bytes field's content.
#[inline]
pub(crate) fn bytes(r: &mut Reader<'_>, tag: u32, wire: u8, out: &mut Vec<u8>) -> Result<()> {
    expect(tag, wire, LEN)?;
    *out = r.bytes()?.to_vec();
    Ok(())
}

/// A varint field (int32, uint32, int64, bool and enums truncate it).
#[inline]
pub(crate) fn varint(r: &mut Reader<'_>, tag: u32, wire: u8) -> Result<u64> {
    expect(tag, wire, VARINT)?;
    r.varint()
}

/// How many times field `tag` occurs in a message, counted before decoding
/// it so its `Vec` is allocated once. A malformed message stops the count;
/// the decode proper reports the error.
pub(crate) fn count(buf: &[u8], tag: u32) -> usize {
    let mut r = Reader::new(buf);
    let mut n = 0;
    while let Ok((t, wire)) = r.key() {
        n += usize::from(t == tag);
        // Not `skip`: groups (never sent by OTLP exporters) end the count
        // instead of being walked, which keeps this pass short.
        let skipped = match wire {
            VARINT => r.varint().map(drop),
            FIXED64 => r.take(8).map(drop),
            LEN => r.bytes().map(drop),
            FIXED32 => r.take(4).map(drop),
            _ => Err(WireError::EndGroup),
        };
        if skipped.is_err() {
            break;
        }
    }
    n
}
