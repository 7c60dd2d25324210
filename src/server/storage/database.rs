//! Which database `--db` names, and opening it.

use std::fmt::{self, Debug, Display};

use super::{postgres, sqlite, Storage};

/// Which database `--db` names: a PostgreSQL URL, or else a SQLite file
/// (a path, or `sqlite://PATH`).
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// The SQLite file at this path.
    Sqlite(std::path::PathBuf),
    /// The PostgreSQL database at this URL.
    Postgres(String),
}

impl Database {
    /// Reads a `--db` value.
    pub fn parse(db: &str) -> Self {
        if postgres::is_url(db) {
            Database::Postgres(db.to_owned())
        } else {
            let path = db
                .strip_prefix("sqlite://")
                .or_else(|| db.strip_prefix("sqlite:"))
                .unwrap_or(db);
            Database::Sqlite(path.into())
        }
    }
}

/// Shown in logs and errors: a URL's password never is.
impl Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => match reqwest::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    write!(f, "{u}")
                }
                Err(_) => f.write_str("postgres://(unreadable URL)"),
            },
        }
    }
}

impl Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(self, f)
    }
}

/// Opens (creating and migrating it as needed) the database `db` names.
pub async fn open(db: &str) -> anyhow::Result<Storage> {
    match Database::parse(db) {
        Database::Sqlite(path) => sqlite::open(&path).await,
        Database::Postgres(url) => postgres::open(&url).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_values_name_their_backend() {
        assert_eq!(
            Database::parse("data/kefu.db"),
            Database::Sqlite("data/kefu.db".into())
        );
        assert_eq!(
            Database::parse("sqlite:///var/lib/kefu/kefu.db"),
            Database::Sqlite("/var/lib/kefu/kefu.db".into())
        );
        assert_eq!(
            Database::parse("postgresql://kefu@db/kefu"),
            Database::Postgres("postgresql://kefu@db/kefu".into())
        );
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        let shown = Database::parse("postgres://kefu:s3cret@db.internal:5432/kefu").to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("kefu:***@db.internal:5432/kefu"), "{shown}");
    }
}
