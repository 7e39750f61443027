"""A sensitivity study as an HTML page (placeholder, filled below)."""


def study_page(ds) -> bytes:
    raise NotImplementedError
