"""Seat allocation under Mexico's federal law (pure functions).

The law of each election (2018, 2021, 2024) is data: a rules file in ``polls/rules/``, read by
:func:`load_rules`; the defaults in code are the 2018 law.  The law as implemented, and every
choice where the law is silent, is in ``docs/seats.md``.
"""

from forecast.seats.apportion import (
    InfeasibleAllocationError,
    largest_remainder,
    largest_remainder_scalar,
)
from forecast.seats.chamber import (
    ChamberAllocation,
    ChamberRules,
    allocate_chamber,
    allocate_chamber_scalar,
    allocate_chamber_table,
    district_seats_from_votes,
    split_circunscripciones,
    split_circunscripciones_scalar,
)
from forecast.seats.law import load_rules, rules_for_election, rules_for_year
from forecast.seats.senate import (
    SenateAllocation,
    SenateRules,
    allocate_senate,
    allocate_senate_scalar,
    allocate_senate_table,
    senate_state_seats,
    senate_state_seats_table,
)

__all__ = [
    "ChamberAllocation",
    "ChamberRules",
    "InfeasibleAllocationError",
    "SenateAllocation",
    "SenateRules",
    "allocate_chamber",
    "allocate_chamber_scalar",
    "allocate_chamber_table",
    "allocate_senate",
    "allocate_senate_scalar",
    "allocate_senate_table",
    "district_seats_from_votes",
    "largest_remainder",
    "largest_remainder_scalar",
    "load_rules",
    "rules_for_election",
    "rules_for_year",
    "senate_state_seats",
    "senate_state_seats_table",
    "split_circunscripciones",
    "split_circunscripciones_scalar",
]
