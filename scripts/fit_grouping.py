#!/usr/bin/env python3
"""Fits a logistic same-event model on the signals `newsdesk relate --explain` prints, over the
story sets of ../shared/eval (arrival order and tune/check split exactly as score_related.py
makes them). Each candidate story an article was weighed against is one example, labelled
"same event" when most of the story's articles so far belong to the article's gold story.

usage: scripts/fit_grouping.py EVAL_DIR --part tune [--sets ecbplus,allsides-dated] -- COMMAND...
e.g.   scripts/fit_grouping.py ../shared/eval --part tune -- target/release/newsdesk relate

Prints the examples per set and the fitted weights (intercept first) over the features
cosine, entity_share, ln(story_items), gap_days, ln(1 + competing). Fit on `tune` only; a
rule built from the weights is judged with score_related.py on `check`. Needs numpy and
scikit-learn (the eval venv has both).
"""
import collections, math, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_sets import command_line, run_set

FEATURES = ["cosine", "entity_share", "ln_story_items", "gap_days", "ln_1_competing"]


def features(c):
    return [c["cosine"], c["entity_share"], math.log(max(1, c["story_items"])), c["gap_days"],
            math.log(1 + max(0, c["competing"]))]


def examples(eval_dir, name, part, cmd):
    order, lines = run_set(eval_dir, name, part, cmd, ["--explain"])
    members = collections.defaultdict(list)  # story key -> gold stories of its articles so far
    xs, ys = [], []
    for r in order:
        line = lines[r["id"]]
        for c in line.get("candidates", []):
            gold = members[c["story"]]
            if gold:
                xs.append(features(c))
                ys.append(sum(g == r["story"] for g in gold) * 2 > len(gold))
        members[line["story"]].append(r["story"])
    return xs, ys


def main():
    eval_dir, opts, cmd = command_line(__doc__)
    part = opts[opts.index("--part") + 1] if "--part" in opts else "tune"
    sets = opts[opts.index("--sets") + 1].split(",") if "--sets" in opts else ["ecbplus", "allsides-dated"]
    from sklearn.linear_model import LogisticRegression
    xs, ys = [], []
    for name in sets:
        x, y = examples(eval_dir, name, part, cmd)
        print(f"{name}: {len(y)} examples, {sum(y)} same event")
        xs += x
        ys += y
    model = LogisticRegression(max_iter=2000).fit(xs, ys)
    weights = [model.intercept_[0]] + list(model.coef_[0])
    print("weights (intercept, " + ", ".join(FEATURES) + "):")
    print(",".join(f"{w:.3f}" for w in weights))


if __name__ == "__main__":
    main()
