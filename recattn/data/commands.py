"""`python -m recattn data download|info`: the argparse wiring and handlers that return dicts."""

from __future__ import annotations

import sys

from recattn import paths


def register(subparsers) -> None:
    """Add the `data` command group to the CLI's subparsers."""
    from recattn.data.download import NAMES

    data = subparsers.add_parser("data", help="download public datasets; summarize a source")
    sub = data.add_subparsers(dest="data_command", required=True)

    d = sub.add_parser("download", help="fetch a public dataset, check it, and unpack it into the data folder")
    d.add_argument("name", choices=NAMES)
    d.add_argument("--dir", default=str(paths.data_dir()),
                   help="data folder (default: data/ in the checkout, or $RECATTN_DATA_DIR: where the app looks)")
    d.add_argument("--force", action="store_true", help="download again even if the folder is complete")
    d.set_defaults(run=cmd_download)

    i = sub.add_parser("info", help="counts and time range of a source (builtin:NAME, a folder or a file)")
    i.add_argument("source")
    i.add_argument("--format", help="force a layout instead of detecting it")
    i.add_argument("--min-rating", type=float, help="keep ratings at or above this")
    i.add_argument("--kcore", type=int, help="drop users and items with fewer than k interactions")
    i.set_defaults(run=cmd_info)

    for s in (d, i):
        s.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def cmd_download(args) -> dict:
    from recattn.data.download import ARCHIVES, download

    path = download(args.name, args.dir, on_progress=_progress_bar, force=args.force)
    sys.stderr.write("\n")
    return {"name": args.name, "path": str(path), "files": sorted(ARCHIVES[args.name].files)}


def cmd_info(args) -> dict:
    from recattn.data import load
    from recattn.data.info import summarize

    options = {k: v for k, v in (("min_rating", args.min_rating), ("kcore", args.kcore)) if v is not None}
    return summarize(load(args.source, format=args.format, **options))


def _progress_bar(done: int, total: int) -> None:
    """A one-line bar on stderr; byte counts only when the server did not send a size."""
    mib = done / 2**20
    if total:
        width = 30
        filled = int(width * done / total)
        text = f"[{'#' * filled}{'.' * (width - filled)}] {mib:.1f}/{total / 2**20:.1f} MiB"
    else:
        text = f"{mib:.1f} MiB"
    sys.stderr.write(f"\r{text} ")
    sys.stderr.flush()
