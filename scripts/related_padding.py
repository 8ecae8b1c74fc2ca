#!/usr/bin/env python3
"""How much of a Related list is padding: on the ECB+ set of ../shared/eval (arrival order and
tune/check split exactly as score_related.py makes them), the share of Related entries shown
for second-event articles that come from another topic group (neither the article's own event
nor its sibling event), and the entries per list.

usage: scripts/related_padding.py EVAL_DIR --part tune|check -- COMMAND [ARG...]
e.g.   scripts/related_padding.py ../shared/eval --part check -- target/release/newsdesk relate
"""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from story_sets import command_line, run_set


def main():
    eval_dir, opts, cmd = command_line(__doc__)
    from evalpart import wanted
    part = wanted(opts)
    order, answers = run_set(eval_dir, "ecbplus", part, cmd)
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
