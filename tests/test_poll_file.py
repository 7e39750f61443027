"""`forecast polls add` and `forecast update`: validated atomic appends, refreshed report."""

import hashlib
import json
import shutil

import pandas as pd
import pytest

from forecast.cli import main
from forecast.poll_file import add_polls
from forecast.problems import InputError

HEADER = ("pollster,field_start,field_end,published,sample_size,mode,basis,partial,"
          "amlo,anaya,meade,zavala,rodriguez,rios_piter,other,undecided,source")
NEW = "Nueva Encuesta,2018-06-26,2018-06-28,2018-06-29,1000,face_to_face,raw,,45,22,17,,5,,,11,x"


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(tmp_path, *rows, header=HEADER):
    path = tmp_path / "new.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_good_row_lands(mx2018_copy, tmp_path, capsys):
    poll_file = mx2018_copy / "president.csv"
    before = poll_file.read_bytes()
    code = main(["polls", "add", str(mx2018_copy), str(_rows(tmp_path, NEW))])
    assert code == 0
    assert "95 -> 96 polls" in capsys.readouterr().out
    after = poll_file.read_bytes()
    assert after.startswith(before)
    assert after[len(before):].decode() == NEW + "\n"
    assert not list(mx2018_copy.glob(".*"))  # no temporary files left behind


def test_subset_of_columns_is_filled_blank(mx2018_copy, tmp_path):
    header = "pollster,field_start,field_end,sample_size,basis,amlo,anaya,meade,rodriguez,undecided"
    row = "Otra,2018-06-26,2018-06-27,800,raw,44,23,18,5,10"
    added = add_polls(mx2018_copy, _rows(tmp_path, row, header=header))
    assert added.polls_after == 96
    last = (mx2018_copy / "president.csv").read_text(encoding="utf-8").splitlines()[-1]
    assert last == "Otra,2018-06-26,2018-06-27,,800,,raw,,44,23,18,,5,,,10,"


@pytest.mark.parametrize(("row", "message"), [
    (NEW.replace("2018-06-26", "26/06/2018"),
     ":2:field_start: '26/06/2018' is not a date: expected YYYY-MM-DD (or YYYY-MM for a "
     "month)"),
    (NEW.replace(",45,", ",x,"), ":2:amlo: 'x': expected a percentage between 0 and 100"),
    (NEW.replace(",11,x", ",40,x"),
     ":2:amlo: shares sum to 129: expected candidates + other + undecided = 100 ± 2.5, or "
     "partial = 1 if some options were not reported"),
    (NEW.replace(",1000,", ",-3,"),
     ":2:sample_size: '-3': expected a positive whole number of interviews"),
    (NEW.replace(",raw,", ",gross,"),
     ":2:basis: 'gross': expected 'raw' (undecided in the base) or 'effective' (undecided "
     "removed)"),
    (NEW.replace("2018-06-26,2018-06-28", "2018-06-28,2018-06-26"),
     ":2:field_end: field_end 2018-06-26 is before field_start 2018-06-28: expected start <= end"),
    (NEW.replace("2018-06-26,2018-06-28,2018-06-29", "2018-07-02,2018-07-03,2018-07-04"),
     ":2:field_start: 2018-07-02 is outside the campaign window 2017-09-08 .. 2018-07-01"),
])
def test_bad_rows_exit_nonzero_and_leave_file_unchanged(mx2018_copy, tmp_path, capsys, row,
                                                        message):
    poll_file = mx2018_copy / "president.csv"
    digest = _sha(poll_file)
    rows = _rows(tmp_path, row)
    code = main(["polls", "add", str(mx2018_copy), str(rows)])
    assert code == 2
    assert f"{rows}{message}" in capsys.readouterr().err
    assert _sha(poll_file) == digest


def test_duplicate_of_existing_poll_refused(mx2018_copy, tmp_path):
    poll_file = mx2018_copy / "president.csv"
    digest = _sha(poll_file)
    existing = poll_file.read_text(encoding="utf-8").splitlines()[-1]
    rows = _rows(tmp_path, existing)
    with pytest.raises(InputError) as info:
        add_polls(mx2018_copy, rows)
    assert [str(p) for p in info.value.problems] == [
        f"{rows}:2:pollster: duplicate poll: already in {poll_file} at line 96"]
    assert _sha(poll_file) == digest


def test_unknown_column_refused(mx2018_copy, tmp_path):
    rows = _rows(tmp_path, NEW + ",1", header=HEADER + ",bogus")
    digest = _sha(mx2018_copy / "president.csv")
    with pytest.raises(InputError) as info:
        add_polls(mx2018_copy, rows)
    assert str(info.value.problems[0]).startswith(f"{rows}:1:bogus: unknown column")
    assert _sha(mx2018_copy / "president.csv") == digest


@pytest.mark.slow
def test_update_refreshes_report_and_timeline(synthetic, tmp_path):
    source, _ = synthetic
    election = tmp_path / "election"
    shutil.copytree(source, election)
    out = tmp_path / "out"
    fast = ["--draws", "200", "--tune", "300", "--chains", "2"]
    assert main(["run", str(election), "--out", str(out), *fast]) == 0
    first = json.loads((out / "summary.json").read_text())
    pd.DataFrame([{"as_of": "2030-01-01", "candidate": "ana", "p_win": 0.5}]).to_csv(
        out / "timeline.csv", index=False)
    table = pd.read_csv(election / "president.csv")
    last = table.iloc[-1]
    row = last.copy()
    row["field_start"] = row["field_end"] = "2030-05-02"
    row.to_frame().T.to_csv(tmp_path / "new.csv", index=False)
    assert main(["polls", "add", str(election), str(tmp_path / "new.csv")]) == 0
    assert main(["update", str(election), "--out", str(out), *fast]) == 0
    second = json.loads((out / "summary.json").read_text())
    assert second["polls_used"] == first["polls_used"] + 1
    assert second["as_of"] == "2030-05-02"
    timeline = pd.read_csv(out / "timeline.csv")
    assert "2030-05-02" in set(timeline["as_of"])
    assert "2030-05-02" in set(pd.read_csv(out / "chart_timeline.csv")["as_of"])
    assert "id='fig-timeline'" in (out / "index.html").read_text(encoding="utf-8")
