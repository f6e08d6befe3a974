"""Ingest assets: one per extract entity, keyed like the dbt source that reads it (crm/accounts)."""


import dagster as dg

from orchestration import settings
from orchestration.lib import warehouse
from orchestration.lib.contracts import ENTITIES, Entity
from orchestration.lib.ingest import IngestReport, ingest_entity
from orchestration.lib.validation import ExtractFileError

QUARANTINE_CHECK = "quarantine_within_threshold"


def build_ingest_asset(entity: Entity) -> dg.AssetsDefinition:
    key = dg.AssetKey([entity.source, entity.name])

    @dg.asset(
        key=key,
        group_name="raw",
        kinds={"python", "duckdb"},
        owners=["team:data-engineering"],
        description=(
            f"{entity.description} New and re-delivered files of "
            f"extracts/{entity.path}/ checked against the contract (Great Expectations) and landed "
            f"in {entity.raw_schema}.{entity.name}; rejected rows go to ingest.quarantined_rows."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=key,
                blocking=True,
                description="Quarantined rows stay within the threshold share of the rows read in this run.",
            )
        ],
    )
    def ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        paths = settings.paths()
        warehouse.read_ahead(paths.warehouse_db)
        con = warehouse.connect(paths.warehouse_db, checkpoint_on_close=False)
        try:
            warehouse.ensure_schema(con)
            report = ingest_entity(con, entity, paths.extracts_dir, settings.quarantine_threshold(), log=context.log.info)
        except (ExtractFileError, warehouse.ExtractNameError) as error:
            raise dg.Failure(description=str(error), metadata={"entity": entity.path}) from None
        finally:
            con.close()

        sample = [f"{file} row {row}, column {column}: {reason}" for file, row, column, reason in report.quarantine_sample]
        if report.rows_quarantined:
            context.log.warning(f"{entity.path}: {report.rows_quarantined} rows quarantined, e.g. " + "; ".join(sample))
        if report.rolled_back:
            context.log.error(
                f"{entity.path}: {report.quarantine_rate:.1%} of the rows read were quarantined, more than the "
                f"threshold {report.threshold:.1%}; nothing of these files was landed"
            )
        return dg.MaterializeResult(
            metadata={
                "files": _files_table(report),
                "files_unchanged": report.files_unchanged,
                "rows_read": report.rows_read,
                "rows_landed": report.rows_landed,
                "rows_quarantined": report.rows_quarantined,
                "rows_held_back": report.rows_held_back,
            },
            check_results=[
                dg.AssetCheckResult(
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
            ],
        )

    return ingest


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


ingest_assets = [build_ingest_asset(entity) for entity in ENTITIES]
