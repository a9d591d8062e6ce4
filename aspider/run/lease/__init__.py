"""
One sweep at a time per project, even from two hosts with different work roots: the lease
(`holder`), kept in XNAT (`in_xnat`) or, where XNAT will not take it, in the work root
(`in_work_root`).
"""
