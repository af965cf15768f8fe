"""F1 of each part of the default detector (and of each pair's average) on KDDCUP99 in DAGMM's protocol, for one seed:
the same split, threshold and F1 as ../shared/eval/kdd_dagmm_cli.py, each part's model taken out of the detector file
and scored by `mixtures score`. Works in the current folder (writes the split as CSV there).

usage: kdd_parts.py BIN SEED [detect flags...]   env ODDS_DIR = folder with kddcup99_dagmm.csv.gz (../shared/data)"""
import gzip, itertools, json, os, subprocess, sys
import numpy as np
from sklearn.metrics import precision_recall_fscore_support
B = sys.argv[1]; seed = int(sys.argv[2]); extra = sys.argv[3:]
if not os.path.exists("kdd_X.npy"):
    A = np.loadtxt(gzip.open(os.path.join(os.environ.get("ODDS_DIR", "../shared/data"), "kddcup99_dagmm.csv.gz"), "rt"), delimiter=",", skiprows=1)
    np.save("kdd_X.npy", A[:, :-1]); np.save("kdd_y.npy", A[:, -1].astype(int))
X, y = np.load("kdd_X.npy"), np.load("kdd_y.npy")
rng = np.random.RandomState(seed); ia = np.where(y == 0)[0]; rng.shuffle(ia); tr = ia[: len(ia) // 2]
te = np.concatenate([ia[len(ia) // 2:], np.where(y == 1)[0]])
hdr = ",".join(f"f{j}" for j in range(X.shape[1]))
if not os.path.exists(f"tr{seed}.csv"):
    np.savetxt(f"tr{seed}.csv", X[tr], delimiter=",", header=hdr, comments="", fmt="%.17g")
    np.savetxt(f"all{seed}.csv", X[np.concatenate([tr, te])], delimiter=",", header=hdr, comments="", fmt="%.17g")
subprocess.run([B, "detect", f"tr{seed}.csv", "-o", "e.json", "--seed", str(seed), "--quiet", *extra], check=True, capture_output=True)
e = json.load(open("e.json"))
def score(path):
    subprocess.run([B, "score", path, f"all{seed}.csv", "-o", "s.csv"], check=True, capture_output=True)
    with open("s.csv") as f:
        c = f.readline().strip().split(",").index("anomaly_score")
        return np.array([float(l.split(",")[c]) for l in f])
def f1(sc):
    th = np.percentile(sc, 80); ste = sc[len(tr):]
    return precision_recall_fscore_support(y[te], (ste > th).astype(int), average="binary")[2]
main = {k: v for k, v in e.items() if k not in ("ensemble", "threshold")}
parts = {}
for j, p in enumerate(e["ensemble"]["parts"]):
    m = p.get("model") or main
    json.dump(m, open("p.json", "w"))
    s = score("p.json"); parts[p["name"]] = (s - p["centre"]) / p["spread"]
    print(p["name"], "F1 %.4f" % f1(s), "IQR", p["spread"])
print("ensemble F1 %.4f" % f1(score("e.json")))
names = list(parts)
for a, b in itertools.combinations(names, 2):
    print(a, b, "F1 %.4f" % f1((parts[a] + parts[b]) / 2))
