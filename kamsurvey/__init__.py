"""Shared analysis code for the executable edition of AKAM's 'Rewarding KAM performance: survey findings'.

Modules: codebook (the questionnaire), waves and validate (reading a wave),
tabulate and stats (shares, intervals, tests), policy (small bases), phrasing
(numbers into words), charts and figures (Altair specs and their page output),
claims (the article's published claims, re-tested on any wave).
"""

__version__ = "1.0.0"
