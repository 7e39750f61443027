"""The report: the page (headline, interactive charts, tables), its files, and study pages."""

from .headline import display_names, headline_sentences
from .page import Section, render_files
from .study_chart import plot_study
from .study_page import study_page

__all__ = ["Section", "display_names", "headline_sentences", "plot_study", "render_files",
           "study_page"]
