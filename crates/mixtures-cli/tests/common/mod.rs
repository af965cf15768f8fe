//! What the CLI test files share: running the binary, temporary
//! directories, small data files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory for one test, removed when the test passes (kept when
/// it fails, to look at).
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh directory for one test.
pub fn temp_dir(name: &str) -> TempDir {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mixtures-cli-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixtures"))
        .args(args)
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?} failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Asserts exit code 2, a message containing every one of `needles`, and no
/// panic; returns stderr.
pub fn bad(args: &[&str], needles: &[&str]) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {n:?} not in {err:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    err
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Two clusters of normal points in (a, b) plus a few far points, with an
/// id column before and a label column between the features.
pub fn labelled_csv(dir: &Path) -> PathBuf {
    let mut text = String::from("id,a,label,b\n");
    for i in 0..120 {
        let t = i as f64 * 0.37;
        let (a, b) = if i % 2 == 0 {
            (t.sin(), 0.5 * t.cos())
        } else {
            (6.0 + 0.7 * t.cos(), 4.0 + 0.6 * t.sin())
        };
        text.push_str(&format!("r{i},{a},0,{b}\n"));
    }
    for (i, (a, b)) in [(15.0, -9.0), (-8.0, 12.0), (3.0, 20.0), (20.0, 20.0)]
        .iter()
        .enumerate()
    {
        text.push_str(&format!("x{i},{a},1,{b}\n"));
    }
    let p = dir.join("data.csv");
    std::fs::write(&p, text).unwrap();
    p
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts that `path` is a PNG image of `size` pixels.
pub fn assert_png(path: &Path, size: (u32, u32)) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    // The IHDR chunk follows the signature: width and height, big-endian.
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), size, "{}", path.display());
}

/// Rows of (a, b, c) in two clusters, with a `label` column last and no id.
pub fn label_last_csv(dir: &Path) -> PathBuf {
    let mut text = String::from("a,b,c,label\n");
    for i in 0..80 {
        let t = i as f64 * 0.41;
        let off = if i % 2 == 0 { 0.0 } else { 8.0 };
        text.push_str(&format!(
            "{},{},{},0\n",
            off + t.sin(),
            -off + t.cos(),
            0.5 * (2.0 * t).sin()
        ));
    }
    text.push_str("30,30,30,1\n");
    write(dir, "label_last.csv", &text)
}

/// Three well-separated clusters in (a, b, c), `per` rows each, with a label
/// column; the last rows are far out in `c` only (label 1).
pub fn clusters_csv(dir: &Path, per: usize, far: usize) -> PathBuf {
    let mut text = String::from("a,b,c,label\n");
    let centres = [(0.0, 0.0, 0.0), (8.0, 0.0, 4.0), (0.0, 9.0, -4.0)];
    for i in 0..3 * per {
        let (ca, cb, cc) = centres[i % 3];
        let t = i as f64 * 0.7;
        let (u, v, w) = (t.sin(), (1.3 * t).cos(), (0.9 * t + 1.0).sin());
        text.push_str(&format!("{},{},{},0\n", ca + u, cb + v, cc + 0.5 * w));
    }
    for i in 0..far {
        // Ordinary in a and b, 20 units off in c.
        let t = i as f64;
        text.push_str(&format!(
            "{},{},{},1\n",
            0.3 * t.sin(),
            0.3 * t.cos(),
            20.0 + t
        ));
    }
    let path = dir.join("clusters.csv");
    std::fs::write(&path, text).unwrap();
    path
}
