"""
The engine: one sweep of a project (lease, snapshot, poll, plan, execute), and a run of many.

Everything here does I/O: XNAT through `xnat_client`, the cluster or local processes through
`pbs`, behind `backends.JobBackend`. It stands on the pure planner (`aspider.plan`) and the
processor definitions (`aspider.processors`) and may import `aspider.settings`; the demo and
the CLI stand on it. Failures are recorded on the affected assessor, never raised past a
session.
"""
