"""Models trained elsewhere, brought in from the Data page: a RecBole `.pth` uploaded on the RecBole atomic files it was
trained on, imported into runs/ (recattn.importers.recbole: nothing in the file runs) and made the session's model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from recattn.errors import RecAttnError
from recattn.i18n import _
from recattn.models import registry
from ui import sources, state, training
from ui.text import md

MAX_MODEL_MB = 256  # a RecBole checkpoint of a few hundred thousand items with its optimizer state stays below this


def accepts(source: str) -> bool:
    """Whether `source` is RecBole atomic files, the data a RecBole checkpoint is imported on."""
    return not source.startswith("builtin:") and sources.data_profile(source)["format"] == "recbole"


def import_upload(upload, source: str, on_step=None) -> Path:
    """Import an uploaded RecBole checkpoint (Streamlit's UploadedFile) on `source` into a new runs/ folder, run the
    model checks on it, and return the folder. RecAttnError, with nothing written to runs/, for a file too large, not
    a RecBole checkpoint, one that would run code, or one trained on other data."""
    from recattn.data.formats.recbole import inter_file
    from recattn.importers import recbole
    from recattn.recommend import Recommender

    if upload.size > MAX_MODEL_MB * 2**20:
        raise RecAttnError(_("{file} is {size:,.0f} MB; a model file up to {limit} MB is imported here: import a "
                             "larger one from a terminal with python -m recattn import recbole").format(
            file=upload.name, size=upload.size / 2**20, limit=MAX_MODEL_MB))
    folder = sources.path_and_format(source)[0]
    with tempfile.TemporaryDirectory(prefix="recattn-import-") as tmp:
        pth = Path(tmp) / Path(upload.name).name
        pth.write_bytes(upload.getvalue())
        out = training.out_folder(source, "recbole")
        report = recbole.import_checkpoint(pth, sources.dataset(source), inter_file(Path(folder)), out, on_step)
    found = Recommender.from_checkpoint(out, sources.dataset(source)).checks(sources.dataset(source))
    verdict = {None: _("n/a"), True: _("pass"), False: "**" + _("fail") + "**"}
    verdicts = "\n".join(f"- {verdict[c.passed if c.applicable else None]} · "
                          f"**{_(c.name).capitalize()}**: {md(c.reading)}" for c in found)
    said = _("Imported RecBole's {model} from {file} as recattn's {kind} over {items:,} items; it is the current "
             "model. Item ids mapped as RecBole maps them: {mapping}. The model checks on it:").format(
        model=md(report.recbole_model), file=md(upload.name), kind=md(_(registry.label(report.kind))),
        items=report.items, mapping=md(report.mapping))
    state.flash("success", f"{said}\n\n{verdicts}", "data")
    return out


def imported(upload_key: str) -> None:
    """The Import button's callback: import the uploaded file on the current source and make it the session's model;
    a refusal is shown on the page and nothing changes."""
    upload = st.session_state.get(upload_key)
    if upload is None:
        state.flash("error", _("Drop a RecBole .pth file on the uploader first."), "data")
        return
    try:
        out = import_upload(upload, state.source())
    except RecAttnError as e:
        state.flash("error", md(e), "data")
        return
    state.set_model_dir(str(out))
