"""Jobs for the warm run launcher tests: each reports which process ran it and where its module was imported."""

import json
import os
import time
from pathlib import Path

from dagster import OpExecutionContext, in_process_executor, job, op

#: the process that imported this module (the warm server, when the launcher preloaded it)
IMPORTED_IN_PID = os.getpid()


@op(config_schema={"out": str, "sleep_s": float})
def report_process(context: OpExecutionContext) -> None:
    out = Path(context.op_config["out"])
    out.write_text(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "imported_in": IMPORTED_IN_PID}))
    time.sleep(context.op_config["sleep_s"])


@job(executor_def=in_process_executor)
def process_report() -> None:
    report_process()
