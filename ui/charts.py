"""What every chart's toolbar does: its camera saves the figure at print resolution, as PNG or SVG, the sidebar's
choice (plotly's toolbar saves one format; the choice is shared by every chart of the session)."""

from __future__ import annotations

import streamlit as st

from recattn.i18n import _

FORMAT = "chart_format"
FORMATS = {"PNG": "png", "SVG": "svg"}
SCALE = 3  # a PNG at 3× the pixels on screen: about 300 dpi at the size it is shown (an SVG scales by itself)


def config(name: str) -> dict:
    """The plotly config of one chart; `name` becomes the saved file's name."""
    chosen = FORMATS.get(st.session_state.get(FORMAT) or "PNG", "png")
    return {"displaylogo": False, "toImageButtonOptions": {"format": chosen, "scale": SCALE if chosen == "png" else 1,
                                                           "filename": f"recattn-{name}"}}


def format_picker() -> None:
    """The sidebar's choice of format for the charts' camera button."""
    st.session_state.setdefault(FORMAT, "PNG")
    st.sidebar.segmented_control(_("Charts save as"), list(FORMATS), key=FORMAT, required=True,
                                 help=_("The camera in each chart's toolbar saves it in this format: PNG at print "
                                        "resolution, or SVG for slides and papers (scales without blur)."))
