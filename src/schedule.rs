//! Digest schedules: "daily 08:00 Europe/Berlin", "weekdays 07:30 America/New_York",
//! "mon,thu 09:00 UTC", "every 6h". Time-zone aware (DST included) through jiff.

use std::fmt;
use std::time::Duration;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every fixed span, aligned to the Unix epoch so restarts do not shift the slots.
    Every(Duration),
    /// At a wall-clock time on some weekdays, in a time zone.
    At {
        days: [bool; 7],
        time: Time,
        tz: TimeZone,
        source: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid schedule {input:?}: {reason}; expected e.g. \"daily 08:00 Europe/Berlin\", \"weekdays 07:30 America/New_York\", \"mon,thu 09:00 UTC\" or \"every 6h\""
)]
pub struct ScheduleError {
    pub input: String,
    pub reason: String,
}

impl Schedule {
    pub fn parse(input: &str) -> Result<Schedule, ScheduleError> {
        let err = |reason: &str| ScheduleError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let words: Vec<&str> = input.split_whitespace().collect();
        match words.as_slice() {
            ["every", span] => {
                let d = crate::duration::parse(span).map_err(|e| err(&e.to_string()))?;
                if d < Duration::from_secs(60) {
                    return Err(err("the interval must be at least 1m"));
                }
                Ok(Schedule::Every(d))
            }
            [days, time, rest @ ..] if rest.len() <= 1 => {
                let days = parse_days(days).ok_or_else(|| err("unknown days"))?;
                let time: Time = time
                    .parse()
                    .map_err(|_| err("the time must be HH:MM (24-hour)"))?;
                let tz = match rest.first() {
                    Some(name) => TimeZone::get(name).map_err(|_| err("unknown time zone"))?,
                    None => TimeZone::UTC,
                };
                Ok(Schedule::At {
                    days,
                    time,
                    tz,
                    source: input.trim().to_string(),
                })
            }
            _ => Err(err("unrecognized form")),
        }
    }

    /// The first slot strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Timestamp {
        match self {
            Schedule::Every(every) => {
                let step = every.as_secs().max(60) as i64;
                let secs = t.as_second();
                let next = (secs.div_euclid(step) + 1) * step;
                Timestamp::from_second(next).unwrap_or(Timestamp::MAX)
            }
            Schedule::At { days, time, tz, .. } => {
                let local = t.to_zoned_datetime(tz.clone());
                let mut date = local.date();
                // Eight days always reach an allowed weekday (at least one is set by parse).
                for _ in 0..8 {
                    let day_index = date.weekday().to_monday_zero_offset() as usize;
                    let slot = jiff::civil::DateTime::from_parts(date, *time)
                        .to_zoned_datetime(tz.clone())
                        .map(|z| z.timestamp());
                    if days.get(day_index).copied().unwrap_or(false)
                        && let Ok(slot) = slot
                        && slot > t
                    {
                        return slot;
                    }
                    match date.tomorrow() {
                        Ok(d) => date = d,
                        Err(_) => break,
                    }
                }
                t + SignedDuration::from_hours(24)
            }
        }
    }
}

fn parse_days(s: &str) -> Option<[bool; 7]> {
    let mut days = [false; 7];
    match s {
        "daily" | "everyday" => return Some([true; 7]),
        "weekdays" => return Some([true, true, true, true, true, false, false]),
        "weekends" => return Some([false, false, false, false, false, true, true]),
        _ => {}
    }
    for name in s.split(',') {
        let day = match name.to_ascii_lowercase().as_str() {
            "mon" | "monday" => Weekday::Monday,
            "tue" | "tuesday" => Weekday::Tuesday,
            "wed" | "wednesday" => Weekday::Wednesday,
            "thu" | "thursday" => Weekday::Thursday,
            "fri" | "friday" => Weekday::Friday,
            "sat" | "saturday" => Weekday::Saturday,
            "sun" | "sunday" => Weekday::Sunday,
            _ => return None,
        };
        days[day.to_monday_zero_offset() as usize] = true;
    }
    Some(days)
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "every {}", crate::duration::HumanDuration(*d)),
            Schedule::At { source, .. } => f.write_str(source),
        }
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Schedule::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn daily_in_berlin_across_dst() {
        let s = Schedule::parse("daily 08:00 Europe/Berlin").unwrap();
        // Winter: UTC+1.
        assert_eq!(
            s.next_after(ts("2026-01-10T06:00:00Z")),
            ts("2026-01-10T07:00:00Z")
        );
        assert_eq!(
            s.next_after(ts("2026-01-10T07:00:00Z")),
            ts("2026-01-11T07:00:00Z")
        );
        // Summer: UTC+2.
        assert_eq!(
            s.next_after(ts("2026-07-10T05:00:00Z")),
            ts("2026-07-10T06:00:00Z")
        );
    }

    #[test]
    fn weekdays_skip_the_weekend() {
        let s = Schedule::parse("weekdays 07:30 America/New_York").unwrap();
        // Friday 2026-11-27 after the slot → Monday 2026-11-30 07:30 EST (UTC-5).
        assert_eq!(
            s.next_after(ts("2026-11-27T13:00:00Z")),
            ts("2026-11-30T12:30:00Z")
        );
    }

    #[test]
    fn every_is_epoch_aligned() {
        let s = Schedule::parse("every 6h").unwrap();
        assert_eq!(
            s.next_after(ts("2026-11-27T13:00:00Z")),
            ts("2026-11-27T18:00:00Z")
        );
        assert_eq!(
            s.next_after(ts("2026-11-27T18:00:00Z")),
            ts("2026-11-28T00:00:00Z")
        );
    }

    #[test]
    fn rejects_nonsense() {
        assert!(Schedule::parse("daily 25:00 UTC").is_err());
        assert!(Schedule::parse("daily 08:00 Mars/Olympus").is_err());
        assert!(Schedule::parse("every 5s").is_err());
        assert!(Schedule::parse("sometimes").is_err());
        let days = Schedule::parse("mon,thu 09:00").unwrap();
        assert_eq!(
            days.next_after(ts("2026-11-27T00:00:00Z")),
            ts("2026-11-30T09:00:00Z")
        );
    }
}
