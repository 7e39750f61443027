"""Charts (one function per chart) and the HTML page."""

from .charts import (
    plot_house_effects,
    plot_share_distributions,
    plot_timeline,
    plot_trend,
    plot_win_probability,
)
from .page import Section, render_files
from .study_chart import plot_study

__all__ = ["Section", "plot_house_effects", "plot_share_distributions", "plot_study",
           "plot_timeline", "plot_trend", "plot_win_probability", "render_files"]
