"""Shared by the scripts that run `newsdesk relate` over the story sets of ../shared/eval:
the command line `EVAL_DIR [options] -- COMMAND...`, and one set fed in score_related.py's
arrival order and tune/check split."""
import json, os, subprocess, sys, tempfile


def command_line(doc):
    """(eval_dir, options, command) from sys.argv; the eval directory's modules importable."""
    argv = sys.argv[1:]
    if "--" not in argv or not argv or argv[0].startswith("-"):
        sys.exit(doc)
    cut = argv.index("--")
    opts, cmd = argv[:cut], argv[cut + 1:]
    eval_dir = os.path.abspath(opts[0])
    sys.path.insert(0, eval_dir)
    return eval_dir, opts, cmd


def run_set(eval_dir, name, part, cmd, extra=()):
    """The set's articles in arrival order and the command's output line per id."""
    from evalpart import keep
    from score_related import arrival
    path = os.path.join(eval_dir, "related", name + ".jsonl")
    rows = [json.loads(l) for l in open(path) if l.strip()]
    rows = [r for r in rows if keep(part, r.get("topic_group") or r["story"])]
    order = arrival(name, rows)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for r in order:
            f.write(json.dumps({x: r.get(x) for x in ("id", "title", "text", "published", "source")}) + "\n")
    try:
        out = subprocess.run(cmd + ["--input", f.name, *extra], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    return order, {o["id"]: o for o in map(json.loads, out.splitlines()) if o.get("id") is not None}
