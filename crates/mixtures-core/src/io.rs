//! Writing user files so that a reader never sees half of one: the contents
//! go to a new temporary file in the same directory, are flushed to disk, and
//! the temporary file is renamed over the destination (atomic on POSIX file
//! systems). A write that fails part way (a full disk, a size limit, a kill)
//! leaves the old file as it was, and the temporary file is removed when the
//! failure is seen.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes a file through `write` (which receives a buffered writer; `Send`,
/// so that writers that require it, a Parquet writer say, can wrap it), then
/// moves it into place at `path` in one rename.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("mixtures-io-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("model.json");
/// mixtures_core::io::write_atomic(&path, |w| w.write_all(b"{}"))?;
/// assert_eq!(std::fs::read_to_string(&path)?, "{}");
/// // A failed write leaves the previous contents.
/// let err = mixtures_core::io::write_atomic(&path, |w| {
///     w.write_all(b"{\"half")?;
///     Err(std::io::Error::other("disk full"))
/// });
/// assert!(err.is_err());
/// assert_eq!(std::fs::read_to_string(&path)?, "{}");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The I/O error of creating, writing, syncing or renaming the temporary file
/// (or `write`'s own error); the destination is then untouched.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temporary_path(path)?;
    let result = (|| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: the temporary file may not exist if its creation failed.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`write_atomic`] of a byte string.
///
/// # Errors
/// As [`write_atomic`].
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// A name beside `path` that no other writer uses: the directory must be the
/// destination's for the rename to be atomic.
fn temporary_path(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp_name))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mixtures-io-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let d = dir("fail");
        let p = d.join("f.txt");
        write_bytes_atomic(&p, b"old").unwrap();
        let e = write_atomic(&p, |w| {
            w.write_all(&[b'x'; 100_000])?;
            Err(io::Error::other("full"))
        });
        assert!(e.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        let left: Vec<_> = std::fs::read_dir(&d).unwrap().collect();
        assert_eq!(left.len(), 1, "temporary files left: {left:?}");
        write_bytes_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_missing_directory_or_a_bare_root_is_an_error() {
        let d = dir("missing");
        assert!(write_bytes_atomic(&d.join("no/such/dir/f"), b"x").is_err());
        assert!(write_bytes_atomic(Path::new("/"), b"x").is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
