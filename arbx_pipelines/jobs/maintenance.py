"""Maintenance jobs and their schedules: a daily database backup keeping 30 days (the user's design, section 8.3),
and a health check every few minutes that alerts when a check starts failing."""

from dagster import (
    DefaultScheduleStatus,
    Failure,
    OpExecutionContext,
    ScheduleDefinition,
    in_process_executor,
    job,
    op,
)

from arbx_pipelines.health import failures, run_health_checks
from arbx_pipelines.resources.database import StateResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.backups import KEEP_DAYS, backup_database, prune_backups

BACKUP_DIR = "backups"
HEALTH_MINUTES = 5
#: the names of the checks failing at the last health run, so a failure is alerted when it starts, not every run
FAILING_FLAG = "health:failing"


@op(description="Write a backup of the application database to <data_dir>/backups and prune those over 30 days.")
def database_backup_op(context: OpExecutionContext, settings: SettingsResource) -> None:
    loaded = settings.loaded()
    target = loaded.data_dir / BACKUP_DIR
    written = backup_database(loaded.database_url, target)
    pruned = prune_backups(target, keep_days=KEEP_DAYS)
    context.log.info(f"backup {written.path} written; {len(pruned)} older than {KEEP_DAYS} days pruned")


@job(executor_def=in_process_executor, description="Back up the application database (daily).")
def database_backup() -> None:
    database_backup_op()


@op(description="Run the health checks; alert when a check starts failing (and once more when all recover).")
def health_check_op(
    context: OpExecutionContext, settings: SettingsResource, state: StateResource, notifier: NotifierResource
) -> None:
    results = run_health_checks(settings.loaded(), context.instance)
    failed = failures(results)
    names = ",".join(sorted(r.name for r in failed))
    previous = state.store.get_flag(FAILING_FLAG) or ""
    if names and names != previous:
        message = "; ".join(f"{r.name}: {r.detail}" for r in failed)
        notifier.sink().raise_alert("health_check_failed", f"health check failed: {message}", severity="critical")
    state.store.set_flag(FAILING_FLAG, names or None)
    for result in results:
        context.log.info(f"{result.name}: {'ok' if result.ok else 'FAIL'} {result.detail}")
    if failed:
        raise Failure(description=f"{len(failed)} health check(s) failed: {names}")


@job(executor_def=in_process_executor, description="Health checks of the running arbx (alert on failure).")
def health_check() -> None:
    health_check_op()


MAINTENANCE_JOBS = [database_backup, health_check]


def maintenance_schedules() -> list[ScheduleDefinition]:
    return [
        ScheduleDefinition(
            name="database_backup_schedule",
            job=database_backup,
            cron_schedule="30 3 * * *",
            default_status=DefaultScheduleStatus.RUNNING,
            execution_timezone="UTC",
        ),
        ScheduleDefinition(
            name="health_check_schedule",
            job=health_check,
            cron_schedule=f"*/{HEALTH_MINUTES} * * * *",
            default_status=DefaultScheduleStatus.RUNNING,
            execution_timezone="UTC",
        ),
    ]
