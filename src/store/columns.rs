//! Closed sets of values kept in TEXT columns: written as their name, read back strictly (an
//! unknown name is an error, never a silent default).

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::fetch::schedule::FeedStatus;

/// Who added a feed: the config file, a Discord command, or a feed list import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedOrigin {
    Config,
    Discord,
    /// Stored as "opml", its name before other import formats.
    Import,
}

impl FeedOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedOrigin::Config => "config",
            FeedOrigin::Discord => "discord",
            FeedOrigin::Import => "opml",
        }
    }

    pub fn parse(s: &str) -> Option<FeedOrigin> {
        [FeedOrigin::Config, FeedOrigin::Discord, FeedOrigin::Import]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Where an item's article text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextSource {
    /// The linked page, extracted.
    Page,
    /// The feed's own content.
    Feed,
    /// Neither had any: the item is its title.
    Missing,
}

impl TextSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TextSource::Page => "page",
            TextSource::Feed => "feed",
            TextSource::Missing => "none",
        }
    }

    pub fn parse(s: &str) -> Option<TextSource> {
        [TextSource::Page, TextSource::Feed, TextSource::Missing]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A row id with its own type, so one kind of id cannot be passed for another; stored and
/// serialized as the number.
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    };
}

row_id!(
    /// A feed's row id.
    FeedId
);
row_id!(
    /// An item's row id.
    ItemId
);
row_id!(
    /// A story's row id.
    StoryId
);
row_id!(
    /// A digest's row id.
    DigestId
);

/// `ToSql` and `FromSql` for a type with `as_str` and `parse`.
macro_rules! text_column {
    ($ty:ty, $what:literal) => {
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                <$ty>::parse(text).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} {text:?}", $what).into())
                })
            }
        }
    };
}

text_column!(FeedOrigin, "feed origin");
text_column!(TextSource, "text source");
text_column!(FeedStatus, "feed status");

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// `value` written to a column and read back.
    fn round_trip<T: ToSql + FromSql>(value: T) -> rusqlite::Result<T> {
        let conn = Connection::open_in_memory()?;
        conn.execute("CREATE TABLE t (v)", [])?;
        conn.execute("INSERT INTO t (v) VALUES (?1)", [&value])?;
        conn.query_row("SELECT v FROM t", [], |r| r.get(0))
    }

    fn read<T: FromSql>(text: &str) -> rusqlite::Result<T> {
        let conn = Connection::open_in_memory()?;
        conn.query_row("SELECT ?1", [text], |r| r.get(0))
    }

    #[test]
    fn every_value_round_trips_under_its_stored_name() {
        for origin in [FeedOrigin::Config, FeedOrigin::Discord, FeedOrigin::Import] {
            assert_eq!(round_trip(origin).unwrap(), origin);
        }
        for source in [TextSource::Page, TextSource::Feed, TextSource::Missing] {
            assert_eq!(round_trip(source).unwrap(), source);
        }
        for status in [FeedStatus::Ok, FeedStatus::Failing, FeedStatus::Dead] {
            assert_eq!(round_trip(status).unwrap(), status);
        }
        assert_eq!(round_trip(FeedId(7)).unwrap(), FeedId(7));
        assert_eq!(round_trip(ItemId(i64::MAX)).unwrap(), ItemId(i64::MAX));
        assert_eq!(serde_json::to_string(&FeedId(7)).unwrap(), "7");
        // The names databases already hold.
        assert_eq!(read::<FeedOrigin>("opml").unwrap(), FeedOrigin::Import);
        assert_eq!(read::<TextSource>("none").unwrap(), TextSource::Missing);
        assert_eq!(read::<FeedStatus>("dead").unwrap(), FeedStatus::Dead);
    }

    #[test]
    fn an_unknown_stored_value_is_an_error() {
        let err = read::<FeedStatus>("sleeping").unwrap_err();
        assert!(
            err.to_string().contains("unknown feed status \"sleeping\""),
            "{err}"
        );
        assert!(read::<FeedOrigin>("batch").is_err());
        assert!(read::<TextSource>("Page").is_err());
        assert!(read::<FeedStatus>("").is_err());
    }
}
