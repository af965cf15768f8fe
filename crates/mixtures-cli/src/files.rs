//! What a command checks about its files before any work: no output is one
//! of its inputs (compared by file identity, so another spelling, a hard link
//! or a symbolic link is caught too), and every output can be written where it
//! is asked for. A failure is a usage error (exit code 2) reported before the
//! data are read, not after a long fit.
//!
//! ```
//! use std::path::Path;
//! use mixtures_cli::files::check_files;
//!
//! let dir = std::env::temp_dir().join(format!("mixtures-files-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let data = dir.join("d.csv");
//! mixtures_core::io::write_bytes_atomic(&data, b"x\n1\n")?;
//! // Writing the model over the data is refused, however the path is spelled.
//! let same = dir.join(".").join("d.csv");
//! assert!(check_files(&[&data], &[&same], &[]).is_err());
//! assert!(check_files(&[&data], &[&dir.join("m.json")], &[]).is_ok());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use crate::error::CliError;
use crate::input::is_stdin;

/// Whether `a` and `b` are the same existing file (the same device and
/// inode on Unix; the same canonical path elsewhere).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

/// The directory a file `path` is written into.
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether a file can be created in `dir`: a probe file is created (never
/// over an existing one) and removed, which answers for permissions,
/// read-only mounts and full inode tables alike.
fn probe_dir(dir: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("the directory {} does not exist", dir.display()),
        _ => format!("cannot use the directory {}: {e}", dir.display()),
    })?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let probe = dir.join(format!(".mixtures-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create files in {}: {e}", dir.display())),
    }
}

/// Checks a command's files before it does any work: `outputs` (files) and
/// `dirs` (output directories, which may not exist yet) against `inputs`.
///
/// # Errors
/// [`CliError::Usage`] when more than one input is standard input (`-`), an
/// output is an input, an output is an existing
/// directory, or a directory is missing (for a file's directory), not a
/// directory, or not writable.
pub fn check_files(inputs: &[&Path], outputs: &[&Path], dirs: &[&Path]) -> Result<(), CliError> {
    if inputs.iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err(CliError::Usage(
            "only one input can come from standard input (-)".to_owned(),
        ));
    }
    let inputs: Vec<&Path> = inputs.iter().copied().filter(|p| !is_stdin(p)).collect();
    for dir in dirs {
        if let Some(input) = inputs.iter().find(|i| same_file(i, dir)) {
            return Err(CliError::Usage(format!(
                "the output directory {} is the input {}",
                dir.display(),
                input.display()
            )));
        }
        // A missing directory is made later (when there is something to
        // put in it); what must be writable now is its nearest ancestor.
        let existing = dir
            .ancestors()
            .find(|a| !a.as_os_str().is_empty() && a.exists())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        probe_dir(&existing)
            .map_err(|m| CliError::Usage(format!("cannot write into {}: {m}", dir.display())))?;
    }
    for out in outputs {
        if let Some(input) = inputs.iter().find(|i| same_file(i, out)) {
            return Err(CliError::Usage(format!(
                "the output {} is the input {}: writing it would destroy the input; \
                 choose another output path",
                out.display(),
                input.display()
            )));
        }
        if out.is_dir() {
            return Err(CliError::Usage(format!(
                "the output {} is a directory; give a file name",
                out.display()
            )));
        }
        probe_dir(&parent_of(out))
            .map_err(|m| CliError::Usage(format!("cannot write {}: {m}", out.display())))?;
    }
    Ok(())
}
