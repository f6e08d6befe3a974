"""The HTML report of the publication, written after every nightly publish."""

import dagster as dg

from orchestration import settings
from orchestration.defs.publish import published_metrics
from orchestration.lib.report import CHART_IDS, published_run, run_quality, write_report


@dg.asset(
    key=["serving", "cx_report"],
    deps=[published_metrics],
    group_name="serving",
    kinds={"html"},
    owners=["team:data-engineering"],
    description=(
        "serving/report.html: one self-contained page with the headline metrics, seven charts, the as-of "
        "date and the data-quality outcome of the run that published the tables."
    ),
)
def cx_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    paths = settings.paths()
    # The checks of the run that published the tables: this run in the nightly job, an earlier one
    # when the report alone is rematerialized.
    publishing_run_id = published_run(paths).run_id
    quality = run_quality(context.instance, publishing_run_id)
    output = write_report(paths, paths.report_html, quality)
    context.log.info(f"wrote {output} (data quality: {quality.summary() if quality else 'not recorded'})")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(output)),
            "charts": len(CHART_IDS),
            "published_by_run": publishing_run_id,
        }
    )
