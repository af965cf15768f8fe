"""Imputation error of `mixtures impute` against column means and scikit-learn's IterativeImputer (issue 22, item 5).

usage: impute_rmse.py BIN [DATA_DIR]   (BIN: the `mixtures` binary, a release build; DATA_DIR default ../shared/data)

For each data set (SETS below; labels dropped, every row kept, anomalies too), the columns are standardized (mean 0,
standard deviation 1 over all rows; a constant column is only centred). Then, for each fraction p in 10 % and 30 %,
every cell is removed with probability p (numpy default_rng seeded by the set's position and p; a row left with no value
gets one random cell back, a column left with none gets one random row's value back), and the same cells are filled by
- `mixtures fit DATA --missing -k K --covariance full -o M` (EM on the observed data; one k-means start, seed 0,
  reg_covar 1e-6), then `mixtures impute M DATA -o FILLED` (the conditional mean), for K = 1 and K = 5, the same for
  every set, and `mixtures fit DATA --missing -o M` (no -k: the model chosen by BIC on the observed-data likelihood);
- the column means of the observed cells;
- scikit-learn's IterativeImputer(estimator=BayesianRidge(), random_state=0) (its defaults otherwise: max_iter 10).
Reported: the root mean square error over the removed cells, in standard deviations of each column, per set, and the mean
over the sets; a failed run is reported as such and left out of the mean.
"""
import os, subprocess, sys, tempfile, time, warnings

import numpy as np
import pandas as pd
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.linear_model import BayesianRidge

warnings.filterwarnings("ignore")

# The ODDS sets of the manifest but arrhythmia (274 features: IterativeImputer alone takes minutes there).
SETS = ["cardio", "thyroid", "breastw", "pima", "mammography", "satellite", "wbc", "ionosphere"]
FRACTIONS = [0.1, 0.3]
# "bic": no -k and no --covariance, the model chosen by BIC on the observed-data likelihood (fit's grid: k 1..8 x full,
# tied, diag, spherical), what `fit --missing` does by default.
KS = [1, 5, "bic"]


def remove(x, p, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random(x.shape) < p  # True: removed
    for i in np.where(mask.all(axis=1))[0]:
        mask[i, rng.integers(x.shape[1])] = False
    for j in np.where(mask.all(axis=0))[0]:
        mask[rng.integers(x.shape[0]), j] = False
    return mask


def write_csv(path, x, mask):
    with open(path, "w") as f:
        f.write(",".join(f"f{j}" for j in range(x.shape[1])) + "\n")
        for row, m in zip(x.tolist(), mask.tolist()):
            f.write(",".join("" if mi else repr(v) for v, mi in zip(row, m)) + "\n")


def mixtures(bin_, path, d, k, tmp):
    model, filled = os.path.join(tmp, f"m{k}.json"), os.path.join(tmp, f"filled{k}.csv")
    fit = [bin_, "fit", path, "--missing", "--seed", "0", "-o", model, "--quiet"]
    if k != "bic":
        fit += ["-k", str(k), "--covariance", "full"]
    for cmd in (fit, [bin_, "impute", model, path, "-o", filled, "--quiet"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return None, r.stderr.strip().splitlines()[-1][:90]
    out = pd.read_csv(filled)
    chosen = None
    if k == "bic":
        import json
        m = json.load(open(model))
        chosen = f"bic chose k={len(m['weights'])} {m['covariance_type']}"
    return out[[f"f{j}" for j in range(d)]].to_numpy(), chosen


def rmse(a, b, mask):
    return float(np.sqrt(np.mean((a[mask] - b[mask]) ** 2)))


def main():
    bin_ = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "../../../shared/data")
    cols = [f"mixtures k={k}" for k in KS] + ["column mean", "IterativeImputer"]
    print(f"RMSE on the removed cells (standardized columns); mixtures: GMM full, fit --missing, impute (conditional mean)")
    sums = {(p, c): [] for p in FRACTIONS for c in cols}
    for p in FRACTIONS:
        print(f"\n{100 * p:.0f} % of cells removed\n")
        print("| data set | n | d | " + " | ".join(cols) + " | best |")
        print("|---|---:|---:|" + "---:|" * len(cols) + "---|")
        for s, name in enumerate(SETS):
            path = os.path.join(data, f"{name}.csv")
            if not os.path.exists(path):
                print(f"| {name} | skipped: {path} is absent |")
                continue
            x = pd.read_csv(path).drop(columns=["label"]).to_numpy(float)
            sd = x.std(axis=0)
            x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
            mask = remove(x, p, 1000 * s + int(100 * p))
            holed = np.where(mask, np.nan, x)
            res, notes = {}, []
            with tempfile.TemporaryDirectory() as tmp:
                csv = os.path.join(tmp, "data.csv")
                write_csv(csv, x, mask)
                for k in KS:
                    t = time.time()
                    filled, err = mixtures(bin_, csv, x.shape[1], k, tmp)
                    if filled is None:
                        notes.append(f"k={k} failed: {err}")
                    else:
                        res[f"mixtures k={k}"] = rmse(filled, x, mask)
                        if err:
                            notes.append(f"{err} ({time.time() - t:.0f} s)")
            res["column mean"] = rmse(np.where(mask, np.nanmean(holed, axis=0), x), x, mask)
            res["IterativeImputer"] = rmse(
                IterativeImputer(estimator=BayesianRidge(), random_state=0).fit_transform(holed), x, mask)
            best = min(res, key=res.get)
            cells = " | ".join(f"{res[c]:.4f}" if c in res else "failed" for c in cols)
            print(f"| {name} | {x.shape[0]} | {x.shape[1]} | {cells} | {best} |" + (" " + "; ".join(notes) if notes else ""))
            for c in cols:
                if c in res:
                    sums[(p, c)].append(res[c])
        means = " | ".join(f"{np.mean(sums[(p, c)]):.4f} ({len(sums[(p, c)])})" for c in cols)
        print(f"| mean (sets) | | | {means} | |")


if __name__ == "__main__":
    main()
