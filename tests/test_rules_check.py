"""The rules check (dbt generic test `rules_hold`) fails exactly the rows that break a rule, and
each failing row names every rule it breaks.

As in test_anomaly_check, the test's macro is called through `dbt show --inline` on a hand-made table.
"""

import json
import subprocess
import sys
from pathlib import Path

from orchestration import settings

# id, opened, replied, replies
ROWS = [
    (1, 10, 12, 1),  # keeps both rules
    (2, 10, 8, 1),  # replied before it was opened
    (3, 10, None, 1),  # no reply time although one reply
    (4, 10, 5, -1),  # breaks both rules
    (5, 10, None, 0),  # no reply, none counted: keeps both rules
    (6, None, 12, 1),  # the first rule is NULL, which counts as broken
]
RULES = {
    "reply_not_before_open": "replied is null or replied >= opened",
    "reply_time_iff_replies": "(replied is null) = (replies = 0) and replies >= 0",
}


def _failing_rows(tmp_path: Path) -> dict[int, str]:
    values = ", ".join("(" + ", ".join("null" if value is None else str(value) for value in row) + ")" for row in ROWS)
    model = f"(select * from (values {values}) as tickets (id, opened, replied, replies))"
    call = f"{{{{ test_rules_hold(model={model!r}, rules={RULES!r}) }}}}"
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
    assert _failing_rows(tmp_path) == {
        2: "reply_not_before_open",
        3: "reply_time_iff_replies",
        4: "reply_not_before_open, reply_time_iff_replies",
        6: "reply_not_before_open",
    }
