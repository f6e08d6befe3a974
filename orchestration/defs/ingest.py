"""Ingest: one asset per extract entity, keyed like the dbt source that reads it (crm/accounts),
all landed by one step through one warehouse connection."""


import dagster as dg

from orchestration import settings
from orchestration.lib import page_cache, warehouse
from orchestration.lib.contracts import ENTITIES, Entity
from orchestration.lib.ingest import IngestReport, ingest_entity
from orchestration.lib.validation import ExtractFileError

QUARANTINE_CHECK = "quarantine_within_threshold"


def _asset_key(entity: Entity) -> dg.AssetKey:
    return dg.AssetKey([entity.source, entity.name])


def _spec(entity: Entity) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=_asset_key(entity),
        group_name="raw",
        kinds={"python", "duckdb"},
        owners=["team:data-engineering"],
        description=(
            f"{entity.description} New and re-delivered files of "
            f"extracts/{entity.path}/ checked against the contract (Great Expectations) and landed "
            f"in {entity.raw_schema}.{entity.name}; rejected rows go to ingest.quarantined_rows."
        ),
    )


def _quarantine_check_spec(entity: Entity) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        QUARANTINE_CHECK,
        asset=_asset_key(entity),
        blocking=True,
        description="Quarantined rows stay within the threshold share of the rows read in this run.",
    )


# One step, not one per entity: each step opened the warehouse again (0.1 to 0.4 s at a million
# accounts, replaying what the steps before it wrote) and stored its own Dagster events
# (docs/performance.md). Each entity still lands in a transaction of its own, and the connection's
# close checkpoints what they wrote, once, so the build's connections do not replay it.
@dg.multi_asset(
    name="ingest",
    specs=[_spec(entity) for entity in ENTITIES],
    check_specs=[_quarantine_check_spec(entity) for entity in ENTITIES],
    can_subset=True,
)
def ingest(context: dg.AssetExecutionContext):
    """Lands each selected entity; an entity whose file breaks the contract lands nothing and fails
    the step once the other entities have landed."""
    paths = settings.paths()
    page_cache.read_ahead(paths.warehouse_db)
    refused = []
    con = warehouse.connect(paths.warehouse_db)
    try:
        warehouse.ensure_schema(con)
        for entity in ENTITIES:
            if _asset_key(entity) not in context.selected_asset_keys:
                continue
            try:
                report = ingest_entity(con, entity, paths.extracts_dir, settings.quarantine_threshold(), log=context.log.info)
            except (ExtractFileError, warehouse.ExtractNameError) as error:
                refused.append((entity.path, str(error)))
                continue
            yield from _results(context, entity, report)
    finally:
        con.close()
    if refused:
        raise dg.Failure(
            description="\n".join(message for _, message in refused),
            metadata={"entities": [path for path, _ in refused]},
        )


def _results(context: dg.AssetExecutionContext, entity: Entity, report: IngestReport):
    sample = [f"{file} row {row}, column {column}: {reason}" for file, row, column, reason in report.quarantine_sample]
    if report.rows_quarantined:
        context.log.warning(f"{entity.path}: {report.rows_quarantined} rows quarantined, e.g. " + "; ".join(sample))
    if report.rolled_back:
        context.log.error(
            f"{entity.path}: {report.quarantine_rate:.1%} of the rows read were quarantined, more than the "
            f"threshold {report.threshold:.1%}; nothing of these files was landed"
        )
    yield dg.MaterializeResult(
        asset_key=_asset_key(entity),
        metadata={
            "files": _files_table(report),
            "files_unchanged": report.files_unchanged,
            "rows_read": report.rows_read,
            "rows_landed": report.rows_landed,
            "rows_quarantined": report.rows_quarantined,
            "rows_held_back": report.rows_held_back,
        },
    )
    if dg.AssetCheckKey(_asset_key(entity), QUARANTINE_CHECK) in context.selected_asset_check_keys:
        yield dg.AssetCheckResult(
            asset_key=_asset_key(entity),
            check_name=QUARANTINE_CHECK,
            passed=not report.rolled_back,
            metadata={
                "rows_read": report.rows_read,
                "rows_quarantined": report.rows_quarantined,
                "quarantine_rate": report.quarantine_rate,
                "threshold": report.threshold,
                "sample": dg.MetadataValue.json(sample),
            },
        )


FILES_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("file", "string", description="path under extracts/"),
        dg.TableColumn("rows_read", "int"),
        dg.TableColumn("rows_landed", "int"),
        dg.TableColumn("rows_quarantined", "int", description="in ingest.quarantined_rows with row, column, reason"),
        dg.TableColumn("rows_held_back", "int", description="good rows not landed: the entity was rolled back"),
    ]
)


def _files_table(report: IngestReport) -> dg.TableMetadataValue:
    """Per new or re-delivered file: rows_read == rows_landed + rows_quarantined + rows_held_back."""
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "file": counts.file,
                    "rows_read": counts.rows_read,
                    "rows_landed": 0 if report.rolled_back else counts.rows_accepted,
                    "rows_quarantined": counts.rows_quarantined,
                    "rows_held_back": counts.rows_accepted if report.rolled_back else 0,
                }
            )
            for counts in report.files
        ],
        schema=FILES_SCHEMA,
    )
