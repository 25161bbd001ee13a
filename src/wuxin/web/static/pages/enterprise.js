// The enterprise page (bank view, also the firm's own dashboard parts), the equipment timeline,
// and the device page: readings with their provenance down to the ledger proof of their batch.
import { api, session } from "../api.js";
import { code, hasCode, hasRole, unitOf, withUnit, fmtCny, fmtDate, fmtDateTime, fmtNum, fmtShortDate, t, tOr, TIME_ZONE } from "../i18n.js";
import { card, chart, h, section, table } from "../ui.js";
import { industryLabel } from "./bank.js";
import { creditCards, reportLinks } from "./credit.js";
import { indicatorsCard, peerStanding, proofCard } from "./evidence.js";
import { COMMANDERS, commandsCard, requestCommand, vehicleStateCard } from "./commands.js";

export const params = () => new URLSearchParams(location.hash.split("?")[1] || "");
export const modeLabel = (m) => code("source_mode", m);
const DAY_MS = 86_400_000, SLOT_MS = 900_000;

export async function enterprisePage(id) {
  const profile = await api(`/api/v1/enterprises/${id}`);
  const loading = () => h("p", { class: "muted" }, t("loading"));
  const creditSlot = h("div", {}, loading()), timelineSlot = h("div"), devicesSlot = h("div"), indicatorsSlot = h("div", {}, loading()),
    peersSlot = h("div", {}, loading()), partsSlot = h("div", { class: "grid" });
  const asked = params().get("days"), days = Number(asked || 30);
  const page = h("div", { "data-enterprise": id }, header(profile), creditSlot, timelineSlot,
    h("div", { class: "grid wide-first" }, card(t("indicators"), indicatorsSlot), card(t("peers"), peersSlot)), partsSlot, devicesSlot);
  // The timeline and the devices first (the page's main content), then the credit, indicator and monitoring parts.
  Promise.all([section(timelineSlot, () => timelineCard(id, days, `#/enterprise/${id}`, !asked)),
    section(devicesSlot, () => pagedDevicesCard(id))]).then(() => {
    if (!page.isConnected) return;  // the user moved on
    creditSlot.replaceChildren(creditCards(id));
    section(indicatorsSlot, () => indicatorsCard(profile, Math.max(days, 14)));
    section(peersSlot, () => peerStanding(profile));
    monitoringParts(id, partsSlot, profile);
  });
  return page;
}

function header(p) {
  return h("div", {}, h("div", { class: "row", style: "justify-content:space-between" }, h("h1", {}, p.name), reportLinks(p.id)),
    card(null, h("div", { class: "row" },
      h("span", {}, `${t("uscc")}: `, h("code", {}, p.uscc)), h("span", {}, `${t("industry")}: ${industryLabel(p.industry)}`),
      h("span", {}, `${t("region")}: ${p.region}`),
      h("span", {}, `${t("sites")}: ${p.sites.map((s) => s.name + (s.timezone ? ` (${s.timezone})` : "")).join("、") || "—"}`))));
}

export const DEVICE_PAGE_SIZE = 50;

/** The devices a page at a time (the server pages them), with the groups (site x type) and their counts
 * as filters: a borrower with hundreds of devices shows a short list and what it is made of. */
export async function pagedDevicesCard(enterpriseId) {
  const body = h("div", { "data-devices": enterpriseId });
  const state = { page: 1, site: null, type: null };
  const show = async () => {
    const q = new URLSearchParams({ page: state.page, page_size: DEVICE_PAGE_SIZE });
    if (state.site != null) q.set("site", state.site);
    if (state.type != null) q.set("type", state.type);
    const data = await api(`/api/v1/enterprises/${enterpriseId}/devices?${q}`);
    body.replaceChildren(...devicePageParts(enterpriseId, data, state, (next) => { Object.assign(state, next); show().catch(failed); }));
  };
  const failed = (err) => body.replaceChildren(h("p", { class: "error" }, err.message || String(err)));
  await show();
  return card(t("devices"), body);
}

function devicePageParts(enterpriseId, data, state, go) {
  const all = data.groups.reduce((n, g) => n + g.count, 0);
  const chosen = (g) => g.site_id === state.site && g.device_type === state.type;
  const groupName = (g) => `${g.site || t("no_site")} · ${code("device_type", g.device_type)}`;
  const chips = h("div", { class: "row chips", "data-device-groups": data.groups.length },
    h("button", { class: state.type == null ? "primary" : null, "data-group": "all", onclick: () => go({ page: 1, site: null, type: null }) },
      `${t("all_devices")} (${fmtNum(all)})`),
    data.groups.map((g) => h("button", { class: chosen(g) ? "primary" : null, "data-group": `${g.site_id ?? ""}:${g.device_type}`,
      "data-count": g.count, onclick: () => go({ page: 1, site: g.site_id, type: g.device_type }) }, `${groupName(g)} (${fmtNum(g.count)})`)));
  const pager = h("div", { class: "row", "data-pager": `${data.page}/${data.pages}` },
    h("button", { id: "devices-prev", disabled: data.page <= 1, onclick: () => go({ page: data.page - 1 }) }, `‹ ${t("page_prev")}`),
    h("span", { class: "muted" }, t("page_of", { p: fmtNum(data.page), n: fmtNum(data.pages), total: fmtNum(data.total) })),
    h("button", { id: "devices-next", disabled: data.page >= data.pages, onclick: () => go({ page: data.page + 1 }) }, `${t("page_next")} ›`));
  return [chips, devicesTable(enterpriseId, data.items, true), data.pages > 1 ? pager : h("p", { class: "muted small", "data-pager": "1/1" },
    t("page_of", { p: fmtNum(1), n: fmtNum(1), total: fmtNum(data.total) }))];
}

function devicesTable(enterpriseId, devices, withSite = false) {
  return table([
    withSite ? { title: t("site"), render: (d) => d.site_name || t("no_site") } : null,
    { title: t("key"), render: (d) => h("a", { href: `#/device/${enterpriseId}/${encodeURIComponent(d.key)}` }, d.key) },
    { title: t("type"), render: (d) => code("device_type", d.device_type) },
    { title: t("machine"), render: (d) => d.attributes?.machine_id || d.attributes?.plate || "" },
    { title: t("source_mode"), render: (d) => modeLabel(d.source_mode) },
    { title: t("trust"), num: true, render: (d) => fmtNum(d.trust_level, 1) },
    { title: t("connectivity"), render: (d) => h("span", { class: `badge ${d.connectivity}` }, t(d.connectivity)) },
    { title: t("last_seen"), render: (d) => fmtDateTime(d.last_seen_ms) },
  ].filter(Boolean), devices);
}

function monitoringParts(id, slot, profile) {
  const alarms = h("div"), loans = h("div"), calendar = h("div");
  slot.append(card(t("alarms"), alarms), card(`${t("loans")} / ${t("pledges")}`, loans), card(t("calendar"), calendar));
  section(calendar, () => calendarPart(id, profile, calendar));
  section(alarms, async () => miniTable(await api(`/api/v1/alarms?enterprise_id=${id}&limit=50`),
    [["severity", (a) => code("severity", a.severity)], ["type", (a) => code("alarm_type", a.alarm_type)], ["status", (a) => code("alarm_state", a.status)], ["started", (a) => fmtDateTime(a.started_ms)]]));
  section(loans, async () => miniTable(await api(`/api/v1/loans?enterprise_id=${id}`),
    [["product", (l) => code("product", l.product)], ["state", (l) => code("loan_state", l.state)], ["risk_class", (l) => code("risk_class", l.risk_class)], ["outstanding", (l) => fmtCny(Number(l.outstanding_cny))]]));
}

// ------------------------------------------------------------------ the firm's calendar: shutdowns and maintenance

const PERIOD_KINDS = ["shutdown", "maintenance", "holiday_extra"];

async function calendarPart(id, profile, slot) {
  const [periods, devices] = await Promise.all([api(`/api/v1/enterprises/${id}/calendar`), api(`/api/v1/enterprises/${id}/devices`)]);
  const siteName = Object.fromEntries((profile.sites || []).map((s) => [s.id, `${s.name}${s.timezone ? " (" + s.timezone + ")" : ""}`]));
  const list = periods.length ? table([
    { title: t("period_kind"), render: (p) => code("calendar_kind", p.kind) },
    { title: t("period_from"), render: (p) => fmtDateTime(p.start_ms) }, { title: t("period_to"), render: (p) => fmtDateTime(p.end_ms) },
    { title: t("period_applies"), render: (p) => p.device || siteName[p.site_id] || t("period_whole") },
    { title: t("note"), render: (p) => h("span", { style: "overflow-wrap:anywhere" }, p.note) },
  ], periods.slice(-20)) : h("p", { class: "muted" }, t("none"));
  const error = h("p", { class: "error" });
  const kind = h("select", { id: "period-kind" }, PERIOD_KINDS.map((k) => h("option", { value: k }, code("calendar_kind", k))));
  const start = h("input", { id: "period-start", type: "datetime-local" }), end = h("input", { id: "period-end", type: "datetime-local" });
  const target = h("select", { id: "period-target" }, h("option", { value: "" }, t("period_whole")),
    (profile.sites || []).map((s) => h("option", { value: "site:" + s.id }, siteName[s.id])),
    devices.map((d) => h("option", { value: "device:" + d.key }, d.key)));
  const note = h("input", { id: "period-note", maxlength: 500, style: "min-width:220px" });
  const add = async () => {
    const [what, ref] = target.value ? target.value.split(/:(.*)/s) : [null, null];
    const body = { kind: kind.value, start_ms: new Date(start.value).getTime(), end_ms: new Date(end.value).getTime(), note: note.value,
      site_id: what === "site" ? Number(ref) : null, device: what === "device" ? ref : null };
    if (!Number.isFinite(body.start_ms) || !Number.isFinite(body.end_ms)) { error.textContent = t("period_times_needed"); return; }
    try { await api(`/api/v1/enterprises/${id}/calendar`, { method: "POST", body }); section(slot, () => calendarPart(id, profile, slot)); }
    catch (err) { error.textContent = err.message; }
  };
  return h("div", { "data-testid": "calendar" }, h("p", { class: "muted" }, t("calendar_hint")), list,
    h("div", { class: "row" }, [["period-kind", "period_kind", kind], ["period-start", "period_from", start], ["period-end", "period_to", end],
      ["period-target", "period_applies", target], ["period-note", "note", note]].map(([id, label, control]) =>
      h("div", {}, h("label", { for: id, style: "display:block" }, t(label)), control)),
      h("button", { class: "primary", id: "period-add", onclick: add }, t("period_add"))), error);
}

function miniTable(rows, cols) {
  if (!rows.length) return h("p", { class: "muted" }, t("none"));
  return table(cols.map(([k, f]) => ({ title: t(k), render: f })), rows.slice(0, 10));
}

// ------------------------------------------------------------------ the equipment status timeline

export async function timelineCard(enterpriseId, days, baseHash, fit = false) {
  const data = await api(`/api/v1/console/enterprises/${enterpriseId}/equipment-timeline?days=${days}`);
  if (!data.machines.length) return card(t("timeline"), h("p", { class: "muted" }, t("no_machines")));
  const view = fit ? fitted(data) : data;
  const picker = h("span", { class: "row" }, [7, 30, 90].map((d) => h("button", { class: d === view.days ? "primary" : null,
    onclick: () => { location.hash = `${baseHash}?days=${d}`; } }, `${d} ${t("days")}`)));
  const legend = h("div", { class: "timeline-legend" }, ["running", "stopped", "no_data"].map((k) =>
    h("span", {}, h("i", { style: `background:var(--${{ running: "run", stopped: "stop", no_data: "unknown" }[k]})` }), t(k))),
    data.partial_day ? h("span", {}, h("i", { style: "background:#fff;border:1px dashed #6b7785" }), t("today_partial")) : null,
    view.days < data.days ? h("span", { class: "muted", "data-range-fitted": view.days }, t("range_fitted", { day: view.first_day, n: view.days })) : null);
  const wrap = h("div", { class: "timeline-wrap", style: "display:flex;align-items:flex-start" });
  const el = card(t("timeline"), h("div", { class: "row", style: "justify-content:space-between" }, legend, picker), wrap,
    h("p", { class: "muted small" }, t("run_hours_note")));
  setTimeout(() => drawTimeline(wrap, view), 0);
  return el;
}

/** The window cut to the days from the first with data (at least 7): the days before it would be an empty
 * chart. Only days without any data are cut, so the run-hour figures (over days with data) stay the same. */
function fitted(data) {
  if (!data.first_day_with_data) return data;
  const span = Math.round((Date.parse(data.last_day) - Date.parse(data.first_day_with_data)) / DAY_MS) + 1;
  const days = Math.min(data.days, Math.max(7, span)), skip = data.days - days;
  if (!skip) return data;
  const first = new Date(Date.parse(data.first_day) + skip * DAY_MS).toISOString().slice(0, 10);
  return { ...data, days, first_day: first, machines: data.machines.map((m) => ({ ...m, slots: m.slots.slice(skip * 96) })) };
}

/** "9.5 h/d (7 d)": the average over the days with data and how many; "no data" when there is none. */
export function runHoursText(summary) {
  if (summary.run_hours_per_day == null) return t("run_hours_none");
  return `${fmtNum(summary.run_hours_per_day, 1)} ${t("h_per_day")} (${fmtNum(summary.days_with_data)} ${t("d_short")})`;
}

/** Epoch ms of local midnight starting an ISO day in an IANA zone (the site's days, not always China's). */
function zoneMidnightMs(isoDay, zone) {
  const offsetAt = (ms) => {  // the zone's offset from UTC at ms, from the wall clock Intl reads there
    const p = Object.fromEntries(new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - ms;
  };
  const wall = Date.parse(isoDay + "T00:00:00Z");
  const guess = wall - offsetAt(wall);
  return wall - offsetAt(guess);
}

function drawTimeline(wrap, data) {
  const started = performance.now();
  const labelW = 120, hoursW = 200, rowH = 13, gap = 3, headH = 22;
  const width = Math.max(640, (wrap.clientWidth || 1000) - hoursW);
  const plotW = width - labelW - 8;
  const n = data.machines.length, nSlots = data.days * 96;
  const height = headH + n * (rowH + gap) + 4;
  const ratio = window.devicePixelRatio || 1;
  const canvas = h("canvas", { width: Math.round(width * ratio), height: Math.round(height * ratio), style: `width:${width}px;height:${height}px`, "data-testid": "timeline" });
  const tip = h("div", { class: "tip" });
  // The run-hour figures as text beside the rows (readable, selectable, and what the tests read).
  const hoursCol = h("div", { class: "small", style: `width:${hoursW}px;padding-top:${headH - 16}px;line-height:${rowH + gap}px` },
    h("div", { class: "muted", style: "height:16px;line-height:16px" }, t("run_hours_col")),
    data.machines.map((m) => h("div", { "data-run-hours": m.machine_id, "data-days-with-data": m.summary.days_with_data,
      title: m.summary.partial_day ? t("today_so_far", { h: fmtNum(m.summary.partial_day.run_hours, 1), o: fmtNum(m.summary.partial_day.observed_hours, 1) }) : null,
      style: `height:${rowH + gap}px;white-space:nowrap` }, runHoursText(m.summary))));
  wrap.replaceChildren(h("div", { style: "position:relative" }, canvas, tip), hoursCol);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  const css = getComputedStyle(document.documentElement);
  const color = { R: css.getPropertyValue("--run").trim(), S: css.getPropertyValue("--stop").trim(), "-": css.getPropertyValue("--unknown").trim() };
  const firstMs = zoneMidnightMs(data.first_day, data.timezone || TIME_ZONE);  // the site's local midnight
  const x = (slot) => labelW + (slot / nSlots) * plotW;
  ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#6b7785"; ctx.textBaseline = "middle";
  const every = Math.max(1, Math.ceil(data.days / 12));
  for (let d = 0; d < data.days; d += every) {
    ctx.fillText(fmtShortDate(firstMs + d * DAY_MS + 12 * 3_600_000), x(d * 96) + 2, 10);
    ctx.fillRect(x(d * 96), 16, 1, height - 16);
  }
  // Today is not over: its slots after now are left blank (not "no data"), and the day is outlined dashed.
  const nowSlot = data.partial_day ? Math.floor((data.now_ms - firstMs) / SLOT_MS) : nSlots;
  data.machines.forEach((m, i) => {
    const y = headH + i * (rowH + gap);
    ctx.fillStyle = "#1f2933"; ctx.fillText(m.machine_id.slice(0, 16), 2, y + rowH / 2);
    const known = Math.max(0, Math.min(nowSlot, nSlots));
    ctx.fillStyle = color["-"]; ctx.fillRect(x(0), y, x(known) - x(0), rowH);
    let start = 0;
    const s = m.slots.slice(0, known);
    for (let k = 1; k <= s.length; k++) {
      if (k === s.length || s[k] !== s[start]) {
        if (s[start] !== "-") { ctx.fillStyle = color[s[start]]; ctx.fillRect(x(start), y, Math.max(x(k) - x(start), 0.5), rowH); }
        start = k;
      }
    }
  });
  if (data.partial_day) {
    const d0 = Math.round((Date.parse(data.partial_day) - Date.parse(data.first_day)) / DAY_MS) * 96;
    ctx.setLineDash([3, 3]); ctx.strokeStyle = "#6b7785"; ctx.lineWidth = 1;
    ctx.strokeRect(x(d0) + 0.5, headH - 3.5, x(d0 + 96) - x(d0) - 1, n * (rowH + gap) + 3);
    ctx.setLineDash([]);
  }
  canvas.addEventListener("mousemove", (e) => {
    const r = canvas.getBoundingClientRect(), px = e.clientX - r.left, py = e.clientY - r.top;
    const i = Math.floor((py - headH) / (rowH + gap)), slot = Math.floor(((px - labelW) / plotW) * nSlots);
    if (i < 0 || i >= n || slot < 0 || slot >= Math.min(nSlots, nowSlot)) { tip.style.display = "none"; return; }
    const m = data.machines[i], st = m.slots[slot];
    tip.textContent = `${m.machine_id} · ${fmtDateTime(firstMs + slot * SLOT_MS)} · ${t({ R: "running", S: "stopped", "-": "no_data" }[st])}`;
    tip.style.display = "block"; tip.style.left = `${Math.min(px + 12, width - 260)}px`; tip.style.top = `${py + 14}px`;
  });
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  canvas.addEventListener("click", (e) => {
    const r = canvas.getBoundingClientRect(), i = Math.floor((e.clientY - r.top - headH) / (rowH + gap));
    if (i >= 0 && i < n) location.hash = `#/device/${data.enterprise_id}/${encodeURIComponent(data.machines[i].key)}`;
  });
  wrap.dataset.timelineReady = String(Math.round(performance.now() - started));
}

// ------------------------------------------------------------------ device: readings and provenance

export async function devicePage(enterpriseId, key) {
  const devices = await api(`/api/v1/enterprises/${enterpriseId}/devices`);
  const device = devices.find((d) => d.key === key);
  const hours = Number(params().get("hours") || 24);
  const seen = device?.last_seen_ms ?? Date.now();
  const data = await api(`/api/v1/enterprises/${enterpriseId}/devices/${encodeURIComponent(key)}/telemetry?from=${seen - hours * 3_600_000}&to=${seen + 1}&limit=10000`);
  let model = null;  // a tenant's own thing model names its properties; the packs' ones come from the labels
  try { model = device && !hasCode("device_type", device.device_type) ? await api(`/api/v1/thing-models/${encodeURIComponent(device.device_type)}`) : null; } catch { model = null; }
  const names = Object.fromEntries((model?.properties || []).map((p) => [p.identifier, p.name]));
  const propName = (k) => names[k] ? `${names[k]} · ${k}` : withUnit("metric", k);
  const numeric = [...new Set(data.readings.filter((r) => typeof r.value === "number").map((r) => r.key))];
  const chosen = params().get("key") && numeric.includes(params().get("key")) ? params().get("key")
    : numeric.find((k) => !["battery_pct", "rssi_dbm"].includes(k)) ?? numeric[0];
  const base = `#/device/${enterpriseId}/${encodeURIComponent(key)}`;
  const chartEl = h("div", { class: "chart" });
  const proofSlot = h("div");
  const latest = [...data.readings].sort((a, b) => b.ts - a.ts).slice(0, 40);
  const page = h("div", {},
    h("p", {}, h("a", { href: `#/enterprise/${enterpriseId}` }, "← " + t("back"))),
    h("h1", {}, key),
    card(t("provenance"), h("div", { class: "row" },
      h("span", {}, `${t("type")}: ${code("device_type", device?.device_type)}`), h("span", {}, `${t("source_mode")}: ${modeLabel(data.provenance.source_mode)}`),
      h("span", {}, `${t("trust")}: ${fmtNum(data.provenance.trust_level, 1)}`),
      device ? h("span", {}, `${t("connectivity")}: `, h("span", { class: `badge ${device.connectivity}` }, t(device.connectivity))) : null,
      h("span", {}, `${t("last_seen")}: ${fmtDateTime(device?.last_seen_ms)}`))),
    card(`${t("readings")} · ${chosen ? propName(chosen) : "—"}`,
      h("div", { class: "row" }, h("span", { class: "muted" }, t("window") + ":"), [6, 24, 72].map((hh) =>
        h("button", { class: hh === hours ? "primary" : null, onclick: () => { location.hash = `${base}?hours=${hh}&key=${chosen ?? ""}`; } }, `${hh} ${t("hours")}`)),
        h("span", { class: "muted" }, t("property") + ":"), h("select", { id: "prop", onchange: (e) => { location.hash = `${base}?hours=${hours}&key=${e.target.value}`; } },
          numeric.map((k) => h("option", { value: k, selected: k === chosen }, propName(k))))),
      chartEl),
    card(t("readings"), table([
      { title: t("device_time"), render: (r) => fmtDateTime(r.ts) },
      { title: t("property"), render: (r) => propName(r.key) },
      { title: t("value"), num: true, render: (r) => typeof r.value === "number" ? fmtNum(r.value, 3) : String(r.value) },
      { title: t("received"), render: (r) => fmtDateTime(r.received_ms) },
      { title: t("batch"), render: (r) => h("button", { "data-batch": r.batch_id, onclick: () => showProof(proofSlot, r.batch_id, key) }, `#${r.batch_id} · ${t("show_proof")}`) },
    ], latest)),
    proofSlot,
    hasRole(device?.device_type, "immobilises_vehicle") ? vehicleStateCard(key) : null,
    commandsCard(`/api/v1/devices/${encodeURIComponent(key)}/commands`, {
      readOnly: session.me?.role === "enterprise_user",
      request: COMMANDERS.includes(session.me?.role)  // the dialog offers what the device's channel takes
        ? () => requestCommand(key, { enterpriseId }) : null }),
    data.events.length ? card(t("events"), table([
      { title: t("device_time"), render: (e) => fmtDateTime(e.ts) }, { title: t("events"), render: (e) => code("event", e.event) },
      { title: t("params"), render: (e) => JSON.stringify(e.params) }], data.events.slice(-20).reverse())) : null);
  proofSlot.append(card(t("proof"), h("p", { class: "muted" }, t("evidence_hint"))));
  setTimeout(() => {
    const points = data.readings.filter((r) => r.key === chosen).map((r) => [r.ts, r.value]);
    chart(chartEl, { tooltip: { trigger: "axis", valueFormatter: (v) => fmtNum(v, 3) }, grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: { type: "time", axisLabel: { formatter: (v) => fmtDateTime(v).slice(-5) } }, yAxis: { type: "value", scale: true, name: unitOf("metric", chosen) || "" },
      dataZoom: [{ type: "inside" }], series: [{ type: "line", showSymbol: false, data: points, lineStyle: { width: 1 }, itemStyle: { color: "#0b5cad" } }] });
  }, 0);
  return page;
}

function showProof(slot, batchId, key) {
  section(slot, () => proofCard(batchId, key));
}

export { fmtDate, TIME_ZONE };
