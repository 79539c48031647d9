"""The app layer between the pages and the `recattn` package (pages → ui → recattn); the only non-page code that
imports streamlit.

- `state`: the session contract (source, history, model folder), history operations, flash messages, the error guard;
- `text`: user text made safe for markdown;
- `sources`: which data is loaded, switching it, uploads, folders, cached datasets and their profiles;
- `models`: cached recommenders, the checkpoints of a source, the model picker;
- `training`: training off the script thread, its progress and stop;
- `widgets`: pieces several pages draw.
"""
