//! Formatting Unix nanoseconds as RFC 3339 with milliseconds
//! (`YYYY-MM-DDTHH:MM:SS.mmmZ`), the form of a chain record's times.
//!
//! The calendar is the `time` crate's; only the digits are written here,
//! which costs about a hundred instructions instead of the
//! format-description machinery's two thousand. A test checks the output
//! against the `time` crate's formatter.

use time::OffsetDateTime;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Formats Unix nanoseconds as RFC 3339 with milliseconds, UTC.
pub fn millis(unix_nano: u64) -> String {
    let secs = unix_nano / NANOS_PER_SEC;
    let ms = (unix_nano % NANOS_PER_SEC) / 1_000_000;
    let Some(t) = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    else {
        return String::new();
    };
    let (year, month, day) = t.to_calendar_date();
    let Ok(year) = u16::try_from(year) else {
        return String::new();
    };
    if year > 9999 {
        return String::new();
    }
    let (h, m, s) = t.to_hms();
    let mut b = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut b[0..4], u32::from(year));
    put_digits(&mut b[5..7], u32::from(u8::from(month)));
    put_digits(&mut b[8..10], u32::from(day));
    put_digits(&mut b[11..13], u32::from(h));
    put_digits(&mut b[14..16], u32::from(m));
    put_digits(&mut b[17..19], u32::from(s));
    put_digits(&mut b[20..23], u32::try_from(ms).unwrap_or(0));
    String::from_utf8(b.to_vec()).unwrap_or_default()
}

/// Writes `n`'s last `out.len()` decimal digits, zero-padded.
fn put_digits(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn reference_format(unix_nano: u64) -> String {
        let fmt = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_nano))
            .ok()
            .and_then(|t| t.format(&fmt).ok())
            .unwrap_or_default()
    }

    /// A fixed pseudo-random sequence (xorshift), so failures reproduce.
    fn values(n: usize) -> impl Iterator<Item = u64> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..n).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        })
    }

    #[test]
    fn formats_as_the_time_crate_does() {
        let edges = [
            0,
            1,
            999_999,
            1_000_000,
            999_999_999,
            1_000_000_000,
            1_795_458_664_308_000_000,
            1_795_458_664_308_999_999,
            951_782_400 * NANOS_PER_SEC, // 2000-02-29
            4_107_542_399 * NANOS_PER_SEC + 999_999_999,
            u64::MAX,
        ];
        for n in edges.into_iter().chain(values(50_000)) {
            assert_eq!(millis(n), reference_format(n), "{n}");
        }
        assert_eq!(
            millis(1_795_458_664_308_000_000),
            "2026-11-23T18:31:04.308Z"
        );
    }
}
