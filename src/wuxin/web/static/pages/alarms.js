// The alarm desk: the list filtered on the server (borrower, type, severity, state, opening dates) with its total,
// each row a one-line summary (device, reading against its threshold); bulk acknowledge / clear of the selected
// alarms with a written reason in a modal dialog and a per-alarm result; the CSV export of the filtered list; and
// one alarm in full (what fired, since when, its history with who and why, its ledger evidence). Every API value
// reaches the page as text (h()).
import { api, apiBlob, apiWithHeaders, session } from "../api.js";
import { code, codesOf, fmtDate, fmtDateTime, fmtNum, getLang, t, unitOf } from "../i18n.js";
import { card, h, table } from "../ui.js";
import { COMMANDERS, commandFromAlarm, commandsCard } from "./commands.js";
import { formDialog } from "./credit_workflow.js";

export const ALARM_PAGE = 100; // alarms per page of the list
const ACTING_ROLES = ["credit_officer", "risk_manager"];
const SEVERITY_BADGE = { critical: "offline", major: "offline", minor: "unknown", warning: "unknown" };
const FILTERS = ["enterprise_id", "alarm_type", "severity", "status", "from", "to"];
const DAY_MS = 86_400_000;

const mayAct = () => ACTING_ROLES.includes(session.me?.role);
const severityBadge = (s) => h("span", { class: `badge ${SEVERITY_BADGE[s] || ""}` }, code("severity", s));

/** The filters in the page's address (#/alarms?status=active&...): a shared link shows the same list. */
function filtersFromHash() {
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  const f = Object.fromEntries(FILTERS.map((k) => [k, q.get(k) || ""]));
  if (!q.has("status")) f.status = "active";
  return f;
}

/** A China calendar day ("2026-12-07") as the epoch ms of its start (UTC+8). */
const chinaDayStart = (day) => Date.parse(`${day}T00:00:00+08:00`);

/** The API query of the filters: codes as given, the date range as [from's start, the day after to's start). */
export function apiQuery(f) {
  const q = new URLSearchParams();
  for (const k of ["enterprise_id", "alarm_type", "severity", "status"]) if (f[k]) q.set(k, f[k]);
  if (f.from) q.set("opened_from_ms", String(chinaDayStart(f.from)));
  if (f.to) q.set("opened_to_ms", String(chinaDayStart(f.to) + DAY_MS));
  return q;
}

async function fetchPage(f, beforeId) {
  const q = apiQuery(f);
  q.set("limit", String(ALARM_PAGE));
  if (beforeId) q.set("before_id", String(beforeId));
  const { data, headers } = await apiWithHeaders(`/api/v1/alarms?${q}`);
  return { rows: data, total: Number(headers.get("X-Total-Count")), next: headers.get("X-Next-Before-Id") };
}

/** A value with the explanation's unit (shares as percent). */
function withUnit(value, unit) {
  if (value == null) return "—";
  if (unit === "1") return `${fmtNum(value * 100, 1)}%`;
  return `${fmtNum(value, 2)}${unit ? ` ${code("unit", unit)}` : ""}`;
}

const metricLabel = (e) => e.metric ? code(e.metric_kind, e.metric) : null;
const unitOfExplanation = (e) => e.unit || (e.metric_kind === "metric" || e.metric_kind === "indicator" ? unitOf(e.metric_kind, e.metric) : null);

/** "电流 32.5 A 高于 阈值 30 A": the reading against its line, in words of the user's language; an alarm on an event
 * without a reading says the event ("接打电话" under 驾驶行为), unless its type already says it (防拆报警). */
export function readingSummary(e, alarmType = null) {
  if (!e || e.value == null) {
    const event = (e?.facts || []).find((f) => f.key === "event")?.value;
    const said = event != null && !String(alarmType || "").split("_").includes(event);  // device_tamper: tamper said
    return [metricLabel(e || {}), said ? code("event", event) : null].filter(Boolean).join(" · ");
  }
  const unit = e.unit;
  const line = e.threshold ?? (e.comparison === "below" ? e.low : e.comparison === "above" ? e.high : null);
  const parts = [`${metricLabel(e)} ${withUnit(e.value, unit)}`];
  if (line != null) parts.push(`${e.comparison ? code("comparison", e.comparison) + " " : ""}${code("alarm_field", "threshold")} ${withUnit(line, unit)}`);
  else if (e.baseline != null) parts.push(`${code("alarm_field", "baseline")} ${withUnit(e.baseline, unit)}`);
  return parts.join(" · ");
}

export function deviceSummary(a) {
  const d = a.device;
  const loan = /^loan:(\d+)/.exec(a.source || "");
  if (!d) return loan ? `${t("loans")} #${loan[1]}` : "—";
  return [d.key, d.device_type ? code("device_type", d.device_type) : null, d.site_name].filter(Boolean).join(" · ");
}

export async function alarmsPage() {
  const f = filtersFromHash();
  const [first, enterprises] = await Promise.all([fetchPage(f, null), api("/api/v1/enterprises")]);
  const rows = [...first.rows];
  const selected = new Set();
  const result = h("div", { id: "alarm-result", "data-bulk-result": "" });
  storedResult(result);
  const listBox = h("div");
  const total = h("p", { class: "muted", "data-alarm-total": first.total }, t("alarm_total", { n: fmtNum(first.total) }));
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));

  const bulkButtons = mayAct() ? ["acknowledge", "clear"].map((action) => h("button", {
    class: action === "clear" ? "danger" : "primary", "data-bulk": action, disabled: true,
    onclick: () => actionDialog(action, [...selected], (out) => { showResult(result, out); refresh(); }),
  }, t(action === "acknowledge" ? "ack_selected" : "clear_selected"))) : [];
  const syncButtons = () => {
    for (const b of bulkButtons) b.disabled = selected.size === 0;
    for (const b of bulkButtons) b.textContent = `${t(b.dataset.bulk === "acknowledge" ? "ack_selected" : "clear_selected")} (${selected.size})`;
  };
  const check = (a) => h("input", { type: "checkbox", "data-select": a.id, "aria-label": `#${a.id}`, onchange: (e) => {
    if (e.target.checked) selected.add(a.id); else selected.delete(a.id);
    syncButtons();
  } });
  const selectAll = h("input", { type: "checkbox", "data-select-all": "", "aria-label": t("select_all"), onchange: (e) => {
    for (const box of listBox.querySelectorAll("[data-select]")) {
      box.checked = e.target.checked;
      if (box.checked) selected.add(Number(box.dataset.select)); else selected.delete(Number(box.dataset.select));
    }
    syncButtons();
  } });
  const one = (action, a) => () => actionDialog(action, [a.id], (out) => { showResult(result, out); refresh(); });
  const columns = [
    ...(mayAct() ? [{ title: selectAll, render: check }] : []),
    { title: "#", render: (a) => h("a", { href: `#/alarm/${a.id}`, "data-detail": a.id }, String(a.id)) },
    { title: t("severity"), render: (a) => severityBadge(a.severity) },
    { title: t("type"), render: (a) => code("alarm_type", a.alarm_type) },
    { title: code("alarm_field", "device"), render: (a) => h("span", { "data-alarm-device": a.id }, deviceSummary(a)) },
    { title: t("alarm_reading"), render: (a) => h("span", { "data-alarm-reading": a.id }, readingSummary(a.explanation, a.alarm_type)) },
    { title: code("alarm_field", "borrower"), render: (a) => a.enterprise_id ? h("a", { href: `#/enterprise/${a.enterprise_id}` }, a.enterprise_name || `#${a.enterprise_id}`) : "—" },
    { title: t("started"), render: (a) => fmtDateTime(a.started_ms) },
    { title: t("last_seen"), render: (a) => fmtDateTime(a.last_ms) },
    { title: t("occurrences"), num: true, render: (a) => fmtNum(a.occurrences) },
    { title: t("status"), render: (a) => h("span", { "data-alarm-status": a.id }, code("alarm_state", a.status)) },
    { title: "", render: (a) => h("span", { class: "row" },
      mayAct() && a.status === "active" ? h("button", { "data-ack": a.id, onclick: one("acknowledge", a) }, t("acknowledge")) : null,
      mayAct() && a.status !== "cleared" ? h("button", { class: "danger", "data-clear": a.id, onclick: one("clear", a) }, t("clear")) : null) },
  ];
  let next = first.next;
  const draw = () => listBox.replaceChildren(...[
    rows.length ? table(columns, rows) : h("p", { class: "muted", "data-empty": "alarms" }, t("none")),
    next ? h("button", { "data-more": "alarms", onclick: async () => {
      const page = await fetchPage(f, next);
      rows.push(...page.rows); next = page.next; draw();
    } }, t("more_alarms")) : null].filter(Boolean));
  draw();
  return h("div", {}, h("h1", {}, t("nav_alarms")), filterForm(f, enterprises),
    card(null, h("div", { class: "row" }, total, ...bulkButtons,
      h("button", { "data-export": "csv", onclick: () => exportCsv(f, result) }, t("export_csv"))), result, listBox));
}

function filterForm(f, enterprises) {
  const select = (name, options, all) => h("label", { class: "field" }, h("span", {}, code("alarm_field", name === "enterprise_id" ? "borrower" : name)),
    (() => {
      const s = h("select", { name, "data-filter": name }, h("option", { value: "" }, all), options.map(([v, label]) => h("option", { value: v }, label)));
      s.value = f[name];
      return s;
    })());
  const day = (name, title) => h("label", { class: "field" }, h("span", {}, t(title)),
    h("input", { type: "date", name, "data-filter": name, value: f[name] || null }));
  const form = h("form", { class: "card filters row", "data-alarm-filters": "" },
    select("enterprise_id", enterprises.map((e) => [String(e.id), e.name]), t("all")),
    select("alarm_type", codesOf("alarm_type").map((c) => [c, code("alarm_type", c)]).sort((a, b) => a[1].localeCompare(b[1])), t("all")),
    select("severity", ["critical", "major", "minor", "warning"].map((c) => [c, code("severity", c)]), t("all")),
    select("status", ["active", "acknowledged", "cleared"].map((c) => [c, code("alarm_state", c)]), t("all")),
    day("from", "opened_from"), day("to", "opened_to"),
    h("button", { type: "submit", class: "primary", "data-apply": "" }, t("apply_filters")),
    h("button", { type: "button", "data-reset": "", onclick: () => { location.hash = "#/alarms"; } }, t("reset_filters")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    const q = new URLSearchParams();
    for (const k of FILTERS) q.set(k, values[k] || "");  // an empty status means every state, not the default
    location.hash = `#/alarms?${q}`;
  });
  return form;
}

/** The modal: a required written reason for acknowledging or clearing `ids`; `done(result)` gets the server's
 * per-alarm answer. */
function actionDialog(action, ids, done) {
  const title = t(action === "acknowledge" ? "ack_dialog" : "clear_dialog", { n: fmtNum(ids.length) });
  formDialog(title, [{ name: "reason", label: t(action === "acknowledge" ? "ack_reason" : "clear_reason"), textarea: true,
    required: true, minlength: 3, placeholder: t(action === "acknowledge" ? "ack_default" : "clear_default") }],
  async (values) => done(await api("/api/v1/alarms/bulk", { method: "POST", body: { action, ids, reason: values.reason } })),
  `alarm-${action}`);
}

/** The per-alarm answer stays on the page after the list reloads: what was done, and each failure with why. */
function showResult(box, out) {
  sessionStorage.setItem("wuxin.alarmResult", JSON.stringify(out));
  renderResult(box, out);
}

/** The answer of the action that reloaded this page, shown once. */
function storedResult(box) {
  const stored = sessionStorage.getItem("wuxin.alarmResult");
  if (stored) { renderResult(box, JSON.parse(stored)); sessionStorage.removeItem("wuxin.alarmResult"); }
}

function renderResult(box, out) {
  const failed = out.results.filter((r) => !r.ok);
  box.replaceChildren(h("p", { class: failed.length ? "error" : "muted", "data-bulk-done": out.done, "data-bulk-failed": out.failed },
    t("bulk_result", { done: fmtNum(out.done), failed: fmtNum(out.failed), action: code("alarm_action", out.action) })),
  failed.length ? h("ul", {}, failed.map((r) => h("li", { "data-bulk-error": r.id }, `#${r.id}: ${r.message}`))) : null);
}

/** Download the filtered list as CSV (headers in the user's language). */
async function exportCsv(f, note) {
  const q = apiQuery(f);
  q.set("lang", getLang() === "en" ? "en" : "zh-CN");
  try {
    const blob = await apiBlob(`/api/v1/alarms/export.csv?${q}`);
    const a = h("a", { href: URL.createObjectURL(blob), download: "alarms.csv" });
    document.body.append(a); a.click(); a.remove();
  } catch (err) { note.replaceChildren(h("p", { class: "error" }, err.message)); }
}

// ---------------------------------------------------------------- one alarm

export async function alarmDetail(id) {
  const a = await api(`/api/v1/alarms/${id}`);
  const e = a.explanation, d = a.device || {};
  const unit = unitOfExplanation(e);
  const result = h("div", { "data-bulk-result": "" });
  storedResult(result);
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const act = (action) => () => actionDialog(action, [a.id], (out) => { showResult(result, out); refresh(); });
  const row = (field, value, attr) => [h("dt", {}, field), h("dd", attr || {}, value ?? "—")];
  const band = e.low != null || e.high != null ? `${withUnit(e.low, e.unit)} – ${withUnit(e.high, e.unit)}` : null;
  const span = e.window_days != null ? `${fmtNum(e.window_days)} ${t("days")}` : e.window_s != null ? `${fmtNum(e.window_s)} ${code("unit", "s")}` :
    e.from_ms != null ? `${fmtDateTime(e.from_ms)} – ${fmtDateTime(e.to_ms)}` : null;
  const fired = h("dl", { class: "facts", "data-alarm-explanation": a.id },
    row(code("alarm_field", "borrower"), a.enterprise_id ? h("a", { href: `#/enterprise/${a.enterprise_id}` }, a.enterprise_name || `#${a.enterprise_id}`) : null),
    row(code("alarm_field", "device"), d.key && a.enterprise_id ? h("a", { href: `#/device/${a.enterprise_id}/${encodeURIComponent(d.key)}`, "data-alarm-device-key": d.key }, d.key) : d.key),
    row(code("alarm_field", "device_type"), d.device_type ? code("device_type", d.device_type) : null),
    row(code("alarm_field", "site"), [d.site_name, d.site_region].filter(Boolean).join(" · ") || null),
    row(code("alarm_field", "metric"), metricLabel(e), { "data-alarm-metric": e.metric || "" }),
    row(code("alarm_field", "value"), e.value != null ? withUnit(e.value, e.unit) : null, { "data-alarm-value": e.value ?? "" }),
    row(code("alarm_field", "threshold"), e.threshold != null ? `${e.comparison ? code("comparison", e.comparison) + " " : ""}${withUnit(e.threshold, e.unit)}` : band,
      { "data-alarm-threshold": e.threshold ?? "" }),
    row(code("alarm_field", "baseline"), e.baseline != null ? withUnit(e.baseline, e.unit) : null),
    row(code("alarm_field", "unit"), unit ? code("unit", unit) : null),
    row(code("alarm_field", "window"), span),
    e.threshold_from ? row(t("threshold_from"), getLang() === "en" ? e.threshold_from.en : e.threshold_from.zh) : null,
    row(t("condition_since"), e.since_ms != null ? fmtDateTime(e.since_ms) : null),
    row(code("alarm_field", "opened"), fmtDateTime(a.started_ms)),
    row(code("alarm_field", "last_seen"), fmtDateTime(a.last_ms)),
    row(code("alarm_field", "occurrences"), fmtNum(a.occurrences)),
    row(code("alarm_field", "rule_id"), a.rule_label ? h("span", { title: a.rule_id }, getLang() === "en" ? a.rule_label.en : a.rule_label.zh) : null),
    ...e.facts.map(factRow).filter(Boolean).map(([k, v]) => row(code("alarm_fact", k), v, { "data-fact": k })));
  const history = table([
    { title: t("alarm_when"), render: (x) => fmtDateTime(x.at_ms) },
    { title: t("alarm_what"), render: (x) => h("span", { "data-history-action": x.action }, code("alarm_action", x.action)) },
    { title: t("alarm_who"), render: (x) => x.username || (x.user_id == null ? t("alarm_platform") : `#${x.user_id}`) },
    // a person's reason as written; the platform's own (an English audit line) as the rule's label in the reader's language
    { title: t("reason"), render: (x) => h("span", { "data-history-reason": "" }, x.user_id != null ? x.reason
      : a.rule_label ? (getLang() === "en" ? a.rule_label.en : a.rule_label.zh) : "—") },
  ], a.history);
  const ev = a.evidence;
  const evidence = ev.entries.length ? h("div", {},
    table([{ title: t("ledger_leaf"), num: true, render: (x) => String(x.leaf_index) },
      { title: t("alarm_when"), render: (x) => fmtDateTime(x.created_ms) },
      { title: "", render: (x) => h("button", { "data-proof": x.leaf_index, onclick: () => download(x.proof_path, `alarm-${a.id}-entry-${x.leaf_index}.json`) }, t("show_proof")) }],
    ev.entries),
    h("button", { "data-evidence-bundle": a.id, onclick: () => download(ev.bundle_path, `alarm-${a.id}-evidence.json`) }, t("evidence_bundle")))
    : h("p", { class: "muted" }, t("none"));
  return h("div", { "data-alarm": a.id },
    h("p", {}, h("a", { href: "#/alarms", "data-back": "" }, `← ${t("nav_alarms")}`)),
    h("h1", {}, `#${a.id} ${code("alarm_type", a.alarm_type)} `, severityBadge(a.severity), " ",
      h("span", { class: "badge", "data-alarm-state": a.status }, code("alarm_state", a.status))),
    h("p", { class: "muted" }, readingSummary(e, a.alarm_type)),
    result,
    mayAct() ? h("div", { class: "row" },
      a.status === "active" ? h("button", { class: "primary", "data-ack": a.id, onclick: act("acknowledge") }, t("acknowledge")) : null,
      a.status !== "cleared" ? h("button", { class: "danger", "data-clear": a.id, onclick: act("clear") }, t("clear")) : null) : null,
    card(t("alarm_what_fired"), fired), card(t("alarm_history"), history), card(t("alarm_evidence"), evidence),
    // commands prompted by this alarm, and the request dialog for its vehicle (pages/commands.js)
    h("div", { id: "alarm-commands" }, commandsCard(`/api/v1/alarms/${a.id}/commands`, {
      request: a.device_id && COMMANDERS.includes(session.me?.role) ? () => commandFromAlarm(a) : null })));
}

// String facts shown as written (names of places and lots) or through a label; other strings (a rule's English
// sentence, internal test names) stay in the API and the evidence bundle.
const NAMED_FACTS = new Set(["zone", "zone_id", "lot"]);
const CODED_FACTS = { event: "event", direction: "comparison" };

/** [key, text] of one plain fact of the alarm's detail, or null when it has no words for a person. */
function factRow({ key, value }) {
  if (typeof value === "number") {
    if (key.endsWith("_ms")) return [key, fmtDateTime(value)];
    if (key === "day" || key.endsWith("_day")) return [key, fmtDate(value * DAY_MS)];
    return [key, fmtNum(value, 4)];
  }
  if (NAMED_FACTS.has(key)) return [key, String(value)];
  if (CODED_FACTS[key]) return [key, code(CODED_FACTS[key], value)];
  return null;
}

async function download(path, filename) {
  const blob = await apiBlob(path);
  const link = h("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link); link.click(); link.remove();
}
