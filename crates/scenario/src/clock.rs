//! Time on the simulated site: the daily traffic shape, the site's local time of day, and the
//! timestamp spellings of the tools whose log lines are simulated (nginx, klog, Python logging,
//! Postgres, ISO 8601).

use std::fmt::Write as _;

use faultline_model::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_SECOND, Timestamp};

pub(crate) const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;

/// Relative traffic at each local hour (0–23): night low, morning ramp, busy afternoon.
const HOURLY_TRAFFIC: [f64; 24] = [
    0.30, 0.22, 0.16, 0.13, 0.12, 0.13, 0.18, 0.30, 0.50, 0.72, 0.86, 0.93, //
    0.95, 0.98, 1.00, 1.00, 0.97, 0.92, 0.86, 0.80, 0.74, 0.64, 0.52, 0.40,
];

/// Converts instants to the site's local time of day.
///
/// The site's crons, office hours and traffic follow a local clock; `offset` maps UTC onto it.
/// Scenarios choose the offset so that `now` lands where they need it (the morning ramp, the
/// 02:00 cron), which keeps `GenOptions::now` free.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalClock {
    offset_micros: i64,
}

impl LocalClock {
    /// The clock under which `now` reads `local_hour` (fractional hours, 0–24).
    pub(crate) fn with_now_at(now: Timestamp, local_hour: f64) -> LocalClock {
        let wanted = (local_hour * MICROS_PER_HOUR as f64) as i64;
        let actual = now.as_micros().rem_euclid(MICROS_PER_DAY);
        LocalClock {
            offset_micros: wanted - actual,
        }
    }

    /// Fractional local hour of `ts`, in `[0, 24)`.
    pub(crate) fn hour(&self, ts: Timestamp) -> f64 {
        let local = (ts.as_micros() + self.offset_micros).rem_euclid(MICROS_PER_DAY);
        local as f64 / MICROS_PER_HOUR as f64
    }

    /// The UTC instants in `[from, to)` at which the local clock reads `local_hour`.
    pub(crate) fn daily(&self, from: Timestamp, to: Timestamp, local_hour: f64) -> Vec<Timestamp> {
        let target = (local_hour * MICROS_PER_HOUR as f64) as i64;
        let local_from = from.as_micros() + self.offset_micros;
        let day_start = local_from - local_from.rem_euclid(MICROS_PER_DAY);
        let mut out = Vec::new();
        let mut local = day_start + target;
        while local - self.offset_micros < to.as_micros() {
            let utc = local - self.offset_micros;
            if utc >= from.as_micros() {
                out.push(Timestamp::from_micros(utc));
            }
            local += MICROS_PER_DAY;
        }
        out
    }

    /// Relative traffic (about 0.12–1.0) at `ts`, linearly interpolated between hours.
    pub(crate) fn traffic(&self, ts: Timestamp) -> f64 {
        let hour = self.hour(ts);
        let index = hour.floor() as usize % 24;
        let next = (index + 1) % 24;
        let fraction = hour - hour.floor();
        HOURLY_TRAFFIC[index] * (1.0 - fraction) + HOURLY_TRAFFIC[next] * fraction
    }

    /// Whether `ts` falls in office hours, when staff chat and deploy.
    pub(crate) fn office_hours(&self, ts: Timestamp) -> bool {
        (8.5..19.0).contains(&self.hour(ts))
    }
}

/// A broken-down UTC instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Civil {
    pub(crate) fn of(ts: Timestamp) -> Civil {
        let micros = ts.as_micros();
        let days = micros.div_euclid(MICROS_PER_DAY);
        let of_day = micros.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let seconds = of_day / MICROS_PER_SECOND;
        Civil {
            year,
            month,
            day,
            hour: (seconds / 3600) as u32,
            minute: (seconds / 60 % 60) as u32,
            second: (seconds % 60) as u32,
            micros: (of_day % MICROS_PER_SECOND) as u32,
        }
    }

    fn month_name(&self) -> &'static str {
        MONTHS[(self.month as usize + 11) % 12]
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian, UTC).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `24/Nov/2026:14:02:10 +0000` (nginx `$time_local`, Apache combined log).
pub(crate) fn nginx_access_time(out: &mut String, ts: Timestamp) {
    let c = Civil::of(ts);
    let _ = write!(
        out,
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute,
        c.second
    );
}

/// `2026/11/24 14:02:10` (nginx error log).
pub(crate) fn nginx_error_time(out: &mut String, ts: Timestamp) {
    let c = Civil::of(ts);
    let _ = write!(
        out,
        "{}/{:02}/{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
}

/// `2026-11-24 14:02:10,123` (Python logging's default `asctime`).
pub(crate) fn python_time(out: &mut String, ts: Timestamp) {
    let c = Civil::of(ts);
    let _ = write!(
        out,
        "{}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.micros / 1000
    );
}

/// `2026-11-24 14:02:10 UTC` (Postgres `%t`).
pub(crate) fn postgres_time(out: &mut String, ts: Timestamp) {
    let c = Civil::of(ts);
    let _ = write!(
        out,
        "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
}

/// `I1124 14:02:10.123456` (Kubernetes klog header, without the level letter).
pub(crate) fn klog_time(out: &mut String, ts: Timestamp) {
    let c = Civil::of(ts);
    let _ = write!(
        out,
        "{:02}{:02} {:02}:{:02}:{:02}.{:06}",
        c.month, c.day, c.hour, c.minute, c.second, c.micros
    );
}

/// `2026-11-24T14:02:10.123456Z`.
pub(crate) fn iso_time(out: &mut String, ts: Timestamp) {
    let c = Civil::of(ts);
    let _ = write!(
        out,
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros
    );
}

/// `2026-11-24T14:02:10Z` (whole seconds).
pub(crate) fn iso_seconds(ts: Timestamp) -> String {
    let c = Civil::of(ts);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `24/11/2026 14:03:12` (Pingdom's alert format).
pub(crate) fn pingdom_time(ts: Timestamp) -> String {
    let c = Civil::of(ts);
    format!(
        "{:02}/{:02}/{} {:02}:{:02}:{:02}",
        c.day, c.month, c.year, c.hour, c.minute, c.second
    )
}

/// Seconds as `secs.micros`, the way Slack spells message timestamps.
pub(crate) fn slack_ts(ts: Timestamp) -> String {
    let micros = ts.as_micros();
    format!(
        "{}.{:06}",
        micros.div_euclid(MICROS_PER_SECOND),
        micros.rem_euclid(MICROS_PER_SECOND)
    )
}

/// Appends `millis` as seconds with three decimals (`0.131`), as nginx prints request times.
pub(crate) fn push_secs3(out: &mut String, millis: f64) {
    let millis = millis.round().max(0.0) as i64;
    let _ = write!(out, "{}.{:03}", millis / 1000, millis % 1000);
}

/// Adds whole or fractional seconds.
pub(crate) fn plus_secs(ts: Timestamp, seconds: f64) -> Timestamp {
    ts.plus_micros((seconds * MICROS_PER_SECOND as f64) as i64)
}

/// Adds fractional minutes.
pub(crate) fn plus_mins(ts: Timestamp, minutes: f64) -> Timestamp {
    ts.plus_micros((minutes * MICROS_PER_MINUTE as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instant() {
        let ts = Timestamp::parse_rfc3339("2026-11-24T14:02:10.123456Z").unwrap();
        let mut out = String::new();
        nginx_access_time(&mut out, ts);
        assert_eq!(out, "24/Nov/2026:14:02:10 +0000");
        out.clear();
        iso_time(&mut out, ts);
        assert_eq!(out, "2026-11-24T14:02:10.123456Z");
        out.clear();
        python_time(&mut out, ts);
        assert_eq!(out, "2026-11-24 14:02:10,123");
        out.clear();
        klog_time(&mut out, ts);
        assert_eq!(out, "1124 14:02:10.123456");
    }

    #[test]
    fn civil_matches_chrono_over_many_days() {
        for day in (-1000..40_000).step_by(37) {
            let ts = Timestamp::from_micros(day * MICROS_PER_DAY + 12_345);
            let mut out = String::new();
            iso_time(&mut out, ts);
            assert_eq!(
                out,
                ts.to_datetime()
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string()
            );
        }
    }

    #[test]
    fn local_clock_puts_now_at_requested_hour() {
        let now = Timestamp::parse_rfc3339("2026-11-24T14:30:00Z").unwrap();
        let clock = LocalClock::with_now_at(now, 2.25);
        assert!((clock.hour(now) - 2.25).abs() < 1e-6);
        let start = now.plus_micros(-MICROS_PER_DAY - MICROS_PER_HOUR);
        let nights = clock.daily(start, now, 2.0);
        assert_eq!(nights.len(), 2);
        assert!((clock.hour(nights[0]) - 2.0).abs() < 1e-6);
    }
}
