// Bank pages (the alarm desk is pages/alarms.js): loans and pledge coverage, the industry index, and the admin's quarantine.
import { api, indicatorCatalog, session } from "../api.js";
import { code, fmtCny, fmtDateTime, fmtNum, fmtPct, fmtValue, labelOf, t, tOr } from "../i18n.js";
import { card, chart, h, section, table } from "../ui.js";
import { industryLabel } from "./bank.js";
import { drawIndexChart, isoDay } from "./evidence.js";
import { commandsCard } from "./commands.js";

const DAY_MS = 86_400_000;


export async function loans() {
  const [rows, enterprises] = await Promise.all([api("/api/v1/loans"), api("/api/v1/enterprises")]);
  const names = Object.fromEntries(enterprises.map((e) => [e.id, e.name]));
  const detail = h("div");
  return h("div", {}, h("h1", {}, t("nav_loans")), card(null, rows.length ? table([
    { title: "#", render: (l) => l.id },
    { title: t("name"), render: (l) => h("a", { href: `#/enterprise/${l.enterprise_id}` }, names[l.enterprise_id] || `#${l.enterprise_id}`) },
    { title: t("product"), render: (l) => code("product", l.product) }, { title: t("state"), render: (l) => code("loan_state", l.state) },
    { title: t("risk_class"), render: (l) => code("risk_class", l.risk_class) },
    { title: t("amount"), num: true, render: (l) => fmtCny(Number(l.amount_cny)) },
    { title: t("outstanding"), num: true, render: (l) => fmtCny(Number(l.outstanding_cny)) },
    { title: "", render: (l) => h("span", { class: "row" }, h("button", { "data-coverage": l.id, onclick: () => section(detail, async () =>
      coverageCard(l, await api(`/api/v1/loans/${l.id}/valuation`), names[l.enterprise_id])) }, t("coverage")),
      h("a", { href: `#/alarms?enterprise_id=${l.enterprise_id}`, "data-loan-alarms": l.id }, t("alarms")),
      h("button", { "data-loan-commands": l.id, onclick: () => detail.replaceChildren(h("h2", {}, `#${l.id}`),
        commandsCard(`/api/v1/loans/${l.id}/commands`)) }, t("nav_commands"))) },
  ], rows) : h("p", { class: "muted" }, t("none"))), detail);
}

/** Loans with pledged goods: a coverage gauge against the margin-call and liquidation lines, and the items. */
export async function pledges() {
  const [rows, enterprises] = await Promise.all([api("/api/v1/loans"), api("/api/v1/enterprises")]);
  const names = Object.fromEntries(enterprises.map((e) => [e.id, e.name]));
  const valued = await Promise.all(rows.map(async (l) => [l, await api(`/api/v1/loans/${l.id}/valuation`)]));
  const pledged = valued.filter(([, v]) => v.items.length || v.unpriced.length);
  const bare = valued.filter(([, v]) => !v.items.length && !v.unpriced.length);
  return h("div", {}, h("h1", {}, t("nav_pledges")),
    pledged.length ? pledged.map(([l, v]) => coverageCard(l, v, names[l.enterprise_id])) : card(null, h("p", { class: "muted" }, t("none"))),
    bare.length ? card(null, h("p", { class: "muted" }, t("no_pledges"), " ",
      bare.flatMap(([l], i) => [i ? "、" : "", h("a", { href: `#/enterprise/${l.enterprise_id}` }, `#${l.id} ${names[l.enterprise_id] || ""}`)]))) : null);
}

const COVERAGE_BADGE = { ok: "online", margin_call: "unknown", liquidation: "offline" };

function coverageCard(loan, v, enterpriseName) {
  const ratio = Number(v.coverage_ratio), margin = Number(loan.maintenance_ratio), liq = Number(loan.liquidation_ratio);
  const el = h("div", { class: "chart gauge", "data-gauge": loan.id });
  setTimeout(() => gauge(el, ratio, margin, liq), 0);
  return card(`${t("loans")} #${loan.id} · ${enterpriseName || ""} · ${t("coverage")}`,
    h("div", { class: "grid", "data-coverage-card": loan.id },
      h("div", {}, el),
      h("div", {},
        h("div", { class: "kpis compact" },
          kpiBox(t("coverage_ratio"), fmtPct(ratio)), kpiBox(t("pledged_value"), fmtCny(Number(v.pledged_value_cny))),
          kpiBox(t("outstanding"), fmtCny(Number(v.outstanding_cny))), kpiBox(t("top_up"), fmtCny(Number(v.top_up_cny || 0)))),
        h("p", {}, h("span", { class: `badge ${COVERAGE_BADGE[v.status] || ""}`, "data-coverage-status": v.status }, tOr("cov_" + v.status, v.status)),
          h("span", { class: "muted" }, ` ${t("margin_line")} ${fmtPct(margin)} · ${t("liquidation_line")} ${fmtPct(liq)}`)),
        v.items.length ? table([
          { title: t("identity"), render: (i) => identityText(i.identity) }, { title: t("sku"), render: (i) => i.sku },
          { title: t("quantity"), num: true, render: (i) => fmtNum(Number(i.quantity), 2) },
          { title: t("unit_price"), num: true, render: (i) => fmtCny(Number(i.unit_price_cny)) },
          { title: t("haircut"), num: true, render: (i) => fmtPct(Number(i.haircut)) },
          { title: t("value"), num: true, render: (i) => fmtCny(Number(i.value_cny)) }], v.items) : h("p", { class: "muted" }, t("none")),
        v.unpriced.length ? h("p", { class: "error" }, `${t("unpriced")}: ${v.unpriced.map((u) => u.sku || u.identity || JSON.stringify(u)).join(", ")}`) : null)));
}

function kpiBox(label, value) { return h("div", { class: "kpi" }, h("div", { class: "v" }, value), h("div", { class: "l" }, label)); }

/** Coverage on a 0–2x dial: red below the liquidation line, amber to the margin-call line, green above. */
function gauge(el, ratio, margin, liq) {
  const max = Math.max(2, Math.ceil(Math.max(ratio, margin) * 1.25 * 2) / 2);
  chart(el, { series: [{ type: "gauge", min: 0, max, startAngle: 200, endAngle: -20, radius: "95%", center: ["50%", "60%"],
    axisLine: { lineStyle: { width: 16, color: [[liq / max, "#c0392b"], [margin / max, "#d68910"], [1, "#2e8540"]] } },
    pointer: { width: 5 }, splitNumber: 4, axisTick: { show: false },
    axisLabel: { distance: -40, formatter: (x) => fmtPct(x), fontSize: 11 },
    detail: { valueAnimation: false, formatter: (x) => fmtPct(x), fontSize: 20, offsetCenter: [0, "35%"] },
    title: { offsetCenter: [0, "62%"], fontSize: 12 },
    data: [{ value: Math.min(ratio, max), name: `${t("liquidation_line")} ${fmtPct(liq)} · ${t("margin_line")} ${fmtPct(margin)}` }] }] });
}

/** Median and quartile band per scenario / region / indicator over the last days (published groups only). */
export async function industryIndex() {
  const days = Number(new URLSearchParams(location.hash.split("?")[1] || "").get("days") || 30);
  const to = isoDay(Date.now()), from = isoDay(Date.now() - (days - 1) * DAY_MS);
  const [data, catalog] = await Promise.all([api(`/api/v1/industry-index?from=${from}&to=${to}`), indicatorCatalog()]);
  const label = (sc, name) => labelOf(catalog.find((c) => c.scenario === sc && c.name === name), name);
  const groups = new Map();
  for (const r of data.values) {
    const k = `${r.scenario}|${r.region}|${r.indicator}`;
    if (!groups.has(k)) groups.set(k, { scenario: r.scenario, region: r.region, indicator: r.indicator, unit: r.unit, rows: [] });
    groups.get(k).rows.push(r);
  }
  const list = [...groups.values()].sort((a, b) => `${a.scenario}${a.region}${a.indicator}`.localeCompare(`${b.scenario}${b.region}${b.indicator}`));
  const page = h("div", {}, h("h1", {}, t("nav_index")),
    h("p", { class: "row" }, [14, 30, 90].map((d) => h("button", { class: d === days ? "primary" : null, onclick: () => { location.hash = `#/industry?days=${d}`; } }, `${d} ${t("days")}`)),
      h("span", { class: "muted small" }, t("index_note"))));
  if (!list.length) { page.append(card(null, h("p", { class: "muted", "data-empty": "index" }, t("none")))); return page; }
  const charts = h("div", { class: "grid" });
  for (const g of list) {
    g.rows.sort((a, b) => a.day.localeCompare(b.day));
    const el = h("div", { class: "chart", "data-index-chart": `${g.scenario}/${g.indicator}` });
    charts.append(card(`${industryLabel(g.scenario)} · ${g.region} · ${label(g.scenario, g.indicator)}`, el));
    setTimeout(() => drawIndexChart(el, { unit: g.unit, label: label(g.scenario, g.indicator), band: g.rows }), 0);
  }
  page.append(charts, card(t("index_groups"), table([
    { title: t("scenario"), render: (g) => industryLabel(g.scenario) }, { title: t("region"), render: (g) => g.region },
    { title: t("indicator"), render: (g) => label(g.scenario, g.indicator) },
    { title: t("latest"), render: (g) => g.rows.at(-1).day },
    { title: t("enterprises_n"), num: true, render: (g) => fmtNum(g.rows.at(-1).enterprises) },
    { title: "P25", num: true, render: (g) => fmtValue(g.rows.at(-1).p25, g.unit, 2) },
    { title: t("median"), num: true, render: (g) => fmtValue(g.rows.at(-1).median, g.unit, 2) },
    { title: "P75", num: true, render: (g) => fmtValue(g.rows.at(-1).p75, g.unit, 2) },
    { title: t("mean"), num: true, render: (g) => fmtValue(g.rows.at(-1).mean, g.unit, 2) }], list)));
  return page;
}

export async function quarantine() {
  const rows = await api("/api/v1/quarantine?status=open&limit=200");
  const result = h("p", { class: "muted" });
  const act = (action, id) => async () => {
    try { const out = await api(`/api/v1/quarantine/${action}`, { method: "POST", body: { ids: [id] } }); result.textContent = `${t(action)}: ${JSON.stringify(out)}`;
      window.dispatchEvent(new HashChangeEvent("hashchange")); } catch (err) { result.textContent = err.message; }
  };
  return h("div", {}, h("h1", {}, t("quarantine")), result, card(null, rows.length ? table([
    { title: "#", render: (r) => r.id }, { title: t("received"), render: (r) => fmtDateTime(r.received_ms) },
    { title: t("channel"), render: (r) => r.channel }, { title: t("key"), render: (r) => r.device_key || "—" },
    { title: t("reason"), render: (r) => r.reason }, { title: t("message"), render: (r) => r.message },
    { title: "", render: (r) => h("span", { class: "row" }, h("button", { onclick: act("replay", r.id) }, t("replay")),
      h("button", { class: "danger", onclick: act("discard", r.id) }, t("discard"))) },
  ], rows) : h("p", { class: "muted" }, t("none"))));
}

export { section };

/** A pledged item's identity "kind:value" with its kind in words (RFID 标签 / 序列号 / 批号). */
function identityText(identity) {
  const m = /^([a-z_]+):(.*)$/.exec(identity || "");
  return m ? `${code("identity_kind", m[1])} ${m[2]}` : identity || "—";
}
