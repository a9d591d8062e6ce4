"""
What a sweep does to one task, in the order it happens: its session's actions carried out
(`execute`), its inputs staged (`staging`, placed as `aspider.plan.inputs_layout` says), its job
submitted held, recorded and released (`submission`, `job_templates`, `held_jobs` for what a crash
left), its outputs uploaded and verified or the task failed (`finalize`, `outputs`, `transfers`),
and its downstream work planned at once (`chain`).
"""
