"""The officers' web page: served by the real server, with its script's logic run in Node.

The script's functions (CSV reading, the order of the lines, the CSV it saves) run in Node
against the page's own file, and the lines it reads are scored by the real server. Node is
installed by .ci/run; on a machine without it these cases are skipped, and under CI they fail.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_fakes import manifest

from risk_engine.columns import SHIPMENT_FIELDS
from serve.page import PAGE_POLICY

SCRIPT = Path(__file__).parents[2] / "serve" / "static" / "officer.js"
SAMPLE = Path(__file__).parents[2] / "risk_engine" / "samples" / "shipments_sample.csv"


def _node() -> str:
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        reason = "Node.js is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: .ci/run installs it, so CI must not skip these cases")
        pytest.skip(reason)
    return found


def _js(function: str, *args: Any, tz: str = "UTC") -> Any:
    """Call a function of the page's script in Node (in time zone ``tz``): its result, or
    {"error": message}."""
    program = (
        "const page = require(process.argv[1]);"
        "const args = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "Promise.resolve().then(() => page[process.argv[2]](...args))"  # an async one too
        ".then((value) => ({value}), (e) => ({error: e.message}))"
        ".then((out) => process.stdout.write(JSON.stringify(out)));"
    )
    done = subprocess.run(
        [_node(), "-e", program, str(SCRIPT), function],
        input=json.dumps(args),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "TZ": tz},
    )
    out = json.loads(done.stdout)
    return {"error": out["error"]} if "error" in out else out["value"]


def test_the_page_and_its_files_are_served_with_a_policy_that_allows_only_this_server(
    client: httpx.Client,
) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src 'self'" in PAGE_POLICY and "connect-src 'self'" in PAGE_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    # everything the page loads is on this server, and it runs no inline script
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded == ["/static/favicon.svg", "/static/officer.css", "/static/officer.js"]
    assert "<script>" not in page.text and "http" not in page.text
    for path, kind in (
        ("/static/officer.js", "text/javascript"),
        ("/static/officer.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
        ("/favicon.ico", "image/svg+xml"),  # browsers ask for it whatever the page names
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    script = client.get("/static/officer.js").text
    assert script == SCRIPT.read_text()
    # values from manifests are shown as text, never parsed as HTML
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "eval(" not in script
    # the page is not part of the API document
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_the_page_reads_quoted_csv_as_the_contract_writes_it() -> None:
    text = "\ufeffbl_number,goods_description,transshipment_ports\r\n"
    text += 'BL1,"NUTS, ""CASHEW""\nIN SHELL",SGSIN;MYPKG\r\n'
    text += "BL2,TEA,\r\n\r\n"
    assert _js("linesFromCsv", text)["lines"] == [
        {
            "bl_number": "BL1",
            "goods_description": 'NUTS, "CASHEW"\nIN SHELL',
            "transshipment_ports": "SGSIN;MYPKG",
        },
        {"bl_number": "BL2", "goods_description": "TEA"},  # a blank cell is a missing field
    ]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_the_page_reads_a_spreadsheet_export_with_semicolons_or_tabs(separator: str) -> None:
    # Spreadsheets in many locales save CSV with semicolons; the page read such a header as one
    # column and every line came back rejected with an unknown field.
    header = separator.join(["bl_number", "goods_description", "transshipment_ports"])
    text = f"\ufeff{header}\r\n"
    text += separator.join(
        ["BL1", '"NUTS; CASHEW"', "SGSIN;MYPKG" if separator != ";" else '"SGSIN;MYPKG"']
    )
    text += "\r\n"
    assert _js("separatorOf", text) == separator
    assert _js("linesFromCsv", text)["lines"] == [
        {
            "bl_number": "BL1",
            "goods_description": "NUTS; CASHEW",
            "transshipment_ports": "SGSIN;MYPKG",
        }
    ]
    assert _js("separatorOf", "a,b;c,d\n1;2;3;4;5\n") == ","  # the header decides


def test_the_page_reads_upper_case_names_and_a_utf16_export_as_the_command_line_does() -> None:
    """A customs export names its columns BL_NUMBER; a spreadsheet's "Unicode text" is UTF-16
    with a byte-order mark. The page sent BL_NUMBER as an unknown field (every line rejected)
    and read UTF-16 as UTF-8."""
    text = "BL_NUMBER,Goods_Description\r\nBL1,CAFÉ NUTS\r\n"
    assert _js("linesFromCsv", text)["lines"] == [
        {"bl_number": "BL1", "goods_description": "CAFÉ NUTS"}
    ]
    assert _js("linesFromCsv", "hs_code,HS_CODE\n1,2\n")["error"] == (
        "the CSV header names column hs_code twice"
    )
    for encoding, mark in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        data = list(mark + text.encode(encoding))
        assert _js("textOf", data) == text
    assert _js("textOf", list(b"\xef\xbb\xbf" + text.encode("utf-8"))) == text
    # Excel's plain "CSV" on Windows is cp1252: read as UTF-8, every accented name was sent
    # damaged ("CAF\ufffd NUTS") and scored as if nothing were wrong
    refused = _js("textOf", list(text.encode("cp1252")))
    assert refused["error"].startswith("the file is not UTF-8")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "a,a\n1,2\n", "the CSV header names column a twice"),
        ("m.csv", 'a,b\n1,"2\n', "the CSV file ends inside a quoted field"),
        ("m.csv", "", "the CSV file is empty"),
        ("m.json", '{"lines": [', "m.json is not valid JSON"),
        ("m.json", '{"rows": []}', 'm.json: expected {"lines": [...]} or a list of lines'),
    ],
)
def test_a_file_the_page_cannot_read_is_refused_with_a_message_naming_the_problem(
    name: str, text: str, message: str
) -> None:
    assert _js("linesFromFile", name, text)["error"].startswith(message)


def test_a_csv_row_with_the_wrong_number_of_fields_is_rejected_and_the_others_scored(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    """One row with a field too many stopped the whole manifest ("CSV row 4 has 44 cells where
    the header has 43", for the table's line 3), where the command line rejects that row
    (wrong_field_count) and reads the rest. The page sends the other rows and shows that one as
    rejected, numbered as the command line and the table number lines."""
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text())))[:6]
    rows[3] = [*rows[3], "one too many"]  # the file's line 3
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    read = _js("linesFromFile", "day.csv", text.getvalue())
    assert [line["bl_number"] for line in read["lines"]] == [r[0] for r in rows[1:] if r != rows[3]]
    (bad,) = read["bad"]
    assert (bad["line"], bad["bl_number"]) == (3, rows[3][0])
    (error,) = bad["errors"]
    assert (error["field"], error["rule"]) == ("record", "wrong_field_count")
    assert error["message"].startswith(
        f"line 3 has {len(rows[0]) + 1} fields where the header has {len(rows[0])}"
    )
    sent = client.post(
        "/v1/score", json={"lines": read["lines"]}, headers={"X-API-Key": keys["officer"]}
    ).json()
    answer = _js("withBadRows", sent, read["bad"])
    assert [line["line"] for line in answer["lines"]] == [1, 2, 3, 4, 5]
    by_line = {line["line"]: line for line in answer["lines"]}
    assert [by_line[n]["bl_number"] for n in (1, 2, 3, 4, 5)] == [r[0] for r in rows[1:]]
    assert by_line[3]["status"] == "rejected" and by_line[3]["errors"] == bad["errors"]
    assert by_line[4] == {**sent["lines"][2], "line": 4}  # the file's line 4, sent third
    counts = answer["counts"]
    assert (counts["received"], counts["rejected"]) == (5, sent["counts"]["rejected"] + 1)
    saved = list(csv.DictReader(io.StringIO(_js("resultsCsv", answer))))
    told = next(row for row in saved if row["line"] == "3")["errors"]
    assert told.startswith('record "') and ": line 3 has " in told  # the reason in words


def test_the_page_takes_json_as_a_manifest_or_a_list_of_lines() -> None:
    line = {"bl_number": "BL1", "package_count": 3}
    assert _js("linesFromFile", "m.json", json.dumps({"lines": [line]})) == {
        "lines": [line],
        "bad": [],
    }
    assert _js("linesFromFile", "export.txt", json.dumps([line]))["lines"] == [line]


def test_the_error_an_officer_sees_is_the_servers_message() -> None:
    body = {"error": {"code": "invalid_key", "message": "the API key is not valid"}}
    assert _js("failureText", 401, body) == "401 invalid_key: the API key is not valid"
    assert _js("failureText", 502, None) == "the server answered 502"


def test_a_service_that_cannot_be_reached_or_is_loading_is_told_in_words() -> None:
    """With the service down the page said only "Failed to fetch" (fetch's own error)."""
    down = _js("call", "http://127.0.0.1:9/v1/score", "key", {"method": "POST"})
    assert down["error"].startswith("the scoring service could not be reached: check that it")
    loading = {"error": {"code": "model_unavailable", "message": "no model is loaded yet"}}
    assert _js("failureText", 503, loading) == (
        "503 model_unavailable: no model is loaded yet; try again in a moment"
    )
    assert _js("failureText", 503, None) == "the server answered 503; try again in a moment"


def test_a_sample_manifest_read_by_the_page_is_scored_and_saved_highest_risk_first(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    lines = _js("linesFromFile", SAMPLE.name, SAMPLE.read_text())["lines"]
    assert len(lines) == 40 and lines[0]["bl_number"] == "SMPL1000"
    # the sample has broken rows of its own; this one is broken here, with a formula in it
    lines[1]["container_number"] = "CSQU305438"
    lines[1]["bl_number"] = "=HYPERLINK(1)"
    response = client.post(
        "/v1/score", json={"lines": lines}, headers={"X-API-Key": keys["officer"]}
    )
    assert response.status_code == 200
    answer = response.json()
    counts = answer["counts"]
    assert counts["scored"] + counts["rejected"] == 40 and counts["scored"] > 20

    ordered = _js("byRisk", answer)
    scored, rejected = ordered[: counts["scored"]], ordered[counts["scored"] :]
    assert [line["rank"] for line in scored] == list(range(1, counts["scored"] + 1))
    assert all(line["status"] == "rejected" for line in rejected)
    assert 2 in [line["line"] for line in rejected]

    saved = list(csv.DictReader(io.StringIO(_js("resultsCsv", answer))))
    assert [row["line"] for row in saved] == [str(line["line"]) for line in ordered]
    broken = next(row for row in saved if row["line"] == "2")
    assert broken["status"] == "rejected" and broken["rank"] == ""
    assert broken["bl_number"] == "'=HYPERLINK(1)"  # written as text, not as a formula
    assert 'container_number "CSQU305438"' in broken["errors"]
    first = saved[0]
    by_line = {line["line"]: line for line in answer["lines"]}
    assert first["reasons"] == " | ".join(by_line[int(first["line"])]["reasons"])
    assert {row["model_version"] for row in saved} == {answer["model_version"]}
    assert float(first["risk_score"]) == by_line[int(first["line"])]["risk_score"]
    for row in saved:  # no cell a spreadsheet would run
        assert not any(value[:1] in ("=", "+", "-", "@") for value in row.values() if value)


def _line(line: int, rank: int | None, **fields: Any) -> dict[str, Any]:
    """A line of a scoring answer: scored with ``rank``, or rejected when it is None."""
    return {
        "line": line,
        "status": "scored" if rank is not None else "rejected",
        "rank": rank,
        "bl_number": f"BL{line}",
        "container_number": f"CONT{line}",
        "risk_score": None if rank is None else 1 / (rank + 1),
        "band": None if rank is None else "green",
        "mandatory": False,
        "reasons": [],
        "rule_hits": [],
        "watchlist_hits": [],
        "dq_flags": [],
        "errors": [],
        **fields,
    }


def test_watch_list_and_mandatory_lines_come_first_as_batch_screening_lists_them() -> None:
    """The page sorted scored lines by rank alone: the seven watch-list lines of a 913-line
    manifest sat at rows 704 to 900, where batch screening lists them first."""
    watched = ["container CONT4 is on the watch list"]
    answer = {
        "model_version": "7",
        "lines": [
            _line(1, 1, band="red"),
            _line(2, None),
            _line(3, 3, mandatory=True, rule_hits=["CITES goods without a permit"]),
            _line(4, 900, mandatory=True, watchlist_hits=watched),
            _line(5, 2),
            _line(6, None, mandatory=True, watchlist_hits=["B/L BL6 is on the watch list"]),
        ],
    }
    assert [line["line"] for line in _js("byRisk", answer)] == [3, 4, 6, 1, 5, 2]
    saved = list(csv.DictReader(io.StringIO(_js("resultsCsv", answer))))
    assert [row["line"] for row in saved] == ["3", "4", "6", "1", "5", "2"]  # as the table
    page = (Path(SCRIPT).parent / "officer.html").read_text()
    assert '"must inspect" lines (watch list or mandatory rule) first, then by rank' in page


def test_an_export_with_columns_outside_the_contract_is_scored_and_the_columns_named(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    """A column the contract lacks (an export's "Remarks") made the server reject every line as
    an unknown field; the page leaves it out, using the server's own description of the
    contract, and says so, as the command line ignores it."""
    fields = client.get("/openapi.json").json()["components"]["schemas"]["ShipmentLine"]
    names = list(fields["properties"])
    assert set(names) == {spec.name for spec in SHIPMENT_FIELDS}
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text())))
    extra = io.StringIO()
    csv.writer(extra).writerows(
        [[*rows[0], "Remarks", "customs_office"], *[[*r, "x", "VN01"] for r in rows[1:]]]
    )
    lines = _js("linesFromFile", "export.csv", extra.getvalue())["lines"]
    split = _js("splitColumns", lines, names)
    assert split["ignored"] == ["customs_office", "remarks"]
    assert split["lines"] == _js("linesFromFile", SAMPLE.name, SAMPLE.read_text())["lines"]
    officer = {"X-API-Key": keys["officer"]}
    sent_all = client.post("/v1/score", json={"lines": lines}, headers=officer).json()
    assert sent_all["counts"]["scored"] == 0  # what the page did before
    answer = client.post("/v1/score", json={"lines": split["lines"]}, headers=officer).json()
    assert answer["counts"]["scored"] > 20
    summary = _js("scoreSummary", "export.csv", answer, split["ignored"])
    assert summary.endswith("; columns not in the contract, not sent: customs_office, remarks")


def test_a_screen_reader_can_tell_the_buttons_the_last_column_and_the_table_apart() -> None:
    """Every row's button was named just "record outcome" (913 alike for a screen reader), the
    last column's header was an empty cell and the table had no caption."""
    line = {"container_number": "CSQU3054383", "bl_number": "MEDU1234567"}
    assert _js("actionLabel", line) == "record outcome for container CSQU3054383 on B/L MEDU1234567"
    assert 'button.setAttribute("aria-label", actionLabel(line))' in SCRIPT.read_text()
    page = (Path(SCRIPT).parent / "officer.html").read_text()
    header = re.search(r"<thead>(.*)</thead>", page, re.DOTALL)
    assert header is not None
    names = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<th[^>]*>(.*?)</th>", header.group(1))
    ]
    assert all(names) and names[-1] == "record outcome"
    caption = re.search(r"<table>\s*<caption>([^<]+)</caption>", page)
    assert caption is not None and caption.group(1).startswith("The manifest's lines")


def test_a_printed_list_leaves_out_the_controls_and_wraps_to_fit_the_page() -> None:
    """The page had no print style: printing cut off the reasons and data-quality columns (a
    902 px table on a 718 px page) and printed the key field, the file chooser, every "record
    outcome" button and the outcome form."""
    folder = Path(SCRIPT).parent
    style = (folder / "officer.css").read_text()
    printed = re.search(r"@media print \{(.*)\n\}", style, re.DOTALL)
    assert printed is not None, "no print style"
    rules = dict(
        (selector.strip(), body.strip())
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", printed.group(1))
    )
    hidden = next(s for s, body in rules.items() if "display: none" in body)
    assert {"#form", "#record", "button", "th.action", "td.action"} <= {
        name.strip() for name in hidden.split(",")
    }
    assert any("overflow-wrap: anywhere" in body for body in rules.values())
    assert "position: static" in rules["th"]  # a sticky header is printed over the rows
    page = (folder / "officer.html").read_text()
    # the hidden parts are the page's own: the scoring form, the outcome section, the last column
    assert '<form id="form">' in page and '<section id="record">' in page
    assert '<th class="action">' in page
    assert 'el("td", undefined, "action")' in SCRIPT.read_text()


def test_on_a_narrow_screen_each_line_is_a_card_with_every_value_named() -> None:
    """At 375 px only rank, line, container and B/L were in view: the score and the band sat
    off to the right. A narrow screen shows each line as a card, each value after its column's
    name, which the script takes from the same list as the table's header."""
    folder = Path(SCRIPT).parent
    style = (folder / "officer.css").read_text()
    narrow = re.search(r"@media screen and \(max-width: 40rem\) \{(.*?)\n\}", style, re.DOTALL)
    assert narrow is not None, "no layout for a narrow screen"
    assert "table, caption, tbody, tr, td { display: block; }" in narrow.group(1)
    assert 'content: attr(data-label) ": "' in narrow.group(1)
    script = SCRIPT.read_text()
    assert 'row.children[j].setAttribute("data-label", name)' in script
    named = re.search(r"const COLUMN_NAMES = \[(.*?)\];", script, re.DOTALL)
    assert named is not None
    page = (folder / "officer.html").read_text()
    header = re.search(r"<thead>(.*)</thead>", page, re.DOTALL)
    assert header is not None
    assert re.findall(r'"([^"]+)"', named.group(1)) == re.findall(
        r"<th>([^<]+)</th>", header.group(1)
    )


def test_the_saved_csv_defuses_formulas_in_any_cell() -> None:
    answer = {
        "lines": [
            {
                "line": 1,
                "status": "scored",
                "rank": 1,
                "bl_number": "=1+1",
                "container_number": "@SUM(A1)",
                "risk_score": 0.5,
                "band": "red",
                "mandatory": False,
                "reasons": ["+cmd"],
                "rule_hits": [],
                "watchlist_hits": [],
                "dq_flags": [],
                "errors": [],
            }
        ]
    }
    (row,) = list(csv.DictReader(io.StringIO(_js("resultsCsv", answer))))
    assert (row["bl_number"], row["container_number"], row["reasons"]) == (
        "'=1+1",
        "'@SUM(A1)",
        "'+cmd",
    )
    # A spreadsheet that splits on semicolons (many locales) took "X;=cmd|..." for two cells,
    # the second a formula: a cell holding one is quoted, so every reader keeps it whole.
    answer["lines"][0]["bl_number"] = "X;=cmd|' /C calc'!A0"
    answer["lines"][0]["reasons"] = ["HS chapter 08 (Edible fruit and nuts; peel of citrus)"]
    text = _js("resultsCsv", answer)
    assert "\"X;'=cmd|' /C calc'!A0\"" in text
    for cells in csv.reader(io.StringIO(text), delimiter=";"):
        assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["reasons"] == "HS chapter 08 (Edible fruit and nuts; peel of citrus)"  # one
    # nor after a line break, where a reader breaking rows at each one starts a row
    answer["lines"][0]["bl_number"] = "12\n=HYPERLINK(1)\r@SUM(2)"
    (row,) = list(csv.DictReader(io.StringIO(_js("resultsCsv", answer))))
    assert row["bl_number"] == "12\n'=HYPERLINK(1)\r'@SUM(2)"


def test_a_saved_csv_beyond_ascii_starts_with_the_mark_excel_reads_as_utf8() -> None:
    """Excel on Windows opened the page's saved CSV in the system's code page: a Vietnamese or
    Chinese party name came out as mojibake. An ASCII file is saved as it was."""
    assert _js("csvFile", "rank,name\r\n1,ACME\r\n") == "rank,name\r\n1,ACME\r\n"
    text = "rank,name\r\n1,CÔNG TY TNHH SEN VÀNG\r\n"
    assert _js("csvFile", text) == "\ufeff" + text
    script = SCRIPT.read_text()
    assert "new Blob([csvFile(resultsCsv(answer))]" in script  # what the Save button writes


def test_an_outcome_from_the_form_is_recorded_once_and_a_changed_one_is_not_overwritten(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    officer = {"X-API-Key": keys["officer"]}
    lines = _js("linesFromFile", SAMPLE.name, SAMPLE.read_text())["lines"][:5]
    answer = client.post("/v1/score", json={"lines": lines}, headers=officer).json()
    line = next(x for x in answer["lines"] if x["status"] == "scored")
    # the officer's form, as the page reads it: blank fields are left out
    inspected = _js("localToIso", "2025-03-28T10:00", tz="Asia/Ho_Chi_Minh")
    assert inspected == "2025-03-28T03:00:00.000Z"  # 10:00 in Hai Phong is 03:00 UTC
    fields = {
        "bl_number": line["bl_number"],
        "container_number": line["container_number"],
        "selection_reason": "MODEL",
        "model_version": answer["model_version"],
        "inspection_level": "PHYSICAL",
        "result": "SEIZURE",
        "seizure_category": "WILDLIFE",
        "commodity": " pangolin scales ",
        "quantity_kg": "",
        "operation_phase": "",
        "inspected_at": inspected,
    }
    outcome = _js("outcomeFrom", fields, "2025-04-02T09:00:00.000Z")
    assert "quantity_kg" not in outcome and outcome["commodity"] == "pangolin scales"
    # a random control's probability, from the ranked list: the review weighs the control by it
    # (the form had no such field, and the review left such a control out of its base rate)
    page = (Path(SCRIPT).parent / "officer.html").read_text()
    assert '<input name="selection_probability"' in page
    assert '"selection_probability"' in Path(SCRIPT).read_text()
    drawn = _js(
        "outcomeFrom",
        {**fields, "selection_reason": "RANDOM_CONTROL", "selection_probability": " 0.05 "},
        "2025-04-02T09:00:00.000Z",
    )
    assert drawn["selection_probability"] == "0.05"

    def record(sent: dict[str, Any], failed: bool = False) -> str:
        told = client.post("/v1/outcomes", json={"outcomes": [sent]}, headers=officer)
        assert told.status_code == 200
        message = _js("outcomeMessage", told.json())
        assert message["failed"] is failed, message  # shown as an error, or not
        text: str = message["text"]
        return text

    what = f"{line['container_number']} on B/L {line['bl_number']}"
    assert record(outcome) == f"recorded: {what}"
    assert record(outcome) == f"already recorded: {what} (nothing changed)"
    changed = {**outcome, "result": "NO_FINDING"}
    changed.pop("seizure_category")
    told = record(changed, failed=True)
    assert told.startswith(f"not recorded: {what} inspected at that time is stored")
    assert told.endswith("(it differs in: result, seizure_category)")  # named, as the server does
    without = {**outcome, "inspected_at": "2025-03-29T10:00:00Z"}
    without.pop("seizure_category")  # a seizure must say what was seized
    assert record(without, failed=True).startswith("not recorded: seizure_category")
    # a quantity the contract cannot read ("3,5") is left out: it was told plainly "recorded"
    comma = {**outcome, "inspected_at": "2025-03-30T10:00:00Z", "quantity_kg": "3,5"}
    assert record(comma, failed=True) == (
        f"recorded: {what}, but without what the contract could not read: "
        "quantity_kg:malformed (left out)"
    )


def test_the_selection_reason_the_form_proposes_follows_what_selected_the_line() -> None:
    """The form proposed MODEL for every line: a green or amber line recorded with it counted
    as a model pick in the periodic review and skewed the model's hit rate. MODEL is proposed
    for a red line only, the watch list or a rule where they made the line mandatory, and
    otherwise nothing: the officer chooses."""
    line = {"watchlist_hits": [], "mandatory": False, "band": "red"}
    assert _js("reasonFor", line) == "MODEL"
    assert _js("reasonFor", {**line, "band": "amber"}) == ""
    assert _js("reasonFor", {**line, "band": "green"}) == ""
    assert _js("reasonFor", {**line, "band": "green", "mandatory": True}) == "RULE"
    watched = {"watchlist_hits": ["B/L X is on the watch list"], "mandatory": True}
    assert _js("reasonFor", {**line, **watched, "band": "green"}) == "WATCHLIST"
    # the form has a blank choice, which it requires to be changed
    page = (Path(SCRIPT).parent / "officer.html").read_text()
    assert '<select name="selection_reason" required><option value=""></option>' in page
    assert _js("localToIso", "not a time") == {"error": "inspected at: not a time"}
    # in the future: the server blamed recorded_at, a field the form does not show
    assert _js("localToIso", "2062-11-29T10:00", "2026-11-30T00:00:00Z") == {
        "error": "inspected at 2062-11-29T10:00: that is in the future"
    }


def test_pressing_record_twice_sends_the_same_outcome_and_a_changed_form_a_new_time() -> None:
    form = {"bl_number": "BL1", "result": "NO_FINDING"}
    first = _js("recordedAt", None, form, "2025-04-02T09:00:00.000Z")
    assert first["at"] == "2025-04-02T09:00:00.000Z"
    assert _js("recordedAt", first, form, "2025-04-02T09:00:05.000Z")["at"] == first["at"]
    changed = {**form, "result": "SEIZURE"}
    assert _js("recordedAt", first, changed, "2025-04-02T09:01:00.000Z")["at"] == (
        "2025-04-02T09:01:00.000Z"
    )


def test_analysts_see_the_model_in_words_and_officers_are_told_their_role_cannot(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    info = client.get("/v1/model", headers={"X-API-Key": keys["analyst"]}).json()
    told = _js("modelSummary", info)
    assert told[0].startswith(f"model version {info['version']}, trained ")
    red, amber = info["thresholds"]["red"], info["thresholds"]["amber"]
    assert told[1] == f"red from a score of {red:.4f}, amber from {amber:.4f}"
    assert told[2:5] == [
        "no watch list loaded",
        "no risk profiles loaded",
        "feature history: not told",  # the test double keeps none
    ]
    shown = [line.split(": ") for line in told[5:]]
    assert [name for name, _ in shown] == sorted(info["metrics"])
    for name, value in shown:  # four significant digits
        assert float(value) == pytest.approx(info["metrics"][name], rel=1e-3)
    assert len(told) > 5
    served = {**info, "watchlist": {"parties": 3, "containers": 1, "bills": 0}}
    served["profiles"] = {"inspect": 2, "flag": 1}
    served["history_as_of"], served["history_lines"] = "2025-04-02T23:59:41+00:00", 1250400
    assert _js("modelSummary", served)[2:5] == [
        "watch list: 3 parties, 1 containers, 0 B/Ls",
        "risk profiles: 2 inspect, 1 flag",
        "feature history: lines filed before 2025-04-02T23:59:41+00:00 (1250400 lines)",
    ]
    refused = client.get("/v1/model", headers={"X-API-Key": keys["officer"]})
    assert refused.status_code == 403
    assert _js("failureText", 403, refused.json()).startswith("403 ")


def test_analysts_see_what_the_model_served_against_its_training_data(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    lines = manifest(8)
    scored = client.post("/v1/score", json={"lines": lines}, headers={"X-API-Key": keys["officer"]})
    bands = [line["band"] for line in scored.json()["lines"]]
    drift = client.get("/v1/model/drift", headers={"X-API-Key": keys["analyst"]}).json()
    told = _js("driftSummary", drift)
    assert told[0] == "scored since the model version was first loaded: 8 lines"
    for band, text in zip(("red", "amber", "green"), told[1:4], strict=True):
        assert text == f"{band}: {100 * bands.count(band) / 8:.1f} %"  # no reference to show
    assert "no reference" in told[4] and len(told) == 5
    shifted = {
        **drift,
        "score_psi": 0.1432,
        "bands": [
            {"band": "red", "reference_share": 0.02, "served_share": 0.041},
            {"band": "amber", "reference_share": 0.03, "served_share": None},
            {"band": "green", "reference_share": 0.95, "served_share": 0.924},
        ],
        "warnings": ["4.1% of the lines are red, against 2.0% of the reference lines"],
        "notes": [],
    }
    assert _js("driftSummary", shifted) == [
        "warning: 4.1% of the lines are red, against 2.0% of the reference lines",
        "scored since the model version was first loaded: 8 lines",
        "red: 4.1 % (training data 2.0 %)",
        "amber: none (training data 3.0 %)",
        "green: 92.4 % (training data 95.0 %)",
        "scores against the training data: PSI 0.143",
    ]


def test_a_line_with_approximate_history_is_told_in_its_row_the_status_and_the_saved_csv() -> None:
    line = {
        "line": 1,
        "status": "scored",
        "rank": 1,
        "bl_number": "BL1",
        "container_number": "CSQU3054383",
        "risk_score": 0.2,
        "band": "amber",
        "mandatory": False,
        "reasons": [],
        "rule_hits": [],
        "watchlist_hits": [],
        "dq_flags": ["hs_code:unknown"],
        "approximate_history": True,
        "errors": [],
    }
    exact = {**line, "line": 2, "rank": 2, "approximate_history": False, "dq_flags": []}
    notes = _js("lineNotes", line)
    assert notes[0] == "hs_code:unknown" and notes[1].startswith("history approximate")
    assert _js("lineNotes", exact) == []
    answer = {
        "model_version": "7",
        "history_as_of": "2025-03-27T00:00:00+00:00",
        "counts": {
            "received": 2,
            "scored": 2,
            "flagged": 1,
            "rejected": 0,
            "approximate_history": 1,
        },
        "lines": [line, exact],
    }
    status = _js("scoreSummary", "m.csv", answer)
    # the zone is said: cut to "2025-03-27T00:00" it lost its Z beside a form in local time
    assert "history up to 2025-03-27 00:00 UTC;" in status
    late = {**answer, "history_as_of": "2025-03-27T06:58:00+07:00"}
    assert "history up to 2025-03-26 23:58 UTC;" in _js(
        "scoreSummary", "m.csv", late, tz="Asia/Ho_Chi_Minh"
    )
    assert "1 lines with approximate history" in status
    quiet = {**answer, "counts": {**answer["counts"], "approximate_history": 0}}
    assert "approximate" not in _js("scoreSummary", "m.csv", quiet)
    saved = list(csv.DictReader(io.StringIO(_js("resultsCsv", answer))))
    assert [row["approximate_history"] for row in saved] == ["true", "false"]


def test_the_outcome_message_tells_a_kept_flag_from_a_value_left_out() -> None:
    # The page's list of flag rules that keep the value follows the contract's FLAG_RULES: a
    # check digit is told as a flag, a value the contract could not read as left out.
    from risk_engine.columns import FLAG_RULES

    def told(flags: list[str]) -> dict[str, Any]:
        answer = {
            "outcomes": [
                {"status": "recorded", "bl_number": "B", "container_number": "C", "dq_flags": flags}
            ]
        }
        message: dict[str, Any] = _js("outcomeMessage", answer)
        return message

    for rule in FLAG_RULES:
        kept = told([f"some_field:{rule.value}"])
        assert not kept["failed"] and "flagged some_field:" in kept["text"], rule
    mixed = told(["container_number:check_digit", "quantity_kg:malformed"])
    assert mixed == {
        "text": "recorded: C on B/L B, flagged container_number:check_digit, but without what "
        "the contract could not read: quantity_kg:malformed (left out)",
        "failed": True,
    }
