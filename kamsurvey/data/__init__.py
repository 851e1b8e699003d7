"""Data: the questionnaire, the files of a wave and everything that reads, checks or writes them.

Imports nothing from the other layers. `codebook` is the questionnaire (data/codebook.yml);
`readers` reads CSV and Excel files; `validate` checks a wave against the codebook and the data
contract, `wavemeta` its wave.yml; `problems` is how every reader says what is wrong;
`importer` turns a survey tool's export into the contract's form; `waves` loads a validated
wave (through `cache`); `editions` is the register of published editions; `synth` writes
synthetic waves; `reconstruction` rebuilt the 2022 respondents from the article's figures.
"""
