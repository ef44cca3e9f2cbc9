"""Synthesized domains: 120 small random schemas over a broad vocabulary, to train on many schemas.

Every schema is drawn from a seeded random source, so the set is the same on every build. None comes
from the held-out game domain: no theme, table or word list here is taken from it (tests check it).
"""

from __future__ import annotations

from studio.data.sample.synth import themes_business, themes_leisure, themes_public
from studio.data.sample.synth.build import synthesize

THEMES = themes_business.THEMES + themes_public.THEMES + themes_leisure.THEMES
SYNTHESIZED_COUNT = 120
SYNTHESIZED = synthesize(THEMES, SYNTHESIZED_COUNT)

__all__ = ["SYNTHESIZED", "SYNTHESIZED_COUNT", "THEMES", "synthesize"]
