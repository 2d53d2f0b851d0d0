"""System assets: the application database schema, kept at the newest migration."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.storage.db import current_revision, upgrade


@asset(group_name="system", description="Applies Alembic migrations so every table exists (arbx db upgrade).")
def database_schema(context: AssetExecutionContext, database: DatabaseResource) -> MaterializeResult:
    before = current_revision(database.engine)
    upgrade(database.url)
    after = current_revision(database.engine)
    context.log.info(f"database schema at {after} (was {before})")
    return MaterializeResult(metadata={"revision": str(after), "previous_revision": str(before)})
