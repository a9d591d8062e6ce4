"""
What a sweep writes to XNAT and remembers: every assessor write and what it counts
(`assessor_writes`), what it wrote, so a session is planned again without a read (`ledger`), the
status history as XNAT workflow entries (`workflow_history`), one log record per action
(`action_log`), and the settled-session memo between sweeps (`settled_store`).
"""
