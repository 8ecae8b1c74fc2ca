//! One writer per database: a process that polls, processes or posts holds an exclusive lock
//! on `<database>.lock` for as long as it runs. Two daemons on one database would both post
//! every story; two one-shot runs would race on migrations. The operating system drops the lock
//! when the process ends, however it ends (`kill -9` included), so a stale lock cannot block a
//! restart. Readers (`search`, `related`, `feeds list`) take no lock: WAL lets them read while
//! the writer works.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{Result, StoreError};

/// Held for the life of the process that writes to the database.
#[derive(Debug)]
pub struct WriterLock {
    // The lock lives as long as this open file.
    _file: File,
    path: PathBuf,
}

impl WriterLock {
    /// Takes the writer lock of the database at `database`, or says who holds it.
    pub fn acquire(database: &Path) -> Result<WriterLock> {
        if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let path = lock_path(database);
        let io_error = |source: std::io::Error| StoreError::LockFile {
            path: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(StoreError::InUse {
                    database: database.display().to_string(),
                    holder: describe_holder(&holder),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_error(source)),
        }
        // Who holds it, for the message a second writer prints.
        let holder = format!(
            "pid {}, `{}`, since {}",
            std::process::id(),
            command_line(),
            Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC")
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(holder.as_bytes()))
            .and_then(|()| file.flush())
            .map_err(io_error)?;
        Ok(WriterLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `desk.db` → `desk.db.lock`, beside the database's real file: two paths to one database
/// (a symbolic link, `..` steps) must meet at one lock.
pub fn lock_path(database: &Path) -> PathBuf {
    let real = std::fs::canonicalize(database).unwrap_or_else(|_| {
        // Not created yet: its directory is (Store::open and acquire create it).
        let dir = database.parent().filter(|d| !d.as_os_str().is_empty());
        match (
            dir.and_then(|d| std::fs::canonicalize(d).ok()),
            database.file_name(),
        ) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => database.to_path_buf(),
        }
    });
    let mut name = real.into_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// The program and its subcommand words (no option values: they may hold paths or secrets).
fn command_line() -> String {
    let mut words = std::env::args().take(8);
    let program = words
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "newsdesk".to_string());
    let mut out = program;
    let mut skip_value = false;
    for word in words {
        if skip_value {
            skip_value = false;
            continue;
        }
        if word.starts_with('-') {
            // "--config FILE" and "-c FILE" take a value; "--once" does not.
            skip_value =
                !word.contains('=') && matches!(word.as_str(), "--config" | "-c" | "--log");
            if !skip_value && !word.contains('=') {
                out.push(' ');
                out.push_str(&word);
            }
            continue;
        }
        out.push(' ');
        out.push_str(&word);
    }
    out
}

fn describe_holder(recorded: &str) -> String {
    let recorded = recorded.trim();
    if recorded.is_empty() {
        // Locked a moment ago, details not written yet.
        "another newsdesk process".to_string()
    } else {
        format!("another newsdesk process ({recorded})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_named_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("desk.db");
        let first = WriterLock::acquire(&db).expect("first writer");
        assert_eq!(first.path(), dir.path().join("desk.db.lock"));
        match WriterLock::acquire(&db) {
            Err(StoreError::InUse { holder, database }) => {
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                );
                assert!(database.ends_with("desk.db"), "{database}");
            }
            other => panic!("expected the database to be in use, got {other:?}"),
        }
        drop(first);
        WriterLock::acquire(&db).expect("free again once the first writer is gone");
    }

    #[cfg(unix)]
    #[test]
    fn two_paths_to_one_database_meet_at_one_lock() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("data");
        std::fs::create_dir_all(&real).expect("mkdir");
        std::os::unix::fs::symlink(&real, dir.path().join("alias")).expect("symlink");
        let _first = WriterLock::acquire(&real.join("desk.db")).expect("first writer");
        assert!(matches!(
            WriterLock::acquire(&dir.path().join("alias/desk.db")),
            Err(StoreError::InUse { .. })
        ));
    }
}
