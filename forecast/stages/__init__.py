"""The stages of a forecast, in the order they run: each takes the upstream stages' results.

See :mod:`forecast.stages.base` for the interface and forecast/engine.py for the one driver.
"""

from .base import Options, Prepared, Stage, StageResult
from .congress import CongressStage
from .governors import GovernorStage
from .president import PresidentStage

#: Every stage, in the order they run (each may read the results of those before it).
STAGES: tuple = (PresidentStage(), CongressStage(), GovernorStage())

__all__ = ["STAGES", "CongressStage", "GovernorStage", "Options", "Prepared", "PresidentStage",
           "Stage", "StageResult"]
