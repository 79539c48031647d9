"""recattn: small Transformer recommenders whose attention you can see.

The package holds data, models, training, evaluation, explanation and figures; it never imports
streamlit. The app in `app.py` and `pages/` only wires widgets to it.
"""

__version__ = "0.1.0"
