"""Side-by-side table of several runs of ../shared/eval/adbench_cli.py (ADBench's unsupervised protocol,
AUCROC x 100, mean of seeds 1, 2, 3), one column per run, plus the harness's scikit-learn GaussianMixture(1)
and IsolationForest columns (the same splits in every run).

usage: side_by_side.py NAME=OUTPUT.txt [NAME=OUTPUT.txt ...]
A set a run could not fit (the harness printed an error for it) is marked "refused" and left out of that
column's mean; the means are also given over the sets every run fitted."""
import re, sys

def ordered(path):
    out, in_odds = [], False
    for line in open(path):
        if line.startswith("MEAN adbench"):
            in_odds = True
        m = re.match(r"(\S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line.rstrip())
        if m and m.group(1) != "data":
            out.append(("odds/" if in_odds else "adbench/") + m.group(1))
    return out

runs = [a.split("=", 1) for a in sys.argv[1:]]
tables = {}
for name, path in runs:
    vals, failed = {}, set()
    in_odds = False
    for line in open(path):
        if line.startswith("MEAN adbench"):
            in_odds = True
        pre = "odds/" if in_odds else "adbench/"
        m = re.match(r"\s+(\S+) seed \d+: ", line)
        if m:
            failed.add(pre + m.group(1)); continue
        m = re.match(r"(\S+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line.rstrip())
        if m and m.group(1) != "data":
            vals[pre + m.group(1)] = (float(m.group(2)), float(m.group(3)), float(m.group(4)))
    tables[name] = (vals, failed)
sets = ordered(runs[0][1])
names = [n for n, _ in runs]
print("| data set | " + " | ".join(names) + " | sklearn GMM k=1 | IForest |")
print("|---|" + "---|" * (len(names) + 2))
for s in sets:
    cells = []
    for n in names:
        vals, failed = tables[n]
        cells.append("refused" if s in failed else f"{vals[s][0]:.2f}")
    ref = tables[names[0]][0][s]
    print(f"| {s} | " + " | ".join(cells) + f" | {ref[1]:.2f} | {ref[2]:.2f} |")
def mean(xs): return sum(xs) / len(xs) if xs else float("nan")
for label, keep in [("adbench (25)", lambda s: s.startswith("adbench/")), ("odds (9)", lambda s: s.startswith("odds/")),
                    ("all (34)", lambda s: True)]:
    chosen = [s for s in sets if keep(s)]
    common = [s for s in chosen if all(s not in tables[n][1] for n in names)]
    cells = []
    for n in names:
        vals, failed = tables[n]
        ok = [vals[s][0] for s in chosen if s not in failed]
        cells.append(f"{mean(ok):.2f}" + (f" ({len(ok)} sets)" if len(ok) < len(chosen) else ""))
    ref = tables[names[0]][0]
    print(f"| **mean, {label}** | " + " | ".join(cells) + f" | {mean([ref[s][1] for s in chosen]):.2f} | {mean([ref[s][2] for s in chosen]):.2f} |")
    if len(common) < len(chosen):
        cells = [f"{mean([tables[n][0][s][0] for s in common]):.2f}" for n in names]
        print(f"| mean over the {len(common)} sets every run fitted, {label} | " + " | ".join(cells)
              + f" | {mean([ref[s][1] for s in common]):.2f} | {mean([ref[s][2] for s in common]):.2f} |")
