"""Test-set scores of several detector configurations on ADBench's protocol, cached per (data set, seed), so that
rules built from them (a choice among models, a rank average of several) can be judged by leave-one-data-set-out
without refitting.

The splits are those of ../shared/eval/adbench_cli.py (resample to 1000 rows if smaller, subsample to 10000 if
larger, stratified 70/30 split, min-max scaling fitted on the training part; seeds 1, 2, 3). With --semi, the
detector is fitted on the normal training rows only (ADBench's semi-supervised setting); the test part is the same.

usage: score_cache.py BIN CACHE_DIR DATA_DIR [DATA_DIR ...] [--semi] [--only NAME,...] [--configs NAME,...]
Writes CACHE_DIR/<set>_<seed>.npz with y (test labels) and, per configuration, the test scores and the training
scores ("train_" + name; higher is more anomalous; NaN where the CLI refused), plus IForest and scikit-learn's
GaussianMixture(1) test scores on the same split.
Existing entries are kept; a configuration already in a file is not recomputed."""
import gzip, os, random, subprocess, sys, tempfile, time, warnings
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
warnings.filterwarnings("ignore")

# name -> (command, flags)
CONFIGS = {
    "gauss": ("fit", ["--components", "1", "--covariance", "full"]),
    "diag": ("fit", ["--components", "1", "--covariance", "diag"]),
    "t": ("fit", ["--family", "student-t", "--components", "1", "--covariance", "full"]),
    "gtrim": ("fit", ["--components", "1", "--covariance", "full", "--trim", "0.1"]),
    "tdiag": ("fit", ["--family", "student-t", "--components", "1", "--covariance", "diag"]),
    "t2": ("fit", ["--family", "student-t", "--components", "2", "--covariance", "full"]),
    "mcd": ("detect", ["--method", "mcd"]),
    "mcd50": ("detect", ["--method", "mcd", "--mcd-trials", "50"]),
    "auto": ("detect", []),
}

def load(p):
    a = np.loadtxt(gzip.open(p, "rt") if p.endswith(".gz") else p, delimiter=",", skiprows=1, ndmin=2)
    return a[:, :-1], a[:, -1].astype(int)

def split(X, y, seed):
    np.random.seed(seed); random.seed(seed)
    if len(y) < 1000:
        i = np.random.choice(np.arange(len(y)), 1000, replace=True); X, y = X[i], y[i]
    if len(y) > 10000:
        i = np.random.choice(np.arange(len(y)), 10000, replace=False); X, y = X[i], y[i]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, shuffle=True, stratify=y)
    sc = MinMaxScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte

def write(path, X):
    with open(path, "w") as f:
        f.write(",".join(f"f{j}" for j in range(X.shape[1])) + "\n")
        for r in X.tolist():
            f.write(",".join(map(repr, r)) + "\n")

def scores(bin_, cmd, flags, tr, te, d, seed):
    m, s = os.path.join(d, "m.json"), os.path.join(d, "s.csv")
    r = subprocess.run([bin_, cmd, tr, "-o", m, "--seed", str(seed), "--quiet", *flags],
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        return None, r.stderr.strip()[-160:]
    out = []
    for data in (te, tr):
        r = subprocess.run([bin_, "score", m, data, "-o", s], capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            return None, r.stderr.strip()[-160:]
        with open(s) as f:
            c = f.readline().strip().split(",").index("anomaly_score")
            out.append(np.array([float(l.split(",")[c]) for l in f if l.strip()]))
    return out, None

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    semi = "--semi" in sys.argv
    opt = lambda k: next((sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == k), None)
    only = set(opt("--only").split(",")) if opt("--only") else None
    configs = opt("--configs").split(",") if opt("--configs") else list(CONFIGS)
    args = [a for a in args if a not in (opt("--only"), opt("--configs"))]
    bin_, cache, dirs = args[0], args[1], args[2:]
    os.makedirs(cache, exist_ok=True)
    for dd in dirs:
        for p in sorted(os.listdir(dd)):
            if not (p.endswith(".csv.gz") or p.endswith(".csv")):
                continue
            name = p.split(".csv")[0]
            if only and name not in only:
                continue
            X, y = load(os.path.join(dd, p))
            for seed in (1, 2, 3):
                out = os.path.join(cache, f"{name}_{seed}.npz")
                have = dict(np.load(out)) if os.path.exists(out) else {}
                Xtr, Xte, ytr, yte = split(X, y, seed)
                if semi:
                    Xtr = Xtr[ytr == 0]
                have["y"] = yte
                with tempfile.TemporaryDirectory() as d:
                    tr, te = os.path.join(d, "tr.csv"), os.path.join(d, "te.csv")
                    write(tr, Xtr); write(te, Xte)
                    for c in configs:
                        if c in have:
                            continue
                        t = time.time()
                        sc, err = scores(bin_, CONFIGS[c][0], CONFIGS[c][1], tr, te, d, seed)
                        have[c] = sc[0] if sc is not None else np.full(len(yte), np.nan)
                        have["train_" + c] = sc[1] if sc is not None else np.full(len(Xtr), np.nan)
                        have["secs_" + c] = np.array(time.time() - t)
                        if err:
                            print(f"  {name} seed {seed} {c}: {err}", flush=True)
                if "iforest" not in have:
                    have["iforest"] = -IsolationForest(random_state=seed).fit(Xtr).score_samples(Xte)
                if "sk_gauss" not in have:
                    try:
                        g = GaussianMixture(1, covariance_type="full", random_state=seed, reg_covar=1e-6).fit(Xtr)
                        have["sk_gauss"] = -g.score_samples(Xte)
                    except Exception:
                        have["sk_gauss"] = np.full(len(yte), np.nan)
                np.savez_compressed(out, **have)
            print(f"{name} done", flush=True)

main()
