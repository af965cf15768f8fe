"""Leave-one-data-set-out choice of a detection rule from cached scores (score_cache.py).

Candidate rules: each cached configuration alone, and the average of several configurations' scores after putting
each on a common scale learned from its own training scores only:
  cdf: the fraction of training scores below the score (the empirical distribution function; what the library's
       score reference gives), so every model contributes a tail probability in [0, 1];
  z:   (score - median) / IQR of the training scores.
A configuration the CLI refused on a split is left out of that split's average (a single refused configuration
scores 0.5, as in the harness).

For each held-out set: the rule with the best mean AUCROC over the other sets is chosen and scored on the held-out
set. Printed: the leave-one-out mean (the estimate), the in-sample best rule and its mean (the gap between the two
shows how much the choice itself was tuned), and the per-set table of the rule chosen on all sets.

With --joint OTHER_CACHE (the same sets in the other setting, e.g. the semi-supervised cache), a rule is chosen by
the sum of its mean AUCROC in both settings (one rule for both); the leave-one-out estimate is printed for each.

usage: lodo.py CACHE_DIR [--configs a,b,c] [--max-size N] [--table RULE] [--joint OTHER_CACHE_DIR]"""
import glob, itertools, os, sys
import numpy as np
from sklearn.metrics import roc_auc_score

def load(cache):
    sets = {}
    for p in sorted(glob.glob(os.path.join(cache, "*.npz"))):
        name, seed = os.path.basename(p)[:-4].rsplit("_", 1)
        sets.setdefault(name, {})[int(seed)] = dict(np.load(p))
    return sets

def scaled(d, c, how):
    te, tr = d[c], d.get("train_" + c)
    if np.any(~np.isfinite(te)) or tr is None or np.any(~np.isfinite(tr)):
        return None
    if how == "cdf":
        s = np.sort(tr)
        return np.searchsorted(s, te, side="right") / len(s)
    med = np.median(tr); q1, q3 = np.percentile(tr, [25, 75])
    return (te - med) / max(q3 - q1, 1e-12)

def auc(d, rule):
    parts, how = rule
    if len(parts) == 1 and how == "raw":
        s = d[parts[0]]
        if np.any(~np.isfinite(s)):
            return 0.5, True
        return roc_auc_score(d["y"], s), False
    got = [x for x in (scaled(d, c, how) for c in parts) if x is not None]
    if not got:
        return 0.5, True
    return roc_auc_score(d["y"], np.mean(got, axis=0)), len(got) < len(parts)

def name(rule):
    parts, how = rule
    return parts[0] if how == "raw" else f"{how}({'+'.join(parts)})"

def joint_choice(settings, rules):
    """The sets of both settings, each rule's mean AUCROC x 100 per setting and set, and for each held-out set the
    rule with the best summed mean over both settings on the other sets."""
    names = [s for s in settings[0] if s in settings[1]]
    table = [{r: {s: np.mean([100 * auc(st[s][k], r)[0] for k in sorted(st[s])]) for s in names} for r in rules}
             for st in settings]
    total = lambda r, keep: sum(np.mean([t[r][s] for s in keep]) for t in table)
    chosen = {h: max(rules, key=lambda r: total(r, [s for s in names if s != h])) for h in names}
    return names, table, chosen, max(rules, key=lambda r: total(r, names)), total

def joint(cache, other, configs, max_size):
    """Leave-one-out over both settings with one rule for both."""
    settings = [load(cache), load(other)]
    rules = candidates(configs, max_size)
    names, table, chosen, best, total = joint_choice(settings, rules)
    print(f"{len(rules)} candidate rules over {len(names)} sets, chosen on both {cache} and {other}")
    print("| data set | rule chosen without the set | leave-one-out (first) | leave-one-out (second) |")
    print("|---|---|---|---|")
    for h in names:
        print(f"| {h} | {name(chosen[h])} | {table[0][chosen[h]][h]:.2f} | {table[1][chosen[h]][h]:.2f} |")
    est = [np.mean([table[i][chosen[h]][h] for h in names]) for i in (0, 1)]
    print(f"\nleave-one-out means: {est[0]:.2f} (first), {est[1]:.2f} (second); in-sample best "
          f"{name(best)}: {np.mean([table[0][best][s] for s in names]):.2f}, "
          f"{np.mean([table[1][best][s] for s in names]):.2f}")
    for r in sorted(rules, key=lambda r: -total(r, names))[:8]:
        print(f"  {name(r):40} {np.mean([table[0][r][s] for s in names]):.2f} "
              f"{np.mean([table[1][r][s] for s in names]):.2f}")

def candidates(configs, max_size):
    rules = [((c,), "raw") for c in configs]
    for size in range(2, max_size + 1):
        for parts in itertools.combinations(configs, size):
            rules += [(parts, "cdf"), (parts, "z")]
    return rules

def main():
    cache = sys.argv[1]
    opt = lambda k, dflt: next((sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == k), dflt)
    if opt("--joint", None):
        return joint(cache, opt("--joint", None), opt("--configs", "").split(","), int(opt("--max-size", "3")))
    sets = load(cache)
    first = next(iter(next(iter(sets.values())).values()))
    configs = opt("--configs", ",".join(k for k in first if not k.startswith(("train_", "secs_")) and k not in
                                        ("y", "iforest", "sk_gauss"))).split(",")
    max_size = int(opt("--max-size", "3"))
    rules = candidates(configs, max_size)
    names = list(sets)
    # table[rule][set] = (mean AUC x 100 over seeds, spread over seeds, refused on some seed)
    table = {}
    for r in rules:
        table[r] = {}
        for s in names:
            res = [auc(sets[s][seed], r) for seed in sorted(sets[s])]
            a = [100 * x for x, _ in res]
            table[r][s] = (np.mean(a), max(a) - min(a), any(f for _, f in res))
    mean = lambda r, keep: np.mean([table[r][s][0] for s in keep])
    lodo = {}
    for h in names:
        others = [s for s in names if s != h]
        best = max(rules, key=lambda r: mean(r, others))
        lodo[h] = (table[best][h][0], best)
    best_all = max(rules, key=lambda r: mean(r, names))
    ref = {s: (np.mean([100 * roc_auc_score(sets[s][k]["y"], sets[s][k]["sk_gauss"]) for k in sets[s]]),
               np.mean([100 * roc_auc_score(sets[s][k]["y"], sets[s][k]["iforest"]) for k in sets[s]])) for s in names}
    shown = best_all
    if opt("--table", None):
        shown = next(r for r in rules if name(r) == opt("--table", None))
    print(f"{len(rules)} candidate rules over {len(names)} sets ({cache})")
    print(f"| data set | in-sample {name(shown)} | seed spread | leave-one-out | rule chosen without the set | "
          f"one Gaussian (sklearn) | IForest |")
    print("|---|---|---|---|---|---|---|")
    for s in names:
        a, spread, refused = table[shown][s]
        print(f"| {s} | {a:.2f}{' (a model refused)' if refused else ''} | {spread:.2f} | {lodo[s][0]:.2f} | "
              f"{name(lodo[s][1])} | {ref[s][0]:.2f} | {ref[s][1]:.2f} |")
    g = np.mean([ref[s][0] for s in names]); f = np.mean([ref[s][1] for s in names])
    print(f"| **mean** | {mean(shown, names):.2f} | {np.mean([table[shown][s][1] for s in names]):.2f} | "
          f"{np.mean([v[0] for v in lodo.values()]):.2f} | | {g:.2f} | {f:.2f} |")
    worst = min(names, key=lambda s: lodo[s][0] - ref[s][0])
    print(f"\nleave-one-out mean {np.mean([v[0] for v in lodo.values()]):.2f}; in-sample best {name(best_all)} "
          f"{mean(best_all, names):.2f}; better of one Gaussian and IForest {max(g, f):.2f}; "
          f"largest loss to one Gaussian (leave-one-out): {worst} {lodo[worst][0] - ref[worst][0]:.2f}")
    print("\ntop rules in sample:")
    for r in sorted(rules, key=lambda r: -mean(r, names))[:12]:
        losses = sum(1 for s in names if table[r][s][0] < ref[s][0] - 5)
        print(f"  {name(r):40} {mean(r, names):.2f}  sets > 5 below one Gaussian: {losses}")

if __name__ == "__main__":
    main()
