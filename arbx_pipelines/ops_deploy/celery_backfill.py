"""History backfills on Dagster's Celery executor (``dagster-celery``): the ``funding_history`` asset of the code
location (the same function, partitions and checks) in a job whose steps run as Celery tasks, so a long backfill
runs on worker machines instead of the small server. Each step goes to whichever worker is free: the range's fetch
is one task and each asset check another; several runs (one per venue or per stretch of days) keep several workers
busy at once.

The workers and the launching process read the arbx config (``ARBX_CONFIG``, ``ARBX_ENV``, ...) as the code
location does, so the rows land in the configured application database; the partition range comes from the
run's tags, as in ``arbx history backfill``::

    ARBX_CONFIG=/opt/arbx/arbx.yaml DAGSTER_CELERY_BROKER_HOST=rabbit \\
        celery -A dagster_celery.app worker -Q dagster --pool=solo
    dagster job execute -m arbx_pipelines.ops_deploy.celery_backfill -a funding_history_celery_job \\
        --tags '{"dagster/asset_partition_range_start": "2025-07-01|binance",
                 "dagster/asset_partition_range_end": "2025-07-31|bitget"}' -c broker.yaml
"""

from functools import cache

from dagster import AssetSelection, Definitions, JobDefinition, define_asset_job
from dagster_celery import celery_executor

from arbx_pipelines.assets.funding_history import FUNDING_HISTORY_CHECKS, funding_history, funding_history_partitions

JOB_NAME = "funding_history_celery"

funding_history_celery = define_asset_job(
    JOB_NAME,
    selection=AssetSelection.assets(funding_history),
    executor_def=celery_executor,
    partitions_def=funding_history_partitions,
    description="funding_history backfill with every step (the fetch, each check) a Celery task",
)


@cache
def definitions() -> Definitions:
    """The asset with the code location's resources, built once per process from the arbx config in force."""
    from arbx_pipelines.config.startup import settings_in_force
    from arbx_pipelines.definitions import build_resources

    loaded = settings_in_force().loaded
    return Definitions(
        assets=[funding_history],
        asset_checks=FUNDING_HISTORY_CHECKS,
        jobs=[funding_history_celery],
        resources=build_resources(loaded),
    )


def funding_history_celery_job() -> JobDefinition:
    """What the workers load to run a step (``reconstructable(funding_history_celery_job)``)."""
    return definitions().resolve_job_def(JOB_NAME)
