"""Analysis: numbers from a wave's rows, with no words and no pictures.

Imports only from `kamsurvey.data`. `tabulate` counts and shares; `stats` intervals and
tests; `policy` the small-base policy (low bases, suppressed cells); `trend` change between
two waves; `claims` the article's statements, re-tested on any wave.
"""
