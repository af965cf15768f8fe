//! What the test files of the `mixtures` binary share: a fresh directory,
//! running the binary, and the checks of exit codes and messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mixtures-cli2-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixtures"))
        .args(args)
        .output()
        .unwrap()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
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
    err
}

/// A path as `&str`.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Parses JSON output.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
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
