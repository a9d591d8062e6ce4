"""
pyxnat reading and writing XNAT workflow entries, run by the pyxnat venv.

pyxnat's own workflow reader, `Pipeline.status`, first asks the XNAT pipeline engine whether
the pipeline is registered with the project (HEAD .../pipelines/NAME), which a workflow entry
written by any other tool never is; so this does what its body does once past that check:
the same request (/data/services/workflows/NAME, display=ALL), the same selection (pipeline
name) and the same choice of the latest entry (the highest wrk_workflowData_id), through the
pyxnat Interface's session. It then writes one entry as XNAT's own tests do (PUT
/data/workflows with wrk:workflowData/... parameters). Prints what it saw as JSON.

Usage: python pyxnat_workflows.py URL USER PASSWORD PROJECT PIPELINE EXPERIMENT_ID
"""

import json
import os.path as op
import sys

from pyxnat import Interface


def main(url: str, user: str, password: str, project: str, pipeline: str, experiment: str) -> dict:
    intf = Interface(server=url, user=user, password=password)
    options = {"project": project, "experiment": experiment, "display": "ALL", "format": "json"}
    response = intf.get(f"/data/services/workflows/{pipeline}", params=options)
    response.raise_for_status()
    data = response.json()["ResultSet"]["Result"]
    data = [item for item in data if pipeline == op.basename(op.splitext(item["pipeline_name"])[0])]
    ordered = sorted(data, key=lambda x: int(x["wrk_workflowData_id"]))
    seen = {
        "entries": [[w["status"], w["current_step_id"], w["step_description"]] for w in ordered],
        "latest": ordered[-1]["status"] if ordered else None,
    }
    params = {
        "wrk:workflowData/ID": experiment,
        "wrk:workflowData/ExternalID": project,
        "wrk:workflowData/data_type": "proc:genProcData",
        "wrk:workflowData/pipeline_name": pipeline,
        "wrk:workflowData/launch_time": "2030-01-01 00:00:00.000",
        "wrk:workflowData/status": "Complete",
        "wrk:workflowData/step_description": "checked by hand in pyxnat",
    }
    seen["put_status"] = intf.put("/data/workflows", params=params).status_code
    intf.disconnect()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:7])))
