// The officers' page: read a manifest file (CSV with the contract's column names, or JSON),
// score it with POST /v1/score, show the lines by risk and save them as CSV; record what an
// inspection found with POST /v1/outcomes; for analysts, the model and its reports.
//
// Every value the page shows is set as text (textContent), never parsed as HTML: names and
// descriptions come from manifests. The key stays in this tab (sessionStorage) and is sent
// only to this server, in the X-API-Key header.
"use strict";

const FORMULA_START = /^[=+\-@\t\r]/; // what a spreadsheet would run as a formula

// CSV as RFC 4180 writes it: quoted fields may hold commas, quotes ("") and line breaks.
function parseCsv(text, separator = ",") {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not data
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === "") {
      quoted = true;
    } else if (c === separator) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += c;
    }
  }
  if (quoted) throw new Error("the CSV file ends inside a quoted field");
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ""));
}

// The separator of a CSV text, told by its header line: a comma, or the semicolon or tab that
// spreadsheets write in many locales (the header's names hold none of them).
function separatorOf(text) {
  const header = text.replace(/^\ufeff/, "").split(/\r?\n|\r/, 1)[0];
  let best = ",";
  let most = header.split(",").length - 1;
  for (const candidate of [";", "\t"]) {
    const count = header.split(candidate).length - 1;
    if (count > most) {
      best = candidate;
      most = count;
    }
  }
  return best;
}

// The error of a CSV row that does not split into the header's columns, as the command line
// reports it (field "record", rule wrong_field_count): the row is not sent, the others are.
function badRow(cells, header, line, separator) {
  const text = cells.join(separator);
  const at = (name) => {
    const j = header.indexOf(name);
    return j >= 0 && j < cells.length && cells[j].trim() !== "" ? cells[j].trim() : null;
  };
  return {
    line,
    bl_number: at("bl_number"),
    container_number: at("container_number"),
    errors: [
      {
        field: "record",
        value: text.length > 80 ? `${text.slice(0, 80)}…` : text,
        rule: "wrong_field_count",
        message:
          `line ${line} has ${cells.length} fields where the header has ${header.length} ` +
          "(a separator or a quote too many or missing); it was not sent",
      },
    ],
  };
}

// Manifest lines from a CSV text: one object per row, blank cells left out (a missing field),
// and the rows that do not split into the header's columns (`bad`), numbered as the command
// line and the table number lines (1 = the first row after the header). One such row stopped
// the whole manifest ("CSV row 4 has 44 cells", the table's line 3), where the command line
// rejects that row and reads the rest.
function linesFromCsv(text) {
  const separator = separatorOf(text);
  const rows = parseCsv(text, separator);
  if (rows.length === 0) throw new Error("the CSV file is empty");
  // Names as the contract spells them, whatever the export's case (BL_NUMBER), as files read
  // by the command line are.
  const header = rows[0].map((name) => name.trim().toLowerCase());
  const seen = new Set();
  for (const name of header) {
    if (name === "") throw new Error("the CSV header has an empty column name");
    if (seen.has(name)) throw new Error(`the CSV header names column ${name} twice`);
    seen.add(name);
  }
  const lines = [];
  const bad = [];
  rows.slice(1).forEach((cells, k) => {
    if (cells.length !== header.length) {
      bad.push(badRow(cells, header, k + 1, separator));
      return;
    }
    const line = {};
    header.forEach((name, j) => {
      if (cells[j].trim() !== "") line[name] = cells[j];
    });
    lines.push(line);
  });
  return { lines, bad };
}

// The scoring answer with the CSV rows that were not sent put back in their places: the lines
// sent are numbered as in the file again, and each bad row is a rejected line with its reason.
function withBadRows(answer, bad) {
  if (!bad.length) return answer;
  const skipped = bad.map((b) => b.line).sort((x, y) => x - y);
  const inFile = (position) => {
    let line = position;
    for (const s of skipped) if (s <= line) line++;
    return line;
  };
  const rejected = bad.map((b) => ({
    line: b.line,
    status: "rejected",
    bl_number: b.bl_number,
    container_number: b.container_number,
    risk_score: null,
    rank: null,
    band: null,
    reasons: [],
    rule_hits: [],
    watchlist_hits: [],
    mandatory: false,
    dq_flags: [],
    approximate_history: false,
    errors: b.errors,
  }));
  const lines = answer.lines
    .map((l) => ({ ...l, line: inFile(l.line) }))
    .concat(rejected)
    .sort((a, b) => a.line - b.line);
  const c = answer.counts;
  const counts = { ...c, received: c.received + bad.length, rejected: c.rejected + bad.length };
  return { ...answer, counts, lines };
}

// The text of a file's bytes: UTF-16 when it starts with that byte-order mark (a spreadsheet's
// "Unicode text"), else UTF-8 (a UTF-8 mark is dropped). Bytes that are no UTF-8 (Excel's plain
// "CSV" on Windows is cp1252) are refused: read anyway, every accented name was sent damaged
// ("SOCI\ufffdT\ufffd"), which no watch list then matches.
function textOf(bytes) {
  const data = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  if (data[0] === 0xff && data[1] === 0xfe) return new TextDecoder("utf-16le").decode(data);
  if (data[0] === 0xfe && data[1] === 0xff) return new TextDecoder("utf-16be").decode(data);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch (error) {
    throw new Error(
      "the file is not UTF-8 (a spreadsheet's plain CSV on Windows, say): save it as " +
        '"CSV UTF-8" or "Unicode text", or read it with risk-engine validate and a mapping ' +
        "that names its encoding"
    );
  }
}

// Whether a file is a JSON manifest (by its name, or a text that starts as JSON does).
function isJson(name, text) {
  return /\.json$/i.test(name) || /^\s*[[{]/.test(text);
}

// Manifest lines from a file's name and text: CSV, or JSON ({"lines": [...]} or a list); `bad`
// holds the CSV rows that cannot be sent (`linesFromCsv`).
function linesFromFile(name, text) {
  if (isJson(name, text)) {
    let data;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new Error(`${name} is not valid JSON: ${error.message}`);
    }
    const lines = Array.isArray(data) ? data : data && data.lines;
    if (!Array.isArray(lines)) {
      throw new Error(`${name}: expected {"lines": [...]} or a list of lines`);
    }
    return { lines, bad: [] };
  }
  return linesFromCsv(text);
}

// A CSV export's lines with only the contract's fields (`fields`, from the server's OpenAPI
// description): a column the contract does not have (an export's "remarks") is left out and
// named, as the command line ignores it, instead of every line being rejected for it.
function splitColumns(lines, fields) {
  const known = new Set(fields);
  const ignored = new Set();
  const kept = lines.map((line) => {
    const out = {};
    for (const [name, value] of Object.entries(line)) {
      if (known.has(name)) out[name] = value;
      else ignored.add(name);
    }
    return out;
  });
  return { lines: kept, ignored: [...ignored].sort() };
}

// The answer's lines in the order an officer reads them, as batch screening lists them: the
// lines a mandatory rule or the watch list requires first, then the others; within each, scored
// lines by rank, then rejected ones in file order. Sorted by rank alone, the watch-list lines of
// a 913-line manifest sat at rows 704 to 900.
function byRisk(answer) {
  const group = (l) => (l.mandatory ? 0 : 2) + (l.status === "scored" ? 0 : 1);
  const order = (l) => (l.status === "scored" ? l.rank : l.line);
  return answer.lines.slice().sort((a, b) => group(a) - group(b) || order(a) - order(b));
}

const EXPORT_COLUMNS = [
  "line", "status", "rank", "bl_number", "container_number", "risk_score", "band",
  "mandatory", "reasons", "rule_hits", "watchlist_hits", "dq_flags", "approximate_history",
  "errors",
];

function errorText(e) {
  return `${e.field} ${JSON.stringify(e.value)}: ${e.message || e.rule}`;
}

const APPROXIMATE =
  "history approximate: filed longer before the feature history's cut-off than it keeps exact";

// What the flags column tells of a line: its data-quality flags, a note when its history
// features are approximate, and why a rejected line was not scored.
function lineNotes(line) {
  const notes = (line.dq_flags || []).slice();
  if (line.approximate_history) notes.push(APPROXIMATE);
  return notes.concat((line.errors || []).map(errorText));
}

// A moment of the server's (ISO 8601 with its offset) as UTC to the minute, the zone said: cut
// to "2025-04-30T23:58" it lost its Z beside a form that asks for local time.
function utcText(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return `${when.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// The status line after a manifest is scored.
function scoreSummary(fileName, answer, ignored = []) {
  const c = answer.counts;
  let text =
    `${fileName}: ${c.received} lines, ${c.scored} scored (${c.flagged} with data-quality ` +
    `flags), ${c.rejected} rejected; model version ${answer.model_version}`;
  if (answer.history_as_of) text += `; history up to ${utcText(answer.history_as_of)}`;
  if (c.approximate_history) {
    text += `; ${c.approximate_history} lines with approximate history (filed before it)`;
  }
  if (ignored.length) text += `; columns not in the contract, not sent: ${ignored.join(", ")}`;
  return text;
}

// A cell of the saved CSV: lists joined with " | " (a reason may hold "; " itself: "HS chapter
// 08 (Edible fruit and nuts; peel of citrus fruit)" was split in two).
function cellText(line, column) {
  const value = line[column];
  if (column === "errors") return (value || []).map(errorText).join(" | ");
  if (Array.isArray(value)) return value.join(" | ");
  if (value === null || value === undefined) return "";
  return String(value);
}

// A cell as CSV writes it; text a spreadsheet would run as a formula gets a leading quote, and
// so does each part after a semicolon or a tab: a spreadsheet that splits on them (as in many
// locales, whatever the quotes) read "X;=cmd|..." as two cells, the second one a formula.
function csvCell(text) {
  let safe = FORMULA_START.test(text) ? `'${text}` : text;
  safe = safe.replace(/([;\t\r\n])(?=[=+\-@])/g, "$1'");
  return /[",;\t\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

// The scored manifest as CSV, highest risk first (what "Save as CSV" writes), each line with
// the model version that scored it.
function resultsCsv(answer) {
  const out = [EXPORT_COLUMNS.concat(["model_version"]).join(",")];
  const version = csvCell(String(answer.model_version || ""));
  for (const line of byRisk(answer)) {
    out.push(EXPORT_COLUMNS.map((c) => csvCell(cellText(line, c))).concat([version]).join(","));
  }
  return out.join("\r\n") + "\r\n";
}

// The bytes "Save as CSV" writes: a text beyond ASCII starts with a UTF-8 byte-order mark, as
// Excel's "CSV UTF-8" does. Without it, Excel on Windows read the file in the system's code page
// and a Chinese, Thai or Vietnamese party name showed as mojibake; an ASCII file is unchanged.
function csvFile(text) {
  return /[^\x00-\x7f]/.test(text) ? `\ufeff${text}` : text;
}

// The message of an error answer ({"error": {"code", "message"}}) or of a failed request.
function failureText(status, body) {
  const error = body && body.error;
  // 503: the model is loading, or the database is busy, for a moment
  const again = status === 503 ? "; try again in a moment" : "";
  if (error && error.message) return `${status} ${error.code}: ${error.message}${again}`;
  return `the server answered ${status}${again}`;
}

const UNREACHABLE =
  "the scoring service could not be reached: check that it is running (risk-engine serve) " +
  "and that this computer can reach it, then try again";

// fetch, with the message an officer can act on when the service cannot be reached at all:
// fetch's own error said only "Failed to fetch".
async function reach(path, init) {
  try {
    return await fetch(path, init);
  } catch (error) {
    throw new Error(UNREACHABLE);
  }
}

// What a screen reader names a line's "record outcome" button: 913 buttons of one name could
// not be told apart.
function actionLabel(line) {
  return `record outcome for container ${line.container_number || "?"} on B/L ${line.bl_number || "?"}`;
}

// The selection reason the form proposes for a scored line, as batch screening would give it:
// the watch list or a rule where they make the inspection mandatory, the model for a red line
// (the model selects it), and otherwise none, for the officer to choose. Every line was proposed
// as MODEL: a green or amber one recorded so counted as a model pick in the periodic review.
function reasonFor(line) {
  if (line.mandatory && line.watchlist_hits && line.watchlist_hits.length) return "WATCHLIST";
  if (line.mandatory) return "RULE";
  if (line.band === "red") return "MODEL";
  return "";
}

// A local date and time from the form ("2025-03-28T10:00", the browser's time zone) as UTC; a
// time after ``now`` is refused (the server blamed recorded_at, a field the form does not show).
function localToIso(value, now = new Date()) {
  const when = new Date(value);
  if (!value || Number.isNaN(when.getTime())) throw new Error(`inspected at: ${value || "missing"}`);
  if (when.getTime() > new Date(now).getTime()) {
    throw new Error(`inspected at ${value}: that is in the future`);
  }
  return when.toISOString();
}

// The outcome the form describes (contract section 2): blank fields left out, recorded now.
function outcomeFrom(fields, recordedAt) {
  const outcome = {};
  for (const [name, value] of Object.entries(fields)) {
    const text = value === null || value === undefined ? "" : String(value).trim();
    if (text !== "") outcome[name] = text;
  }
  outcome.recorded_at = recordedAt;
  return outcome;
}

// When the outcome was recorded: now, unless the same form was sent just before (a second
// press of Record), which keeps that time so the server sees the same outcome, not a change.
function recordedAt(previous, fields, now) {
  const key = JSON.stringify(fields);
  if (previous && previous.key === key) return previous;
  return { key, at: now };
}

// Flag rules that keep the value (a check digit, say); any other flag on a recorded outcome
// means its value could not be read and was left out (the contract's FLAG_RULES).
const KEPT_FLAGS = new Set([
  "check_digit", "unknown_port", "description_truncated", "weight_above_container_max",
  "booking_after_filing", "category_without_seizure",
]);

// What the server said of one recorded outcome, in words, and whether it went wrong: a value
// the contract dropped (a quantity written "3,5") was told as plainly "recorded".
function outcomeMessage(answer) {
  const o = answer.outcomes[0];
  const what = `${o.container_number || "?"} on B/L ${o.bl_number || "?"}`;
  if (o.status === "recorded") {
    const flags = o.dq_flags || [];
    const kept = flags.filter((f) => KEPT_FLAGS.has(f.split(":")[1]));
    const dropped = flags.filter((f) => !KEPT_FLAGS.has(f.split(":")[1]));
    let text = `recorded: ${what}`;
    if (kept.length) text += `, flagged ${kept.join(", ")}`;
    if (dropped.length) {
      text += `, but without what the contract could not read: ${dropped.join(", ")} (left out)`;
    }
    return { text, failed: dropped.length > 0 };
  }
  if (o.status === "duplicate") {
    return { text: `already recorded: ${what} (nothing changed)`, failed: false };
  }
  if (o.status === "conflict") {
    const fields = (o.errors || []).map((e) => e.field).join(", ");
    return {
      text:
        `not recorded: ${what} inspected at that time is stored with other values, which were ` +
        `kept` + (fields ? ` (it differs in: ${fields})` : ""),
      failed: true,
    };
  }
  return { text: `not recorded: ${o.errors.map(errorText).join("; ")}`, failed: true };
}

// The served model in a few lines (GET /v1/model), as an analyst reads it.
function modelSummary(info) {
  const out = [`model version ${info.version}, trained ${info.trained_at || "at an unknown time"}`];
  const t = info.thresholds || {};
  if (t.red !== undefined && t.amber !== undefined) {
    out.push(`red from a score of ${t.red.toFixed(4)}, amber from ${t.amber.toFixed(4)}`);
  }
  const w = info.watchlist;
  out.push(
    w
      ? `watch list: ${w.parties} parties, ${w.containers} containers, ${w.bills} B/Ls`
      : "no watch list loaded"
  );
  const r = info.profiles;
  out.push(r ? `risk profiles: ${r.inspect} inspect, ${r.flag} flag` : "no risk profiles loaded");
  out.push(
    info.history_as_of
      ? `feature history: lines filed before ${info.history_as_of} (${info.history_lines} lines)`
      : "feature history: not told"
  );
  for (const [name, value] of Object.entries(info.metrics || {}).sort()) {
    const shown = value === null ? "not a number" : Number.isInteger(value) ? value : value.toPrecision(4);
    out.push(`${name}: ${shown}`);
  }
  return out;
}

// What the served model scored since its version was first loaded against its training data
// (GET /v1/model/drift), in a few lines: warnings first, as they ask for action.
function driftSummary(drift) {
  const share = (value) => (value === null ? "none" : `${(100 * value).toFixed(1)} %`);
  const out = drift.warnings.map((text) => `warning: ${text}`);
  out.push(`scored since the model version was first loaded: ${drift.lines} lines`);
  for (const b of drift.bands) {
    const reference = b.reference_share === null ? "" : ` (training data ${share(b.reference_share)})`;
    out.push(`${b.band}: ${share(b.served_share)}${reference}`);
  }
  if (drift.score_psi !== null) out.push(`scores against the training data: PSI ${drift.score_psi.toFixed(3)}`);
  return out.concat(drift.notes);
}

if (typeof module !== "undefined") {
  module.exports = {
    parseCsv, separatorOf, linesFromCsv, linesFromFile, textOf, splitColumns, byRisk, resultsCsv, csvFile,
    failureText, call, withBadRows,
    actionLabel, reasonFor, localToIso, outcomeFrom, recordedAt, outcomeMessage, modelSummary, driftSummary,
    lineNotes, scoreSummary,
  };
}

// --- the page ------------------------------------------------------------------------------

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function listCell(items) {
  const cell = el("td");
  for (const item of items) cell.appendChild(el("div", item));
  return cell;
}

// The table's column names (its header), which a narrow screen shows before each value.
const COLUMN_NAMES = [
  "rank", "line", "container", "B/L", "score", "band", "must inspect", "watch list and rules",
  "reasons", "data quality, history and errors",
];

function showTable(answer, onlyRisky) {
  const body = document.getElementById("rows");
  body.replaceChildren();
  for (const line of byRisk(answer)) {
    if (onlyRisky && line.status === "scored" && line.band === "green" && !line.mandatory) {
      continue;
    }
    const kind = line.status === "scored" ? line.band : "rejected";
    // a line a rule or the watch list requires is marked whatever its band
    const row = el("tr", undefined, line.mandatory ? `${kind} mandatory` : kind);
    row.appendChild(el("td", line.rank === null ? "" : String(line.rank)));
    row.appendChild(el("td", String(line.line)));
    row.appendChild(el("td", line.container_number || ""));
    row.appendChild(el("td", line.bl_number || ""));
    row.appendChild(el("td", line.risk_score === null ? "" : line.risk_score.toFixed(3)));
    row.appendChild(el("td", line.status === "scored" ? line.band : "rejected"));
    row.appendChild(el("td", line.mandatory ? "yes" : ""));
    row.appendChild(listCell(line.watchlist_hits.concat(line.rule_hits)));
    row.appendChild(listCell(line.reasons));
    row.appendChild(listCell(lineNotes(line)));
    const action = el("td", undefined, "action");
    if (line.status === "scored") {
      const button = el("button", "record outcome");
      button.type = "button";
      button.setAttribute("aria-label", actionLabel(line));
      button.addEventListener("click", () => fillOutcome(line, answer.model_version));
      action.appendChild(button);
    }
    row.appendChild(action);
    // on a narrow screen each row is a card, each value after its column's name (at 375 px only
    // rank, line, container and B/L were in view, the score and band off to the right)
    COLUMN_NAMES.forEach((name, j) => row.children[j].setAttribute("data-label", name));
    body.appendChild(row);
  }
}

function setStatus(text, failed) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = failed ? "failed" : "";
}

// selection_probability: a random control's, from the ranked list, with its model_version;
// without the probability the review leaves the control out of its base rate, and without
// the version it counts it as another policy's draw.
const OUTCOME_FIELDS = [
  "bl_number", "container_number", "selection_reason", "selection_probability", "model_version",
  "inspection_level", "result", "seizure_category", "commodity", "quantity_kg", "operation_phase",
];

// What an inspection found, cleared for each line: the previous line's findings stayed, and a
// second press of Record gave this line the other's seizure.
const FINDINGS = ["inspected_at", "result", "seizure_category", "commodity", "quantity_kg"];

function fillOutcome(line, modelVersion) {
  const form = document.getElementById("outcome");
  for (const name of FINDINGS) form.elements[name].value = "";
  form.elements.bl_number.value = line.bl_number || "";
  form.elements.container_number.value = line.container_number || "";
  form.elements.selection_reason.value = reasonFor(line);
  form.elements.selection_probability.value = ""; // a scored line was not drawn at random
  form.elements.model_version.value = modelVersion || "";
  document.getElementById("outcome-status").textContent = "";
  form.scrollIntoView();
  form.elements.inspected_at.focus();
}

// A call to this server with the officer's key: the response, or an Error with its message.
async function call(path, key, init = {}) {
  const headers = { ...(init.headers || {}), "X-API-Key": key };
  const response = await reach(path, { ...init, headers });
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null; // not JSON: a proxy's page, say
    }
    throw new Error(failureText(response.status, body));
  }
  return response;
}

function download(blob, name) {
  const link = el("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.appendChild(link); // some browsers download only from a link in the page
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

async function showModel(key) {
  const model = document.getElementById("model");
  const reports = document.getElementById("reports");
  model.replaceChildren();
  reports.replaceChildren();
  const info = await (await call("/v1/model", key)).json();
  for (const text of modelSummary(info)) model.appendChild(el("li", text));
  try {
    const drift = await (await call("/v1/model/drift", key)).json();
    for (const text of driftSummary(drift)) model.appendChild(el("li", text));
  } catch (error) {
    model.appendChild(el("li", `against the training data: ${error.message}`));
  }
  const listing = await (await call("/v1/reports", key)).json();
  if (!listing.reports.length) reports.appendChild(el("li", "no reports yet"));
  for (const report of listing.reports) {
    const item = el("li", `${report.name} (${report.kind}, ${report.modified_at}) `);
    const button = el("button", "save");
    button.type = "button";
    button.addEventListener("click", async () => {
      try {
        const page = await (await call(`/v1/reports/${encodeURIComponent(report.name)}`, key)).blob();
        download(page, report.name);
      } catch (error) {
        setModelStatus(error.message);
      }
    });
    item.appendChild(button);
    reports.appendChild(item);
  }
}

function setModelStatus(text) {
  document.getElementById("model-status").textContent = text;
}

// The contract's shipment fields, from the server's own OpenAPI description (read once).
let contractFieldNames = null;
async function contractFields() {
  if (contractFieldNames === null) {
    const response = await reach("/openapi.json");
    if (!response.ok) throw new Error(`the server's description could not be read (${response.status})`);
    const schema = await response.json();
    contractFieldNames = Object.keys(schema.components.schemas.ShipmentLine.properties);
  }
  return contractFieldNames;
}

async function post(path, payload, key) {
  const init = {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  };
  return (await call(path, key, init)).json();
}

function start() {
  const keyInput = document.getElementById("key");
  const fileInput = document.getElementById("manifest");
  const onlyRisky = document.getElementById("only-risky");
  const save = document.getElementById("save");
  let answer = null;
  let ignored = [];
  let fileName = "manifest";
  let asked = 0; // the latest file sent: an answer to an earlier one is not shown over it
  keyInput.value = sessionStorage.getItem("risk-engine-key") || "";
  keyInput.addEventListener("change", () => sessionStorage.setItem("risk-engine-key", keyInput.value));
  onlyRisky.addEventListener("change", () => answer && showTable(answer, onlyRisky.checked));
  save.addEventListener("click", () => {
    if (!answer) return;
    const blob = new Blob([csvFile(resultsCsv(answer))], { type: "text/csv;charset=utf-8" });
    download(blob, `${fileName.replace(/\.[^.]*$/, "")}-scored.csv`);
  });
  document.getElementById("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!keyInput.value) return setStatus("enter your API key first", true);
    if (!file) return setStatus("choose a manifest file (CSV or JSON)", true);
    fileName = file.name;
    save.disabled = true;
    const mine = ++asked;
    let told;
    try {
      const text = textOf(new Uint8Array(await file.arrayBuffer()));
      const read = linesFromFile(file.name, text);
      let lines = read.lines;
      ignored = [];
      if (!isJson(file.name, text)) {
        ({ lines, ignored } = splitColumns(lines, await contractFields()));
      }
      setStatus(`scoring ${lines.length} lines of ${file.name}…`, false);
      told = withBadRows(await post("/v1/score", { lines }, keyInput.value), read.bad);
    } catch (error) {
      if (mine !== asked) return;
      answer = null;
      document.getElementById("rows").replaceChildren();
      return setStatus(error.message, true);
    }
    if (mine !== asked) return; // a later file was sent meanwhile: its answer is the one shown
    answer = told;
    setStatus(scoreSummary(file.name, answer, ignored), false);
    showTable(answer, onlyRisky.checked);
    save.disabled = answer.lines.length === 0;
  });
  document.getElementById("show-model").addEventListener("click", async () => {
    if (!keyInput.value) return setModelStatus("enter your API key first");
    setModelStatus("");
    try {
      await showModel(keyInput.value);
    } catch (error) {
      setModelStatus(error.message);
    }
  });
  const outcomeForm = document.getElementById("outcome");
  const outcomeStatus = document.getElementById("outcome-status");
  let sent = null; // the last outcome sent, and when it was recorded
  outcomeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!keyInput.value) {
      outcomeStatus.textContent = "enter your API key first";
      return;
    }
    try {
      const fields = {};
      for (const name of OUTCOME_FIELDS) fields[name] = outcomeForm.elements[name].value;
      fields.inspected_at = localToIso(outcomeForm.elements.inspected_at.value);
      sent = recordedAt(sent, fields, new Date().toISOString());
      const outcome = outcomeFrom(fields, sent.at);
      const told = await post("/v1/outcomes", { outcomes: [outcome] }, keyInput.value);
      const message = outcomeMessage(told);
      outcomeStatus.textContent = message.text;
      outcomeStatus.className = message.failed ? "failed" : "";
    } catch (error) {
      outcomeStatus.textContent = error.message;
      outcomeStatus.className = "failed";
    }
  });
}

if (typeof document !== "undefined") {
  document.addEventListener("DOMContentLoaded", start);
}
