"""The rules check (dbt generic test `rules_hold`) fails exactly the rows that break a rule, and
each failing row names every rule it breaks.

As in test_anomaly_check, the test's macro is called through `dbt show --inline` on a hand-made table.
"""

import json
import subprocess
import sys
from pathlib import Path

from orchestration import settings


def _sql_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _failing_rows(tmp_path: Path, rows: list[tuple], columns: str, **arguments) -> dict[int, str]:
    values = ", ".join("(" + ", ".join(_sql_value(value) for value in row) + ")" for row in rows)
    model = f"(select * from (values {values}) as t ({columns}))"
    call = "{{ test_rules_hold(model=" + repr(model) + "".join(f", {k}={v!r}" for k, v in arguments.items()) + ") }}"
    shown = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"), "show", "--inline", call,
            "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", json.dumps({"as_of_date": "2024-03-15"}),
            "--limit", "-1", "--output", "json", "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    return {row["id"]: row["failed_rules"] for row in json.loads(shown.stdout)["show"]}


def test_each_failing_row_names_the_rules_it_breaks(data_dir, tmp_path):
    rows = [
        (1, 10, 12, 1),  # keeps both rules
        (2, 10, 8, 1),  # replied before it was opened
        (3, 10, None, 1),  # no reply time although one reply
        (4, 10, 5, -1),  # breaks both rules
        (5, 10, None, 0),  # no reply, none counted: keeps both rules
        (6, None, 12, 1),  # the first rule is NULL, which counts as broken
    ]
    rules = {
        "reply_not_before_open": "replied is null or replied >= opened",
        "reply_time_iff_replies": "(replied is null) = (replies = 0) and replies >= 0",
    }
    assert _failing_rows(tmp_path, rows, "id, opened, replied, replies", rules=rules) == {
        2: "reply_not_before_open",
        3: "reply_time_iff_replies",
        4: "reply_not_before_open, reply_time_iff_replies",
        6: "reply_not_before_open",
    }


def test_not_null_columns_and_accepted_values_are_rules_too(data_dir, tmp_path):
    rows = [
        (1, "open", 1),  # keeps every rule
        (2, "closed", None),  # NULL score: breaks score_not_null; a NULL is an accepted value
        (3, "lost", 2),  # a status not listed
        (4, None, 3),  # NULL status is accepted (status may be NULL); score 3 is not listed
        (5, "it's", 0),  # a listed value with a quote in it
        (-6, "lost", None),  # breaks a rule of each kind, named in that order
    ]
    failing = _failing_rows(
        tmp_path, rows, "id, status, score",
        not_null=["id", "score"],
        accepted_values={"status": ["open", "closed", "it's"], "score": [0, 1, 2]},
        rules={"id_positive": "id > 0"},
    )
    assert failing == {
        2: "score_not_null",
        3: "status_accepted_values",
        4: "score_accepted_values",
        -6: "score_not_null, status_accepted_values, id_positive",
    }
