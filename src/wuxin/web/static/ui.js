// Small DOM helpers, the empty / no-access / error states, and chart helpers.
// Text reaches the page only as text: h() makes text nodes and attributes, never HTML. The one place
// HTML is built from strings is an ECharts tooltip (ECharts sets it as innerHTML): every string in it
// goes through esc() / tooltipHtml().
import { fmtFixed, t } from "./i18n.js";

/** Text made safe to put inside HTML (ECharts' own encoder: & < > " ' as entities). */
export const esc = (text) => echarts.format.encodeHTML(text == null ? "" : String(text));

/** ECharts tooltip HTML: a title line, then one line per [marker, text]; the texts are escaped, the marker is
 * ECharts' own coloured dot (params.marker, built from our series colours). */
export function tooltipHtml(title, lines = []) {
  return [esc(title), ...lines.map(([marker, text]) => `${marker || ""}${esc(text)}`)].join("<br>");
}

/** An element with attributes (on* keys add listeners) and children (nodes, or strings as text nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** An SVG element (the workbench's sparklines): attributes set as given, children as nodes or text nodes, never markup. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function stateFor(err) {
  if (err?.status === 403) return h("div", { class: "state noaccess", "data-state": "no-access" }, h("strong", {}, t("no_access")),
    h("div", { class: "detail" }, t("no_access_hint")), h("div", { class: "detail" }, err.message));
  if (err?.status === 404) return h("div", { class: "state", "data-state": "not-found" }, t("not_found"), h("div", { class: "detail" }, err.message));
  return h("div", { class: "state error", "data-state": "error" }, t("failed"), h("div", { class: "detail" }, err?.message || String(err)));
}

export function waiting(what) {
  return h("div", { class: "state waiting", "data-state": "waiting" }, h("strong", {}, t("waiting")), h("div", { class: "detail" }, t("waiting_hint", { what })));
}

export function card(title, ...body) { return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...body); }

/** Fill `slot` with what `load()` builds; a failure shows its state in place, the page goes on. */
export async function section(slot, load) {
  slot.replaceChildren(h("p", { class: "muted" }, t("loading")));
  try { slot.replaceChildren(await load()); } catch (err) {
    if (err?.status === 401) { location.hash = "#/login"; return; }
    if (!(err?.status)) console.error(err);  // a bug, not a refusal: the e2e tests fail on it
    slot.replaceChildren(stateFor(err));
  }
}

const charts = new Set();
/** Draw `option` in `el`; null when `el` left the document first (the reader moved on while its data loaded). */
export function chart(el, option) {
  if (!el.isConnected) return null;
  const c = echarts.init(el, null, { renderer: "canvas" });
  c.setOption({ animation: false, ...option });  // drawn at once: screenshots and slow machines see the final chart
  charts.add(c);
  return c;
}
export function disposeCharts() { for (const c of charts) c.dispose(); charts.clear(); }
window.addEventListener("resize", () => { for (const c of charts) c.resize(); });

export function table(columns, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.title)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.render(r)))))));
}

/** Nice axis ticks for `values` (nulls ignored): steps of 1, 2 or 5 x 10^k, the range widened to whole
 * steps, and the decimals the step needs, so no two tick labels read the same. Null when no value. */
export function niceScale(values, target = 5) {
  const xs = values.filter((v) => v != null && Number.isFinite(v));
  if (!xs.length) return null;
  let lo = Math.min(...xs), hi = Math.max(...xs);
  if (lo === hi) { const pad = Math.abs(lo) * 0.05 || 1; lo -= pad; hi += pad; }
  const raw = (hi - lo) / target, mag = 10 ** Math.floor(Math.log10(raw)), f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const round = (v) => Number(v.toFixed(decimals + 2));
  const min = round(Math.floor(lo / step + 1e-9) * step);
  return { min: Math.min(...xs) >= 0 ? Math.max(0, min) : min, max: round(Math.ceil(hi / step - 1e-9) * step), interval: round(step), decimals };
}

/** A y axis for a unit: nice ticks, each label with the decimals its step needs, the unit as the axis name
 * (shares in percent, CNY as 元 / CNY). */
export function valueAxis(values, unit) {
  const scale = niceScale(values);
  const pct = unit === "1";
  const decimals = scale ? Math.max(0, scale.decimals - (pct ? 2 : 0)) : 0;
  const label = (v) => pct ? `${fmtFixed(v * 100, decimals)}%` : fmtFixed(v, decimals);
  return { type: "value", ...(scale ? { min: scale.min, max: scale.max, interval: scale.interval } : {}),
    name: pct ? "" : unit === "CNY" ? t("unit_cny") : unit || "", nameTextStyle: { align: "left" },
    axisLabel: { formatter: label } };
}
