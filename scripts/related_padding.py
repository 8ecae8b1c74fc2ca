#!/usr/bin/env python3
"""How much of a Related list is padding: on the ECB+ set of ../shared/eval (arrival order and
tune/check split exactly as score_related.py makes them), the share of Related entries shown
for second-event articles that come from another topic group (neither the article's own event
nor its sibling event), and the entries per list.

usage: scripts/related_padding.py EVAL_DIR --part tune|check -- COMMAND [ARG...]
e.g.   scripts/related_padding.py ../shared/eval --part check -- target/release/newsdesk relate
"""
import json, os, subprocess, sys, tempfile


def main():
    argv = sys.argv[1:]
    if "--" not in argv or not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    cut = argv.index("--")
    opts, cmd = argv[:cut], argv[cut + 1:]
    eval_dir = os.path.abspath(opts[0])
    sys.path.insert(0, eval_dir)
    from evalpart import keep, wanted
    from score_related import arrival
    part = wanted(opts)
    path = os.path.join(eval_dir, "related", "ecbplus.jsonl")
    rows = [json.loads(l) for l in open(path) if l.strip()]
    rows = [r for r in rows if keep(part, r.get("topic_group") or r["story"])]
    order = arrival("ecbplus", rows)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for r in order:
            f.write(json.dumps({x: r.get(x) for x in ("id", "title", "text", "published", "source")}) + "\n")
    try:
        out = subprocess.run(cmd + ["--input", f.name], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    answers = {o["id"]: o for o in map(json.loads, out.splitlines()) if o.get("id") is not None}
    meta = {r["id"]: r for r in order}
    lists = shown = other = 0
    for r in order:
        if r["story"].endswith("-a"):
            continue
        related = [x for x in answers.get(r["id"], {}).get("related", []) if x in meta]
        lists += 1
        shown += len(related)
        other += sum(meta[x]["topic_group"] != r["topic_group"] for x in related)
    print(f"{part}: lists {lists}  entries per list {shown / max(lists, 1):.2f}  "
          f"from another topic {other}/{shown} = {other / max(shown, 1):.3f}")


if __name__ == "__main__":
    main()
