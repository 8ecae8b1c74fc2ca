//! Human durations in the config file: "90s", "15m", "1h30m", "3d", "2w", "2y"; "0" or "off" for
//! none.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration written the way operators write it. Deserializes from a string ("15m") or an
/// integer number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn secs(s: u64) -> Self {
        HumanDuration(Duration::from_secs(s))
    }
    pub fn get(self) -> Duration {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
    pub fn as_span(self) -> jiff::SignedDuration {
        jiff::SignedDuration::try_from(self.0).unwrap_or(jiff::SignedDuration::MAX)
    }
}

/// The longest duration accepted: a century. Longer ones mean nothing to a news desk, and
/// "now minus a duration" must stay a representable time.
pub const MAX_SECS: u64 = 100 * 365 * 86_400;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid duration {input:?}: expected a number and a unit (s, m, h, d, w, y), e.g. \"15m\", \"1h30m\", \"7d\", of at most 100 years"
)]
pub struct DurationError {
    pub input: String,
}

/// Parses "1h30m"-style durations. A bare "0" and "off" mean zero (the feature is disabled).
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        input: input.to_string(),
    };
    let s = input.trim();
    if s == "0" || s.eq_ignore_ascii_case("off") {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(err());
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(err());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| err())?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let mult = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            // A calendar-free year: retention periods are written in years.
            "y" | "year" | "years" => 365 * 86_400,
            _ => return Err(err()),
        };
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        rest = rest[unit_len..].trim_start();
    }
    if total > MAX_SECS {
        return Err(err());
    }
    Ok(Duration::from_secs(total))
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.0.as_secs();
        if s == 0 {
            return f.write_str("0");
        }
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if s >= size {
                write!(f, "{}{}", s / size, unit)?;
                s %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"15m\" or \"1h30m\", or a number of seconds")
            }
            fn visit_u64<E: serde::de::Error>(self, secs: u64) -> Result<HumanDuration, E> {
                if secs > MAX_SECS {
                    return Err(E::invalid_value(
                        serde::de::Unexpected::Unsigned(secs),
                        &self,
                    ));
                }
                Ok(HumanDuration::secs(secs))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<HumanDuration, E> {
                u64::try_from(n)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
                    .and_then(|secs| self.visit_u64(secs))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<HumanDuration, E> {
                parse(s).map(HumanDuration).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compound_and_rejects_garbage() {
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse("45 s").unwrap(), Duration::from_secs(45));
        assert_eq!(parse("off").unwrap(), Duration::ZERO);
        assert!(parse("5x").is_err());
        assert!(parse("m5").is_err());
        assert!(parse("").is_err());
        assert!(parse("99999999999999999999w").is_err());
        // Beyond a century: "now" minus it would leave the calendar.
        assert!(parse("1000000w").is_err());
        assert!(parse("5200w").is_ok());
        assert_eq!(parse("2y").unwrap(), Duration::from_secs(2 * 365 * 86_400));
        assert_eq!(parse("1 year").unwrap(), parse("365d").unwrap());
        assert!(parse("101y").is_err());
    }

    #[test]
    fn displays_round_trip() {
        let d = HumanDuration(parse("1d2h3m4s").unwrap());
        assert_eq!(d.to_string(), "1d2h3m4s");
        assert_eq!(parse(&d.to_string()).unwrap(), d.0);
    }

    #[test]
    fn deserializes_text_or_seconds_and_says_what_it_expected() {
        #[derive(Deserialize)]
        struct Wrapper {
            d: HumanDuration,
        }
        let d = |text: &str| toml::from_str::<Wrapper>(text).map(|w| w.d);
        assert_eq!(d("d = \"90s\"").unwrap(), HumanDuration::secs(90));
        assert_eq!(d("d = 90").unwrap(), HumanDuration::secs(90));
        for wrong in ["d = -1", "d = true"] {
            let message = d(wrong).unwrap_err().message().to_string();
            assert!(message.contains("expected a duration such as"), "{message}");
        }
    }
}
