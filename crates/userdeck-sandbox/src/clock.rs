//! Wall-clock reads and the three timestamp formats the CRMs use.
//!
//! Capsule writes `2015-12-11T14:01:15Z`, Laravel `2024-05-01T10:20:30.000000Z` and Zurmo
//! `2016-02-01 10:00:00` (all UTC); one civil-date conversion serves all three.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// (year, month, day, hour, minute, second) in UTC for epoch seconds.
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days-to-civil after Howard Hinnant's public-domain date algorithms.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month as u32,
        day as u32,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Capsule's ISO-8601 UTC form.
pub fn iso_z(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Laravel's serialised Carbon form with microseconds.
pub fn laravel(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000000Z")
}

/// Zurmo's MySQL DATETIME form.
pub fn zurmo(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso_z(1_449_842_475), "2015-12-11T14:01:15Z");
        assert_eq!(laravel(1_714_558_830), "2024-05-01T10:20:30.000000Z");
        assert_eq!(zurmo(0), "1970-01-01 00:00:00");
        assert_eq!(zurmo(951_782_400), "2000-02-29 00:00:00");
    }
}
