"""
What the commands run on the engine: a run of many projects (`runner`), its dry run and
`explain`'s plan (`preview`), and sending tasks back by hand (`rerun`).
"""
