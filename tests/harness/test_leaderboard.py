"""harness.leaderboard / harness.report / harness.plots: the table from two fixture runs against a stored expected
table (its numbers checked by hand below), the RESULTS.md section update, formats, flags and bad input."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.leaderboard import main
from harness.report import END_MARK, REPORTED, START_MARK, build_leaderboard

RUNS = Path(__file__).resolve().parent / "fixtures" / "runs"
RUN_A, RUN_B = str(RUNS / "run_a"), str(RUNS / "run_b")
EXPECTED = RUNS / "expected_leaderboard.md"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_from_two_runs_matches_the_stored_table(tmp_path, capsys):
    out = tmp_path / "lb.md"
    code, stdout, err = _run([RUN_A, RUN_B, "--out", out], capsys)
    assert code == 0, err
    assert out.read_text(encoding="utf-8") == EXPECTED.read_text(encoding="utf-8")
    assert "| Qwen3-14B (reported)" in stdout and "60.79" in stdout
    for name in ("pass1_by_month.png", "pass1_by_difficulty.png"):
        png = tmp_path / name
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 5000
        assert f"]({name})" in out.read_text(encoding="utf-8")


def test_table_numbers_worked_out_by_hand():
    frame = build_leaderboard([RUN_A, RUN_B], n_bootstrap=1000).set_index("Model")
    a, b = frame.loc["Model A"], frame.loc["Model B"]
    assert a["Pass@1"] == pytest.approx(100 * 2.75 / 6)  # 4/4, 2/4, 1/4, 3/4, 0/4, 1/4
    assert (a["Easy"], a["Medium"], a["Hard"]) == pytest.approx((87.5, 25.0, 25.0))
    assert math.isnan(a["Delta"]) and math.isnan(b["Delta"])  # 6 problems: never compared with the 454-problem rows
    assert a["n"] == "4" and a["Problems"] == 6 and a["Notes"] == ""
    assert "hidden tests not recorded" in b["Notes"] and "isolation unknown" in b["Notes"]  # an older manifest
    assert b["Pass@1"] == pytest.approx(100 * (2 / 3 + 1 + 0.5 + 1 + 0.25 + 0) / 6)
    assert b["n"] == "3-4"
    assert b["Notes"].startswith("possibly contaminated: released 2024-09-15")  # manifest model_release_date
    assert frame.loc["Qwen3-14B (reported)", "Pass@1"] == 60.79
    assert frame.loc["NousCoder-14B (reported)", "Delta"] == pytest.approx(7.08)
    assert set(frame.loc[frame["Source"] == REPORTED].index) == {
        "Qwen3-14B (reported)", "NousCoder-14B (reported)", "NousCoder-14B DAPO @81,920 (reported)",
        "NousCoder-14B GSPO @81,920 (reported)", "NousCoder-14B GSPO+ @81,920 (reported)"}
    assert list(frame["Rank"]) == [1, 1, 3, 4, 5, 1, 2]  # the two 67.87 rows share rank 1; each set ranks apart
    assert frame.loc["Model A", "Set"] == frame.loc["Model B", "Set"] != frame.loc["Qwen3-14B (reported)", "Set"]


def test_release_date_flag_sets_and_clears_the_contamination_note(capsys):
    code, out, _ = _run([RUN_A, RUN_B, "--no-plots", "--format", "json", "--release-date", "Model A=2025-01-02",
                         "--release-date", "Model B=2024-07-01"], capsys)
    assert code == 0
    rows = {r["Model"]: r for r in json.loads(out)}
    assert "released 2025-01-02" in rows["Model A"]["Notes"]
    assert "contaminated" not in rows["Model B"]["Notes"]


def test_csv_and_json_outputs_parse(tmp_path, capsys):
    assert _run([RUN_A, RUN_B, "--no-plots", "--out", tmp_path / "lb.csv"], capsys)[0] == 0
    frame = pd.read_csv(tmp_path / "lb.csv")
    assert list(frame["Model"][:1]) == ["NousCoder-14B (reported)"] and len(frame) == 7
    assert _run([RUN_A, "--no-plots", "--no-reference", "--baseline", "Model A", "--out", tmp_path / "lb.json"],
                capsys)[0] == 0
    rows = json.loads((tmp_path / "lb.json").read_text())
    assert len(rows) == 1 and rows[0]["Delta"] == 0.0 and rows[0]["Source"] == "measured"


def test_update_rewrites_only_the_marked_section(tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    before = f"# Results\n\nintro stays\n\n{START_MARK}\nold table\n{END_MARK}\n\n## Judge\n\nother figures stay\n"
    results.write_text(before, encoding="utf-8")
    assert _run([RUN_A, RUN_B, "--update", results], capsys)[0] == 0
    after = results.read_text(encoding="utf-8")
    head, rest = after.split(START_MARK)
    section, tail = rest.split(END_MARK)
    assert head == "# Results\n\nintro stays\n\n"
    assert tail == "\n\n## Judge\n\nother figures stay\n"
    assert "old table" not in section and "| Model A" in section and "](pass1_by_month.png)" in section
    assert _run([RUN_A, RUN_B, "--update", results], capsys)[0] == 0
    assert results.read_text(encoding="utf-8") == after  # idempotent


def test_update_creates_the_section_when_missing(tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nkeep me", encoding="utf-8")
    assert _run([RUN_A, "--no-plots", "--update", results], capsys)[0] == 0
    text = results.read_text(encoding="utf-8")
    assert text.startswith("# Results\n\nkeep me\n") and text.count(START_MARK) == 1 and text.endswith(END_MARK + "\n")


def test_update_refuses_broken_markers_and_leaves_the_file(tmp_path, capsys):
    results = tmp_path / "RESULTS.md"
    broken = f"{END_MARK}\n{START_MARK}\n"
    results.write_text(broken, encoding="utf-8")
    code, _, err = _run([RUN_A, "--no-plots", "--update", results], capsys)
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    assert results.read_text(encoding="utf-8") == broken


@pytest.mark.parametrize("argv,needle", [
    (["does/not/exist"], "not a run directory"),
    ([RUN_A, "--release-date", "Model A:2025"], "MODEL=YYYY-MM-DD"),
    ([RUN_A, "--baseline", "Nobody"], "baseline 'Nobody'"),
    (["export-official", "does/not/exist", "--out", "x.json"], "not a run directory"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, capsys):
    code, out, err = _run(argv + ["--no-plots"] if argv[0] != "export-official" else argv, capsys)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1 and out == ""


def test_corrupt_manifest_is_a_user_error(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    code, _, err = _run([tmp_path, "--no-plots"], capsys)
    assert code == 2 and "unreadable run files" in err


def test_importing_the_cli_is_cheap():
    probe = ("import sys, harness.leaderboard, harness.scoring, harness.interop; "
             "bad = [m for m in ('torch', 'vllm', 'openai', 'modal', 'matplotlib.pyplot') if m in sys.modules]; "
             "print(bad)")
    res = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_module_entry_point_runs(tmp_path):
    res = subprocess.run([sys.executable, "-m", "harness.leaderboard", RUN_A, RUN_B, "--plots", str(tmp_path)],
                         check=False, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 0, res.stderr
    assert "Qwen3-14B (reported)" in res.stdout and (tmp_path / "pass1_by_month.png").exists()
    assert io.StringIO(res.stderr).read().count("wrote plots") == 1


def test_compare_subcommand(capsys):
    code, out, _ = _run(["compare", RUN_B, RUN_A, "--n-bootstrap", "2000"], capsys)
    assert code == 0
    assert out.startswith("pass@1 A - B = +11.11 points on 6 common problems (A 56.94, B 45.83)")
    code, out, _ = _run(["compare", RUN_A, RUN_A, "--json", "--n-bootstrap", "200"], capsys)
    result = json.loads(out)
    assert code == 0 and result["delta"] == 0 and result["p_value"] == 1.0 and result["n_common"] == 6


def test_imported_official_verdicts_are_labelled_as_such_not_as_measured(tmp_path):
    import json as _json

    from harness.interop import import_eval_all
    from harness.report import IMPORTED, MEASURED, build_leaderboard

    entry = {"question_id": "q1", "platform": "atcoder", "difficulty": "easy", "contest_date": "2024-09-01T00:00:00",
             "code_list": ["print(1)", "print(2)"], "output_list": ["", ""], "graded_list": [True, False],
             "metadata": ["{}", '{"error_code": -2}']}
    (tmp_path / "e.json").write_text(_json.dumps([entry]))
    run = import_eval_all(tmp_path / "e.json", tmp_path / "run", model="m")
    frame = build_leaderboard([run.path])
    row = frame[frame["Model"] == "m"].iloc[0]
    assert row["Source"] == IMPORTED != MEASURED
    assert row["Pass@1"] == 50.0
