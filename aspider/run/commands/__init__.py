"""
What the commands run on the engine: a run of many projects (`runner`), its dry run and
`explain`'s plan (`preview`), sending tasks back by hand (`rerun`), and what each processor's
jobs used against what they asked (`tune`).
"""
