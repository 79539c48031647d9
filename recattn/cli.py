"""python -m recattn train|evaluate|recommend|compare|import|checks|explain-benchmark|data … ; `--json` prints one JSON
object on stdout (`recommend --histories` one per line)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from recattn.errors import RecAttnError
from recattn.models import registry


def _progress(report) -> None:
    """A one-line progress bar on stderr, redrawn after every epoch."""
    width = 30
    done = int(width * report.epoch / report.epochs)
    ndcg = report.valid.get("ndcg@10")
    tail = f" valid ndcg@10 {ndcg:.4f}" if ndcg is not None else ""
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] epoch {report.epoch}/{report.epochs} "
                     f"loss {report.loss:.4f}{tail} (best {report.best_epoch}) ")
    sys.stderr.flush()


def cmd_train(args) -> dict | None:
    """Train and save. Under `torchrun --nproc_per_node N` the N processes train one model together
    (recattn.training.distributed); rank 0 shows the progress, writes the checkpoint and returns the result, the other
    ranks return None."""
    from recattn import defaults
    from recattn.training import distributed
    from recattn.data import load
    from recattn.training.fit import resolve_device
    from recattn.training.workflow import train_and_save

    with distributed.session(resolve_device(args.device).type):
        main = distributed.is_main()
        dataset = load(args.data, format=args.format)
        model_cfg = defaults.model_config(args.model, **{k: getattr(args, k) for k in MODEL_FLAGS})
        train_cfg = defaults.train_config(args.model, n_items=len(dataset.items), seed=args.seed, device=args.device,
                                          max_minutes=args.max_minutes, **{k: getattr(args, k) for k in TRAIN_FLAGS})
        result, metrics = train_and_save(dataset, model_cfg, train_cfg, args.out if main else None,
                                         None if args.json else _progress)
    if not main:
        return None
    if not args.json:
        sys.stderr.write("\n")
    return {"out": args.out, **metrics}


def cmd_compare(args) -> dict:
    from recattn.training.compare import compare, table
    from recattn.data import load

    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in registry.names()]
    if unknown:
        raise RecAttnError(f"unknown model kind(s) {', '.join(unknown)}; choose among {', '.join(registry.names())}")
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    overrides = {"device": args.device, "max_minutes": args.max_minutes, "epochs": args.epochs, "seed": args.seed}

    def on_model(kind, n, total):
        if not args.json:
            sys.stderr.write(f"\n[{n + 1}/{total}] {kind}\n")

    report = compare(load(args.data, format=args.format), kinds, protocols, not args.keep_seen, overrides, on_model,
                     None if args.json else _progress, model_overrides={"repeat_bias": args.repeat_bias})
    if not args.json:
        sys.stderr.write("\n" + table(report) + "\n")
    return report


def cmd_evaluate(args) -> dict:
    from recattn import checkpoint
    from recattn.data import load
    from recattn.training.workflow import evaluate_checkpoint

    ckpt = checkpoint.load(args.checkpoint)
    dataset = load(args.data or ckpt.source, format=args.format)
    return evaluate_checkpoint(ckpt, dataset, args.protocol, not args.keep_seen)


def _loaded(args):
    """The checkpoint of --checkpoint and the data it belongs to (--data, or the source it records)."""
    from recattn import checkpoint
    from recattn.data import load

    ckpt = checkpoint.load(args.checkpoint)
    dataset = load(args.data or ckpt.source, format=args.format)
    checkpoint.check_catalogue(ckpt, dataset.fingerprint, dataset.name)
    return ckpt, dataset


def _ids(line: str) -> list[str]:
    return [h.strip() for h in line.split(",") if h.strip()]


def cmd_recommend(args) -> dict | None:
    """--history: one object; --histories FILE: one object per line of the file, printed as it goes (one history of
    comma-separated ids a line; an empty line or a bad id gives an object with "error", the others go on)."""
    from pathlib import Path

    from recattn.recommend import Recommender

    if (args.history is None) == (args.histories is None):
        raise RecAttnError("give one of --history IDS or --histories FILE")
    ckpt, dataset = _loaded(args)
    recommender = Recommender(ckpt.model, dataset.items)

    def answer(history: list[str]) -> dict:
        rec = recommender.recommend(history, k=args.k)
        return {"items": [{"id": i.id, "title": i.title, "score": round(i.score, 6)} for i in rec.items],
                "attention_shape": list(rec.trace.shape) if rec.trace is not None else None}

    if args.history is not None:
        return answer(_ids(args.history))
    try:
        lines = Path(args.histories).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise RecAttnError(f"cannot read --histories {args.histories}: {e}") from e
    for n, line in enumerate(lines, 1):
        try:
            out = {"line": n, **answer(_ids(line))}
        except RecAttnError as e:
            out = {"line": n, "error": str(e)}
        print(json.dumps(out) if args.json else json.dumps(out, indent=2), flush=True)
    return None


def _checks_out(found) -> list[dict]:
    return [{"name": c.name, "applicable": c.applicable, "passed": c.passed, "value": c.value, "reading": c.reading,
             "details": c.details} for c in found]


def cmd_import(args) -> dict:
    """Import a model trained elsewhere into a recattn checkpoint folder, then run the model checks on it."""
    from recattn.data import load
    from recattn.data.formats.recbole import inter_file
    from recattn.importers import recbole
    from recattn.recommend import Recommender

    def step(what: str) -> None:
        if not args.json:
            sys.stderr.write(f"- {what}\n")

    step(f"loading the data {args.data}")
    dataset = load(args.data, format="recbole")
    report = recbole.import_checkpoint(args.file, dataset, inter_file(Path(args.data)), args.out, step)
    step("running the model checks on it")
    found = Recommender.from_checkpoint(args.out, dataset).checks(dataset)
    for check in found:
        step(f"{'n/a' if not check.applicable else 'pass' if check.passed else 'FAIL'} {check.name}: {check.reading}")
    return {**report.as_dict(), "checks": _checks_out(found)}


def cmd_checks(args) -> dict:
    """The model checks on the test histories of the checkpoint's data, and whether it needs its attention."""
    from recattn.recommend import Recommender

    ckpt, dataset = _loaded(args)
    found = Recommender(ckpt.model, dataset.items).checks(dataset)
    return {"checkpoint": args.checkpoint, "kind": ckpt.model_config.kind, "checks": _checks_out(found)}


def cmd_explain_benchmark(args) -> list | None:
    """Score the explanation methods against the planted causes; with --json the list of per-model objects (one
    JSON line), else a table on stdout. --out also writes the results file with the command and commit."""
    from recattn.analysis import explain_benchmark as bench
    from recattn.data import load

    if args.users is not None and args.users < 1:
        raise RecAttnError(f"--users takes a positive number of users, not {args.users}")
    dataset = load(args.data)
    paths = args.checkpoint or bench.shipped_checkpoints(args.data)
    if not paths:
        raise RecAttnError(f"no shipped models for {args.data}: name the models to explain with --checkpoint DIR")

    def on_case(label, done, total):
        sys.stderr.write(f"\r{label}: {done}/{total} cases ")
        sys.stderr.write("\n" if done == total else "")
        sys.stderr.flush()

    results = bench.run(dataset, paths, args.users, None if args.json else on_case)
    if args.out:
        command = " ".join(["python -m recattn explain-benchmark --data", args.data,
                            *(f"--checkpoint {p}" for p in args.checkpoint or ()),
                            *(["--users", str(args.users)] if args.users is not None else []), "--out", args.out])
        bench.write_results(args.out, results, command, args.data)
    if args.json:
        return results
    print(bench.table(results))
    return None


MODEL_FLAGS = ("max_len", "hidden", "layers", "heads", "dropout", "position", "repeat_bias")
TRAIN_FLAGS = ("epochs", "batch_size", "lr", "patience", "objective", "window_stride", "ema_decay", "schedule",
               "warmup_steps", "precision", "label_smoothing")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m recattn", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on a source and save a checkpoint folder")
    t.add_argument("--data", default="builtin:films")
    t.add_argument("--model", default="sasrec", choices=registry.names(), help="the model kind")
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    t.add_argument("--max-minutes", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--patience", type=int)
    t.add_argument("--objective", choices=["ce", "bce", "sampled_softmax"])
    t.add_argument("--window-stride", type=int, help="start a training window every N items (causal models)")
    t.add_argument("--ema-decay", type=float, help="validate and keep a moving average of the weights")
    t.add_argument("--label-smoothing", type=float, help="share of the full-softmax target spread over all items")
    t.add_argument("--schedule", choices=["constant", "cosine"],
                   help="cosine: warm up, then decay the learning rate to 0 by --epochs or --max-minutes")
    t.add_argument("--warmup-steps", type=int)
    t.add_argument("--precision", choices=["auto", "fp32", "bf16"],
                   help="auto: bfloat16 where the GPU or CPU computes it natively, else float32")
    t.add_argument("--max-len", type=int)
    t.add_argument("--hidden", type=int)
    t.add_argument("--layers", type=int)
    t.add_argument("--heads", type=int)
    t.add_argument("--dropout", type=float)
    t.add_argument("--position", choices=["learned", "sinusoidal"])
    t.set_defaults(run=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate a checkpoint on its source's leave-one-out test items")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--data", help="source (default: the one the checkpoint was trained on)")
    e.add_argument("--protocol", default="full", choices=["full", "uniform100", "popular100"])
    e.add_argument("--keep-seen", action="store_true", help="rank items already in the history too")
    e.set_defaults(run=cmd_evaluate)

    r = sub.add_parser("recommend", help="top-k items after a history of catalogue ids")
    r.add_argument("--checkpoint", required=True)
    r.add_argument("--data")
    r.add_argument("--history", help="comma-separated catalogue ids, oldest first")
    r.add_argument("--histories", metavar="FILE", help="a file of histories, one a line (comma-separated ids); one "
                   "JSON object per line out")
    r.add_argument("--k", type=int, default=10)
    r.set_defaults(run=cmd_recommend)

    c = sub.add_parser("compare", help="train and evaluate several models on one split; print one table")
    c.add_argument("--data", default="builtin:films")
    c.add_argument("--models", default=",".join(registry.names()), help="comma-separated model kinds")
    c.add_argument("--protocols", default="full", help="comma-separated: full,uniform100,popular100")
    c.add_argument("--keep-seen", action="store_true", help="rank items already in the history too")
    c.add_argument("--epochs", type=int)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    c.add_argument("--max-minutes", type=float, help="time budget per model")
    c.set_defaults(run=cmd_compare)

    for s in (t, c):
        s.add_argument("--repeat-bias", action=argparse.BooleanOptionalAction,
                       help="learn a score offset for items already in the history (SASRec, BERT4Rec, GRU4Rec, NARM; "
                            "default: the model's own)")
    i = sub.add_parser("import", help="turn a model trained elsewhere into a recattn checkpoint folder")
    i.add_argument("format", choices=["recbole"], help="what wrote the file (RecBole 1.2.x: SASRec, BERT4Rec, GRU4Rec)")
    i.add_argument("file", help="the .pth file RecBole's trainer saved")
    i.add_argument("--data", required=True, help="the folder of the atomic files it was trained on (.inter)")
    i.add_argument("--out", required=True, help="the checkpoint folder to write (written only when the import works)")
    i.set_defaults(run=cmd_import)

    k = sub.add_parser("checks", help="model checks: causal leak, positions, attention collapse, popularity bias, and "
                                      "whether the model needs its attention")
    k.add_argument("--checkpoint", required=True)
    k.add_argument("--data", help="source (default: the one the checkpoint was trained on)")
    k.set_defaults(run=cmd_checks)

    for s in (t, e, r, c, i, k):
        s.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    for s in (t, e, r, c, k):
        s.add_argument("--format", help="the layout of --data when it is a folder or file (default: detected)")

    x = sub.add_parser("explain-benchmark", help="how often each explanation method ranks the planted cause first")
    x.add_argument("--data", default="builtin:films", help="a built-in world: builtin:films or builtin:news")
    x.add_argument("--checkpoint", nargs="+", action="extend", metavar="DIR",
                   help="models to explain (default: the world's shipped models in assets/models/)")
    x.add_argument("--users", type=int, metavar="N", help="explain at most N users' test items per model, a seeded sample "
                   "(default: all; a few hundred for target attention, ~1 s each; the output says how many)")
    x.add_argument("--out", metavar="FILE", help="also write the results, with the command and commit, to this JSON file")
    x.add_argument("--json", action="store_true", help="print the list of per-model objects as one JSON line")
    x.set_defaults(run=cmd_explain_benchmark)

    from recattn.data.commands import register

    register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except RecAttnError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result is None:  # a torchrun rank other than 0: rank 0 prints the result
        return 0
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0
