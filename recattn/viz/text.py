"""User text (titles, genres, ids, model names) made literal for plotly.

Plotly reads a subset of HTML in tick labels, titles, legends, hover text and annotations (`<b>` turns bold,
unknown tags vanish, `&lt;` becomes "<") and typesets `$…$` as LaTeX when MathJax is on the page. Every builder
passes each user string through `plot_text` exactly once, after shortening it (an entity cut in half would
show).
"""

from __future__ import annotations


def plot_text(text: object) -> str:
    """`text` as plotly shows it literally: "&", "<", ">" as entities (so no tag or entity is read) and "$" as the
    numeric entity "&#36;" (plotly turns it back into "$" after its LaTeX check). Quotes stay: outside a tag they
    are plain text, and plotly knows no "&quot;" (it would show the entity itself)."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("$", "&#36;"))
