"""Building and publishing: everything `kam` does that runs other programs or writes the site.

Imports from every layer below. `chapters` executes the notebooks with papermill (through
`kernels`, a warm kernel server); `stamps` skips a step whose inputs did not change;
`pages` builds the current edition (`kam html`); `website` builds the site of every edition;
`publish` publishes a new wave (`kam wave`); `archive` keeps each published edition byte for byte;
`briefing` writes the member briefing pack. Every command that writes holds `lock` (one writer at
a time) and replaces what readers see through `journal` (all or nothing, even after kill -9).
"""
