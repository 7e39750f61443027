"""Names and colours of everything a chart or table shows, from the election's data files.

One :class:`Style` per kind of thing (candidates, parties and coalitions, governor candidacies):
every chart, table and study page takes its names and colours from here, so a candidate has the
same colour in the trend, the win-probability bars, the timeline and a study.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..colors import assign_colors


@dataclass(frozen=True)
class Style:
    """Display names and colours by key.

    Attributes
    ----------
    keys
        Keys in definition order.
    labels
        Short names for charts (legends, tiles, orders).
    names
        Full names (tables, tooltips).
    colors
        ``#rrggbb`` by key.
    """

    keys: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    colors: dict[str, str] = field(default_factory=dict)

    def label(self, key: str) -> str:
        """Short name of ``key`` (the key itself when unknown)."""
        return self.labels.get(key) or self.names.get(key) or str(key)

    def name(self, key: str) -> str:
        """Full name of ``key``."""
        return self.names.get(key) or self.labels.get(key) or str(key)

    def color(self, key: str) -> str:
        """Colour of ``key`` (a default for a key the style does not know)."""
        if key in self.colors:
            return self.colors[key]
        return assign_colors([*self.keys, key], self.colors)[key]

    def subset(self, keys) -> Style:
        """The same style restricted to ``keys`` (in that order)."""
        keys = tuple(str(k) for k in keys)
        return Style(keys, {k: self.label(k) for k in keys}, {k: self.name(k) for k in keys},
                     {k: self.color(k) for k in keys})


def candidate_style(election) -> Style:
    """Candidates of an election: short name, name and colour from ``[[candidates]]``."""
    cands = list(election.candidates)
    keys = tuple(c.key for c in cands)
    given = {c.key: getattr(c, "color", None) for c in cands}
    return Style(keys, {c.key: getattr(c, "short_name", "") or c.name for c in cands},
                 {c.key: c.name for c in cands}, assign_colors(keys, given))


def congress_colors(definition, president_coalitions: dict) -> tuple[dict[str, str],
                                                                    dict[str, str]]:
    """Colours of a Congress definition's parties and coalitions (the rule of
    :func:`congress_style`, shared with the study page): (party colours, coalition colours)."""
    parties = [*definition.parties, definition.independent]
    party_colors = assign_colors(parties, getattr(definition, "party_colors", {}) or {})
    given = {k: (getattr(r, "color", None)
                 or getattr(president_coalitions.get(k), "color", None))
             for k, r in definition.coalitions.items()}
    return party_colors, assign_colors(list(definition.coalitions), given,
                                       taken=party_colors.values())


def congress_style(forecast) -> Style:
    """Parties and coalitions of the Congress stage.

    Party names: ``[party_names]`` of congress.toml, else the party-poll option's name; colours:
    ``[party_colors]``. Coalition colours: ``color`` of ``[coalitions.*]`` in congress.toml, else
    of the presidential election's coalition with the same key. Defaults by the fixed rule of
    :func:`forecast.colors.assign_colors` (coalitions kept apart from the parties' colours).
    """
    inputs = forecast.inputs.stage("congress")
    definition = inputs.definition
    party_election = inputs.election
    president = getattr(inputs, "president", None) or getattr(forecast, "election", None)
    option_names = {c.key: c.name for c in getattr(party_election, "candidates", [])}
    parties = [*definition.parties, definition.independent]
    party_names = getattr(definition, "party_names", {}) or {}
    party_colors, coalition_colors = congress_colors(
        definition, getattr(president, "coalitions", {}) or {})
    labels = {p: party_names.get(p) or option_names.get(p) or p for p in parties}
    names = dict(labels)
    coalitions = list(definition.coalitions)
    for k, r in definition.coalitions.items():
        labels[k] = names[k] = r.name
    return Style(tuple([*parties, *coalitions]), labels, names,
                 {**party_colors, **coalition_colors})


def governor_style(races) -> Style:
    """Candidacy keys of the governor races: ``[candidacies.*]`` of races.toml."""
    styles = getattr(races, "candidacies", {}) or {}
    keys = list(getattr(races, "options", None) or styles)
    keys += [k for k in styles if k not in keys]
    given = {k: styles[k].color for k in keys if k in styles}
    return Style(tuple(keys), {k: styles[k].label for k in keys if k in styles},
                 {k: styles[k].name for k in keys if k in styles}, assign_colors(keys, given))
