//! Apple's timestamps: seconds (or, in newer databases, nanoseconds) since 2001-01-01 UTC.

/// Seconds from 1970-01-01 to 2001-01-01.
pub const APPLE_EPOCH: i64 = 978_307_200;

/// An Apple timestamp (seconds or nanoseconds since 2001) as seconds since 1970.
/// Values too large to be seconds (beyond the year 5000) are taken as nanoseconds.
/// Zero and absent values are None (databases use 0 for "never").
pub fn apple_to_unix(v: f64) -> Option<i64> {
    if !v.is_finite() || v == 0.0 {
        return None;
    }
    let secs = if v.abs() > 1e11 { v / 1e9 } else { v };
    let secs = secs.floor() as i64;
    secs.checked_add(APPLE_EPOCH)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of seconds since 1970.
pub fn format(unix: i64) -> String {
    sesame_backup::info::format_unix(unix)
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

/// An Apple timestamp as `YYYY-MM-DD HH:MM:SS` (UTC), or "".
pub fn apple(v: Option<f64>) -> String {
    v.and_then(apple_to_unix).map(format).unwrap_or_default()
}

/// A Unix timestamp (seconds since 1970) as `YYYY-MM-DD HH:MM:SS` (UTC), or "".
pub fn unix(v: Option<f64>) -> String {
    v.filter(|f| f.is_finite() && *f != 0.0)
        .map(|f| format(f.floor() as i64))
        .unwrap_or_default()
}

/// `YYYYMMDDTHHMMSSZ` for iCalendar.
pub fn ical(unix: i64) -> String {
    sesame_backup::info::format_unix(unix).replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_nanoseconds() {
        // 2019-08-29 23:13:30 UTC, from sms.db (nanoseconds) and as seconds.
        assert_eq!(
            apple_to_unix(588_813_210_539_788_032.0),
            Some(1_567_120_410)
        );
        assert_eq!(apple_to_unix(588_813_210.5), Some(1_567_120_410));
        assert_eq!(format(1_567_120_410), "2019-08-29 23:13:30");
        assert_eq!(apple(Some(0.0)), "");
        assert_eq!(apple(None), "");
        assert_eq!(apple(Some(f64::NAN)), "");
        assert_eq!(apple(Some(-1.0)), "2000-12-31 23:59:59");
        assert_eq!(ical(1_567_120_410), "20190829T231330Z");
    }
}
