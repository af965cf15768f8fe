#!/usr/bin/env python3
"""ADBench's splits for the FIXTURES of tests/benchdata_protocol.rs.

ADBench's unsupervised protocol (Han et al., 2022, `data_generator.py`):
`np.random.seed(seed)`; fewer than 1000 rows are resampled with replacement to
1000 (`np.random.choice(n, 1000, replace=True)`), more than 10000 subsampled to
10000 (`replace=False`); then `train_test_split(X, y, test_size=0.3,
shuffle=True, stratify=y)` with no random_state, drawing from the same global
state. Prints, per data set and seed, the row numbers of the original file
(after resampling) as the test's tuple: the first four train and test rows,
the sums of the train and test rows, and their counts.

Run by hand (the test holds the numbers), with the data beside the repository:
    .venv/bin/python tests/reference/make_adbench_splits.py ../shared/data
"""
import argparse
import os

import numpy as np
import sklearn
from sklearn.model_selection import train_test_split


def split(y, seed):
    np.random.seed(seed)
    n = len(y)
    rows = np.arange(n)
    if n < 1000:
        rows = np.random.choice(rows, 1000, replace=True)
    elif n > 10000:
        rows = np.random.choice(rows, 10000, replace=False)
    train, test = train_test_split(
        rows, test_size=0.3, shuffle=True, stratify=y[rows]
    )
    return train, test


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    args = ap.parse_args()
    print(f"// NumPy {np.__version__}, scikit-learn {sklearn.__version__}")
    for name in ["cardio", "wbc", "mammography"]:
        path = os.path.join(args.datadir, f"{name}.csv")
        with open(path) as f:
            header = f.readline().strip().split(",")
        label = [c.strip() for c in header].index("label")
        y = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[label]).astype(int)
        for seed in [1, 2, 3]:
            tr, te = split(y, seed)
            print(
                f'("{name}", {seed}, {tr[:4].tolist()}, {te[:4].tolist()}, '
                f"{int(tr.sum()):_}, {int(te.sum()):_}, {len(tr)}, {len(te)}),"
            )


if __name__ == "__main__":
    main()
