"""Figure builders: data in, a plotly figure out; never a model, never streamlit (bertviz's rule).

One module a subject: `attention` (heatmap grids of a trace), `data_charts` (the Data page's counts). The common
builders are importable from here.
"""

from recattn.viz.attention import (ATTENTION_COLORSCALE, HIGHLIGHT, LABEL_WIDTH, attention_grid, short_label,
                                   trace_figure)
from recattn.viz.data_charts import cause_chart, genre_chart, history_length_chart, popularity_chart

__all__ = ["ATTENTION_COLORSCALE", "HIGHLIGHT", "LABEL_WIDTH", "attention_grid", "cause_chart", "genre_chart",
           "history_length_chart", "popularity_chart", "short_label", "trace_figure"]
