"""One reader per file layout, the strict table reader they share, and the finishing step."""
