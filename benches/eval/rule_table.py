"""Per-set table of one rule from the cached scores of both settings (score_cache.py), with the leave-one-data-set-out
estimate of the joint choice (lodo.py --joint): for each setting, the rule's AUCROC x 100 (mean over seeds 1-3), its
spread over the seeds, the leave-one-out figure, one Gaussian (scikit-learn) and IForest on the same splits.

usage: rule_table.py UNSUP_CACHE SEMI_CACHE RULE CONFIGS      e.g. rule_table.py u s "z(gauss+mcd50+auto)" gauss,t,mcd50,auto"""
import os, sys
import numpy as np
from sklearn.metrics import roc_auc_score
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lodo

args = sys.argv[1:]
ucache, scache, rule_name, configs = args
settings = [lodo.load(ucache), lodo.load(scache)]
rules = lodo.candidates(configs.split(","), 3)
rule = next(r for r in rules if lodo.name(r) == rule_name)
names, tab, chosen, _, _ = lodo.joint_choice(settings, rules)
loo = {h: (tab[0][chosen[h]][h], tab[1][chosen[h]][h]) for h in names}
def per(st, r, s):
    a = [100 * lodo.auc(st[s][k], r)[0] for k in sorted(st[s])]
    return np.mean(a), max(a) - min(a)
ref = lambda st, s, c: np.mean([100 * roc_auc_score(st[s][k]["y"], st[s][k][c]) for k in st[s]])
print("| data set | unsup. | spread | leave-one-out | one Gaussian | IForest | semi | spread | leave-one-out | one Gaussian | IForest |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
cols = []
for s in names:
    row = []
    for i, st in enumerate(settings):
        m, sp = per(st, rule, s)
        row += [m, sp, loo[s][i], ref(st, s, "sk_gauss"), ref(st, s, "iforest")]
    cols.append(row)
    print(f"| {s} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
print("| **mean** | " + " | ".join(f"{v:.2f}" for v in np.mean(cols, axis=0)) + " |")
