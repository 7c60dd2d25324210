//! Readiness (`ping`) and `kefu backup`: a consistent copy of the live
//! database, taken from a reading connection while kefu serves.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};
use async_trait::async_trait;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{Sqlite, DEFAULT_BUSY_TIMEOUT};
use crate::server::storage::{StoreResult, Upkeep};

#[async_trait]
impl Upkeep for Sqlite {
    async fn ping(&self) -> StoreResult<()> {
        // Reads the schema's first page: the file, not only the connection.
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM (SELECT 1 FROM agents LIMIT 1)")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }
}

/// What [`backup`] wrote.
#[derive(Debug)]
pub struct Backup {
    /// The copy's size in bytes.
    pub bytes: u64,
    /// Messages in the copy.
    pub messages: i64,
}

/// Copies the database at `db` into the new file `dest`, consistently, while
/// other processes (a serving kefu) go on writing: one reading connection
/// runs `VACUUM INTO`, which writes the snapshot of a single read
/// transaction. SQLite-only (PostgreSQL has pg_dump); it is the one
/// non-portable statement of this backend, and it is not on any request's
/// path. Never overwrites: the copy is written beside `dest` under a
/// temporary name, synced, then linked to `dest`, which fails if `dest`
/// exists (even if it appeared meanwhile).
pub async fn backup(db: &Path, dest: &Path) -> anyhow::Result<Backup> {
    if !db.exists() {
        bail!("no database at {}", db.display());
    }
    if dest.exists() {
        bail!(
            "{} exists already: kefu backup never overwrites a file; choose a new name",
            dest.display()
        );
    }
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .context("the backup file needs a file name")?
        .to_string_lossy();
    let partial = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&partial);
    let written = vacuum_into(db, &partial).await;
    let linked = written.and_then(|()| {
        std::fs::File::open(&partial)?.sync_all()?;
        let exists = || {
            anyhow::anyhow!(
                "{} exists already: kefu backup never overwrites a file",
                dest.display()
            )
        };
        match std::fs::hard_link(&partial, dest) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists()),
            // A file system without hard links: checked, then renamed.
            Err(_) if dest.exists() => Err(exists()),
            Err(_) => std::fs::rename(&partial, dest)
                .with_context(|| format!("naming the copy {}", dest.display())),
        }
    });
    let _ = std::fs::remove_file(&partial);
    linked?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    let bytes = std::fs::metadata(dest)?.len();
    let messages = count_messages(dest).await?;
    Ok(Backup { bytes, messages })
}

/// `VACUUM INTO` from a connection that only reads (no migrations: the
/// copy has exactly the serving database's schema).
async fn vacuum_into(db: &Path, out: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::from_str("sqlite:")?
        .filename(db)
        .busy_timeout(DEFAULT_BUSY_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    let out_str = out.to_str().context("the backup path is not UTF-8")?;
    sqlx::query("VACUUM INTO ?")
        .bind(out_str)
        .execute(&mut conn)
        .await
        .context("copying the database (VACUUM INTO)")?;
    conn.close().await?;
    Ok(())
}

/// Messages in the copy, read back as a first check that it opens.
async fn count_messages(file: &Path) -> anyhow::Result<i64> {
    let mut conn = SqliteConnectOptions::from_str("sqlite:")?
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("opening the copy {}", file.display()))?;
    let n = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&mut conn)
        .await
        .context("reading the copy")?;
    conn.close().await?;
    Ok(n)
}
