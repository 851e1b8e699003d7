"""Building and publishing: everything `kam` does that runs other programs or writes the site.

Imports from every layer below. `chapters` executes the notebooks with papermill (through
`kernels`, a warm kernel server); `stamps` skips a step whose inputs did not change;
`website` builds the site of every edition; `publish` publishes a new wave (`kam wave`);
`briefing` writes the member briefing pack.
"""
