"""Words and figures: what a chapter shows, computed from the analysis.

Imports from `kamsurvey.data` and `kamsurvey.analysis`. `chapter` is the façade every
notebook uses; `phrasing` turns numbers into words; `charts` makes one Altair chart per
question type and `figures` the figure payload a notebook stores (spec, data table, alt
text); `trendnotes` words the change between waves; `questionnaire` writes the appendix
from the codebook; `citation` is how to cite the book, an edition and a figure.
"""
