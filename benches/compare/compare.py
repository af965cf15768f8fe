#!/usr/bin/env python3
"""Side-by-side speed of mixtures and scikit-learn's GaussianMixture, in one run.

Both sides get identical data and identical initial parameters (weights, means,
covariances; scikit-learn gets the inverse covariances as precisions_init, so it
skips k-means), run exactly --iters EM iterations (tol = 0, reg_covar = 1e-6,
n_init = 1) with the same number of threads (threadpoolctl limits BLAS and
OpenMP for scikit-learn; a rayon pool of that size for mixtures), and are timed
the same way: the median of --repeats whole fits after a warm-up, divided by the
number of iterations (so both include their fixed per-fit costs), and the
median of --repeats score_samples / log_prob calls on all rows.

For each case it prints seconds per EM iteration and for scoring on both sides,
the ratios (mixtures / scikit-learn; below 1 means mixtures is faster), and the
largest relative difference between the fitted parameters. --json writes every
record as one JSON object per line as well.

It installs scikit-learn into .venv at the repository root when it is missing,
and builds the Rust side with cargo (release).

Examples
  benches/compare/compare.py                                   # the default cases
  benches/compare/compare.py --cases 100000x16x8 --cov full --threads 2
  benches/compare/compare.py --csv ../shared/data/cardio.csv --k 4
  benches/compare/compare.py --linfa                           # add linfa-clustering (full)

With --linfa, linfa-clustering 0.8's GaussianMixtureModel (the Rust alternative;
full covariance only, single-threaded, random init since it takes no initial
parameters) is timed on the same data as (fit of --iters iterations - fit of 1) /
(--iters - 1), so its initialization cancels. It is built from
benches/compare/linfa, a separate cargo project outside the workspace.

With --pomegranate, pomegranate 0.14.9's GeneralMixtureModel of
MultivariateGaussianDistribution (the fastest CPU alternative; full covariance
and f64 only) is timed on the same data file from the same initial parameters,
exactly --iters iterations (stop_threshold = -inf, max_iterations = --iters),
n_jobs = the thread count (row batches; BLAS pools at one thread), per iteration
as the median whole fit / --iters like the other sides ((fit(--iters) - fit(1)) /
(--iters - 1) goes to the JSON as well), in its own interpreter:
benches/compare/pomegranate_side.py under .venv-pomegranate, which is created
on first use (numpy<2, Cython<3, pomegranate==0.14.9 built from its sdist,
several minutes). Its columns show on full/f64 rows; "pg diff" is the largest
relative difference of its fitted parameters against scikit-learn's.

With --student-t, scikit-learn is not run: instead the time of a Student-t EM
iteration is set against a Gaussian one of the same structure, k and d (issue
16's "at most 1.3x"), by examples/compare_student_t.rs on the same data from the
same start (the Student-t's scale matrices are the Gaussian's initial
covariances, every degree of freedom at 30). Default cases 100000x16x8 and
20000x64x16. The two sides alternate within one process (repetition by
repetition, the order swapped each time) and the medians are compared, so a
shared machine's load falls on both alike.
  benches/compare/compare.py --student-t --repeats 7 --json t.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, ".venv")
POM_VENV = os.path.join(ROOT, ".venv-pomegranate")
POM_SIDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pomegranate_side.py")
DEFAULT_CASES = "100000x16x8,1000000x8x4,20000x64x16,10000x2x3"
STUDENT_T_CASES = "100000x16x8,20000x64x16"
COV_TYPES = ("full", "diag", "spherical", "tied")


def ensure_sklearn():
    """Re-runs this script under .venv's Python, creating it when needed."""
    try:
        import sklearn  # noqa: F401
        import threadpoolctl  # noqa: F401
        return
    except ImportError:
        pass
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.executable) == os.path.abspath(py):
        sys.exit("scikit-learn is not importable even in .venv")
    if not os.path.exists(py):
        print(f"creating {VENV} with scikit-learn ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run(
            [py, "-m", "pip", "install", "-q", "scikit-learn", "numpy", "threadpoolctl"],
            check=True,
        )
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def ensure_pomegranate():
    """The Python of .venv-pomegranate, created when missing. pomegranate 0.14.9
    (the last Cython/CPU release) builds only against numpy<2 with Cython<3, and
    scikit-learn 1.9 in .venv needs numpy 2, so it gets a venv of its own."""
    py = os.path.join(POM_VENV, "bin", "python")
    if os.path.exists(py) and subprocess.run(
            [py, "-c", "import pomegranate"], capture_output=True).returncode == 0:
        return py
    print(f"creating {POM_VENV}: numpy<2, Cython<3, pomegranate==0.14.9 from source "
          "(several minutes) ...", file=sys.stderr, flush=True)
    if not os.path.exists(py):
        base = getattr(sys, "_base_executable", None) or sys.executable
        subprocess.run([base, "-m", "venv", POM_VENV], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "numpy<2", "Cython<3", "scipy",
                    "setuptools<70", "wheel"], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-build-isolation",
                    "--no-binary", "pomegranate", "pomegranate==0.14.9"], check=True)
    return py


def run_pomegranate(py, data_path, x, init_path, iters, threads, repeats, workdir):
    import numpy as np

    out = os.path.join(workdir, f"fitted_pomegranate_{threads}.json")
    one = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    res = subprocess.run(
        [py, POM_SIDE, data_path, str(x.shape[0]), str(x.shape[1]), init_path,
         str(iters), str(threads), str(repeats), out],
        check=True, capture_output=True, text=True, env=dict(os.environ, **one),
    )
    rec = json.loads(res.stdout.strip().splitlines()[-1])
    with open(out) as f:
        m = json.load(f)
    rec["params"] = (np.array(m["weights"]), np.array(m["means"]), np.array(m["covariances"]))
    return rec


def make_mixture(n, d, k, seed):
    """A known mixture of k Gaussians in d dimensions, deterministic for the seed.

    Means ~ N(0, 2² I); covariances s (A Aᵀ + 0.2 I) with A_ij ~ N(0, 1/d),
    s ~ U(0.5, 1.5); weights ~ Dirichlet(5); rows shuffled. The same generator
    as ../shared/bench/sklearn_gmm.py, so the timings are comparable with it.
    """
    import numpy as np

    rng = np.random.default_rng([seed, n, d, k])
    weights = rng.dirichlet(np.full(k, 5.0))
    means = rng.normal(0.0, 2.0, size=(k, d))
    covs = np.empty((k, d, d))
    for j in range(k):
        a = rng.normal(0.0, 1.0 / math.sqrt(d), size=(d, d))
        covs[j] = rng.uniform(0.5, 1.5) * (a @ a.T + 0.2 * np.eye(d))
    counts = rng.multinomial(n, weights)
    parts = []
    for j in range(k):
        z = rng.standard_normal((counts[j], d))
        parts.append(means[j] + z @ np.linalg.cholesky(covs[j]).T)
    x = np.concatenate(parts)[rng.permutation(n)]
    return np.ascontiguousarray(x, dtype=np.float64), means


def load_csv(path):
    import numpy as np

    with open(path) as f:
        header = f.readline().strip().split(",")
    x = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    keep = [i for i, h in enumerate(header) if h.strip().lower() != "label"]
    return np.ascontiguousarray(x[:, keep], dtype=np.float64)


def make_init(x, k, cov, seed, true_means=None):
    """Initial parameters: means near the true ones (or k rows of x), uniform
    weights, covariances from the pooled data covariance. Returns the model-file
    document for mixtures and the precisions for scikit-learn, the one the
    inverse of the other."""
    import numpy as np

    rng = np.random.default_rng([seed, 12345])
    if true_means is not None:
        means = true_means + rng.normal(0.0, 0.5, size=true_means.shape)
    else:
        means = x[rng.choice(x.shape[0], size=k, replace=False)].copy()
    d = x.shape[1]
    s = np.cov(x, rowvar=False).reshape(d, d) + 1e-6 * np.eye(d)
    s = 0.5 * (s + s.T)
    if cov == "full":
        covariances = np.repeat(s[None], k, axis=0)
        precisions = np.repeat(np.linalg.inv(s)[None], k, axis=0)
    elif cov == "tied":
        covariances = s
        precisions = np.linalg.inv(s)
    elif cov == "diag":
        covariances = np.repeat(np.diag(s)[None], k, axis=0)
        precisions = 1.0 / covariances
    else:
        covariances = np.full(k, float(np.mean(np.diag(s))))
        precisions = 1.0 / covariances
    if precisions.ndim >= 2 and cov in ("full", "tied"):
        precisions = 0.5 * (precisions + np.swapaxes(precisions, -1, -2))
    weights = np.full(k, 1.0 / k)
    doc = {
        "format_version": 1,
        "family": "gaussian",
        "covariance_type": cov,
        "weights": weights.tolist(),
        "means": means.tolist(),
        "covariances": covariances.tolist(),
    }
    return doc, (weights, means, precisions)


def timed(fn, repeats):
    fn()  # warm-up: page faults, thread start-up
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def run_sklearn(x, k, cov, init, iters, threads, repeats):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_info, threadpool_limits

    weights, means, precisions = init

    def fit():
        return GaussianMixture(
            n_components=k,
            covariance_type=cov,
            tol=0.0,
            reg_covar=1e-6,
            max_iter=iters,
            n_init=1,
            weights_init=weights,
            means_init=means,
            precisions_init=precisions,
            random_state=0,
        ).fit(x)

    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pools = sorted({p["num_threads"] for p in threadpool_info()})
        fit_s, gm = timed(fit, repeats)
        score_s, _ = timed(lambda: gm.score_samples(x), repeats)
    return {
        "fit_s": fit_s,
        "iterations": int(gm.n_iter_),
        "s_per_iter": fit_s / int(gm.n_iter_),
        "score_s": score_s,
        "threads_seen": pools,
        "mean_loglik": float(gm.score(x)),
        "params": (gm.weights_, gm.means_, gm.covariances_),
    }


def run_mixtures(binary, data_path, x, init_path, iters, threads, precision, workdir):
    import numpy as np

    out = os.path.join(workdir, f"fitted_{precision}_{threads}.json")
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    res = subprocess.run(
        [binary, data_path, str(x.shape[0]), str(x.shape[1]), init_path,
         str(iters), str(threads), precision, out],
        check=True, capture_output=True, text=True, env=env,
    )
    rec = json.loads(res.stdout.strip().splitlines()[-1])
    with open(out) as f:
        m = json.load(f)
    rec["params"] = (
        np.array(m["weights"]),
        np.array(m["means"]),
        np.array(m["covariances"]),
    )
    return rec


def build_linfa():
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path",
         os.path.join(ROOT, "benches", "compare", "linfa", "Cargo.toml")],
        cwd=ROOT, check=True,
        env=dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target", "linfa")),
    )
    return os.path.join(ROOT, "target", "linfa", "release", "linfa-gmm-timing")


def run_linfa(binary, data_path, x, k, iters, precision, repeats):
    res = subprocess.run(
        [binary, data_path, str(x.shape[0]), str(x.shape[1]), str(k), str(iters),
         precision, str(repeats)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_student_t(binary, data_path, x, init_path, iters, threads, precision, repeats):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), COMPARE_REPEATS=str(repeats))
    res = subprocess.run(
        [binary, data_path, str(x.shape[0]), str(x.shape[1]), init_path,
         str(iters), str(threads), precision],
        check=True, capture_output=True, text=True, env=env,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def student_t_main(args, info):
    """--student-t: Student-t against Gaussian iterations, no scikit-learn."""
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--example", "compare_student_t"],
        cwd=ROOT, check=True,
    )
    binary = os.path.join(target_dir(), "release", "examples", "compare_student_t")
    print(f"# {info['cpu']}, {info['cores']} cores; {info['rustc']}")
    print(f"# {args.iters} EM iterations from identical initial parameters, tol = 0; "
          f"Gaussian and Student-t fits alternating, median of {args.repeats} each; "
          f"ratio = Student-t / Gaussian")
    header = (f"{'n':>8} {'d':>3} {'k':>3} {'cov':>9} {'thr':>3} {'prec':>4} | "
              f"{'gauss ms/it':>11} {'t ms/it':>9} {'ratio':>6} | "
              f"{'marginal: gauss':>15} {'t':>9} {'ratio':>6} | {'r>0: gauss':>10} {'t':>5} | "
              f"{'load':>4}")
    print(header)
    print("-" * len(header))
    records = [dict(kind="env", mode="student-t", **info)]
    cases = [tuple(int(v) for v in c.split("x")) for c in (args.cases or STUDENT_T_CASES).split(",")]
    with tempfile.TemporaryDirectory(prefix="mixtures-compare-t-") as work:
        for n, d, k in cases:
            x, true_means = make_mixture(n, d, k, args.seed)
            data_path = os.path.join(work, "x.bin")
            x.astype("<f8").tofile(data_path)
            for cov in args.cov.split(","):
                doc, _ = make_init(x, k, cov, args.seed, true_means)
                init_path = os.path.join(work, f"init_{cov}.json")
                with open(init_path, "w") as f:
                    json.dump(doc, f)
                for t in [int(v) for v in args.threads.split(",")]:
                    for prec in args.precision.split(","):
                        load = os.getloadavg()[0]
                        r = run_student_t(binary, data_path, x, init_path, args.iters, t,
                                          prec, args.repeats)
                        print(f"{n:>8} {d:>3} {k:>3} {cov:>9} {t:>3} {prec:>4} | "
                              f"{r['gaussian_s_per_iter'] * 1e3:>11.2f} "
                              f"{r['student_t_s_per_iter'] * 1e3:>9.2f} {r['ratio']:>6.3f} | "
                              f"{r['gaussian_s_per_iter_marginal'] * 1e3:>15.2f} "
                              f"{r['student_t_s_per_iter_marginal'] * 1e3:>9.2f} "
                              f"{r['ratio_marginal']:>6.3f} | "
                              f"{r['gaussian_resp_positive']:>10.3f} "
                              f"{r['student_t_resp_positive']:>5.3f} | {load:>4.1f}", flush=True)
                        r["rayon_threads"] = r.pop("threads")
                        records.append(dict(kind="student-t", n=n, d=d, k=k, cov=cov, threads=t,
                                            precision=prec, load_before=load, **r))
    if args.json:
        with open(args.json, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")


def max_rel_diff(a, b):
    """Largest |a - b| / max(|b|, scale) over all parameters, where scale is the
    largest magnitude of that parameter array (so near-zero entries of a
    covariance do not blow the relative error up)."""
    import numpy as np

    worst = 0.0
    for pa, pb in zip(a, b):
        pa, pb = np.asarray(pa, float), np.asarray(pb, float)
        scale = max(float(np.max(np.abs(pb))), 1e-300)
        worst = max(worst, float(np.max(np.abs(pa - pb) / np.maximum(np.abs(pb), scale))))
    return worst


def env_info():
    import numpy as np
    import sklearn

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "rustc": rustc,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=None,
                    help=f"NxDxK,... (synthetic data; default {DEFAULT_CASES}, "
                         f"with --student-t {STUDENT_T_CASES})")
    ap.add_argument("--csv", help="a CSV file instead (a 'label' column is dropped)")
    ap.add_argument("--k", type=int, default=4, help="components for --csv")
    ap.add_argument("--cov", default=",".join(COV_TYPES))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--precision", default="f64,f32")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write every record to this file (JSON lines)")
    ap.add_argument("--linfa", action="store_true",
                    help="also time linfa-clustering (full covariance cases)")
    ap.add_argument("--pomegranate", action="store_true",
                    help="also time pomegranate 0.14.9 (full covariance, f64; "
                         "builds .venv-pomegranate on first use)")
    ap.add_argument("--student-t", action="store_true",
                    help="Student-t against Gaussian iterations instead of scikit-learn")
    args = ap.parse_args()
    if args.student_t:
        return student_t_main(args, env_info())
    args.cases = args.cases or DEFAULT_CASES

    import numpy as np

    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--example", "compare_em"],
        cwd=ROOT, check=True,
    )
    binary = os.path.join(ROOT, "target", "release", "examples", "compare_em")
    linfa = build_linfa() if args.linfa else None
    pom_py = ensure_pomegranate() if args.pomegranate else None
    info = env_info()
    print(f"# {info['cpu']}, {info['cores']} cores; {info['rustc']}; "
          f"Python {info['python']}, numpy {info['numpy']}, scikit-learn {info['sklearn']}")
    print(f"# {args.iters} EM iterations from identical initial parameters, tol = 0; "
          f"median of {args.repeats} runs; ratio = mixtures / scikit-learn")
    header = (f"{'n':>8} {'d':>3} {'k':>3} {'cov':>9} {'thr':>3} {'prec':>4} | "
              f"{'sk iter ms':>10} {'mx iter ms':>10} {'ratio':>6} | "
              f"{'sk score ms':>11} {'mx score ms':>11} {'ratio':>6} | {'max rel diff':>12}"
              + (f" | {'linfa ms':>8}" if args.linfa else "")
              + (f" | {'pg iter ms':>10} {'pg score ms':>11} {'pg diff':>8}"
                 if pom_py else ""))
    print(header)
    print("-" * len(header))
    records = [dict(kind="env", **info)]

    if args.csv:
        cases = [(args.csv, None, None, args.k)]
    else:
        cases = [tuple([None] + [int(v) for v in c.split("x")]) for c in args.cases.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    precisions = args.precision.split(",")

    with tempfile.TemporaryDirectory(prefix="mixtures-compare-") as work:
        for csv, n, d, k in cases:
            if csv:
                x, true_means = load_csv(csv), None
                n, d = x.shape
            else:
                x, true_means = make_mixture(n, d, k, args.seed)
            data_path = os.path.join(work, "x.bin")
            x.astype("<f8").tofile(data_path)
            for cov in args.cov.split(","):
                doc, sk_init = make_init(x, k, cov, args.seed, true_means)
                init_path = os.path.join(work, f"init_{cov}.json")
                with open(init_path, "w") as f:
                    json.dump(doc, f)
                lf = {}
                if linfa and cov == "full":
                    for prec in precisions:
                        lf[prec] = run_linfa(linfa, data_path, x, k, args.iters, prec,
                                             args.repeats)
                for t in threads:
                    sk = run_sklearn(x, k, cov, sk_init, args.iters, t, args.repeats)
                    pg = pg_diff = None
                    if pom_py and cov == "full" and "f64" in precisions:
                        pg = run_pomegranate(pom_py, data_path, x, init_path, args.iters,
                                             t, args.repeats, work)
                        pg_diff = max_rel_diff(pg["params"], sk["params"])
                    for prec in precisions:
                        mx = run_mixtures(binary, data_path, x, init_path, args.iters, t, prec, work)
                        diff = max_rel_diff(mx["params"], sk["params"])
                        ri = mx["s_per_iter"] / sk["s_per_iter"]
                        rs = mx["log_prob_s"] / sk["score_s"]
                        print(f"{n:>8} {d:>3} {k:>3} {cov:>9} {t:>3} {prec:>4} | "
                              f"{sk['s_per_iter'] * 1e3:>10.2f} {mx['s_per_iter'] * 1e3:>10.2f} "
                              f"{ri:>6.3f} | {sk['score_s'] * 1e3:>11.2f} "
                              f"{mx['log_prob_s'] * 1e3:>11.2f} {rs:>6.3f} | {diff:>12.2e}"
                              + (f" | {lf[prec]['s_per_iter'] * 1e3:>8.2f}" if prec in lf else
                                 (f" | {'':>8}" if linfa else ""))
                              + (f" | {pg['s_per_iter'] * 1e3:>10.2f} "
                                 f"{pg['log_prob_s'] * 1e3:>11.2f} {pg_diff:>8.1e}"
                                 if pg and prec == "f64" else
                                 (f" | {'':>10} {'':>11} {'':>8}" if pom_py else "")),
                              flush=True)
                        records.append({
                            "kind": "case", "n": n, "d": d, "k": k, "cov": cov,
                            "threads": t, "precision": prec,
                            "sklearn_s_per_iter": sk["s_per_iter"],
                            "sklearn_score_s": sk["score_s"],
                            "sklearn_threads_seen": sk["threads_seen"],
                            "mixtures_s_per_iter": mx["s_per_iter"],
                            "mixtures_s_per_iter_marginal": mx["s_per_iter_marginal"],
                            "mixtures_log_prob_s": mx["log_prob_s"],
                            "mixtures_threads": mx["threads"],
                            "iter_ratio": ri, "score_ratio": rs,
                            "max_rel_param_diff": diff,
                            "sklearn_mean_loglik": sk["mean_loglik"],
                            "mixtures_mean_loglik": mx["mean_loglik"],
                            "linfa_s_per_iter_1_thread": lf[prec]["s_per_iter"] if prec in lf else None,
                        })
                        if pg and prec == "f64":
                            records[-1].update({
                                "pomegranate_s_per_iter": pg["s_per_iter"],
                                "pomegranate_s_per_iter_marginal": pg["s_per_iter_marginal"],
                                "pomegranate_log_prob_s": pg["log_prob_s"],
                                "pomegranate_iterations": pg["iterations"],
                                "pomegranate_n_jobs": pg["n_jobs"],
                                "pomegranate_batch_size": pg["batch_size"],
                                "pomegranate_mean_loglik": pg["mean_loglik"],
                                "pomegranate_max_rel_param_diff": pg_diff,
                                "pomegranate_version": pg["pomegranate"],
                            })
    if args.json:
        with open(args.json, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    ensure_sklearn()
    main()
