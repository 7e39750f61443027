"""Charts (one function per chart) and the HTML page."""

from .charts import (
    plot_house_effects,
    plot_share_distributions,
    plot_timeline,
    plot_trend,
    plot_win_probability,
)
from .page import write_report

__all__ = ["plot_house_effects", "plot_share_distributions", "plot_timeline", "plot_trend",
           "plot_win_probability", "write_report"]
