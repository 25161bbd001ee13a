// Pages whose data comes from parts still being built (alarms, loans, pledges, industry index,
// evidence), and the admin's quarantine. Each shows its data once the API has landed.
import { api, apiPaths } from "../api.js";
import { fmtCny, fmtDateTime, fmtNum, t } from "../i18n.js";
import { card, h, section, table, waiting } from "../ui.js";

async function has(prefix) { return [...(await apiPaths())].some((p) => p.startsWith(prefix)); }

const SEVERITY_COLORS = { critical: "offline", major: "offline", warning: "unknown", minor: "unknown", info: "online" };

export async function alarms() {
  if (!(await has("/api/v1/alarms"))) return h("div", {}, h("h1", {}, t("nav_alarms")), card(null, waiting("issue 6 · alarms")));
  const status = new URLSearchParams(location.hash.split("?")[1] || "").get("status") || "active";
  const [rows, enterprises] = await Promise.all([api(`/api/v1/alarms?status=${status}&limit=500`), api("/api/v1/enterprises")]);
  const names = Object.fromEntries(enterprises.map((e) => [e.id, e.name]));
  const note = h("p", { class: "muted", id: "alarm-result" });
  const act = (action, alarm) => async () => {
    const reason = prompt(t(action === "acknowledge" ? "ack_reason" : "clear_reason"), t(action === "acknowledge" ? "ack_default" : "clear_default"));
    if (!reason) return;
    try { await api(`/api/v1/alarms/${alarm.id}/${action}`, { method: "POST", body: { reason } }); window.dispatchEvent(new HashChangeEvent("hashchange")); }
    catch (err) { note.textContent = err.message; }
  };
  return h("div", {}, h("h1", {}, t("nav_alarms")),
    h("div", { class: "tabs" }, ["active", "acknowledged", "cleared"].map((s) =>
      h("button", { class: s === status ? "primary" : null, onclick: () => { location.hash = `#/alarms?status=${s}`; } }, t("alarm_" + s)))),
    note,
    card(null, rows.length ? table([
      { title: "#", render: (a) => a.id },
      { title: t("severity"), render: (a) => h("span", { class: `badge ${SEVERITY_COLORS[a.severity] || ""}` }, a.severity) },
      { title: t("type"), render: (a) => a.alarm_type },
      { title: t("name"), render: (a) => a.enterprise_id ? h("a", { href: `#/enterprise/${a.enterprise_id}` }, names[a.enterprise_id] || `#${a.enterprise_id}`) : "—" },
      { title: t("started"), render: (a) => fmtDateTime(a.started_ms) },
      { title: t("last_seen"), render: (a) => fmtDateTime(a.last_ms) },
      { title: t("occurrences"), num: true, render: (a) => fmtNum(a.occurrences) },
      { title: t("status"), render: (a) => h("span", { "data-alarm-status": a.id }, t("alarm_" + a.status)) },
      { title: "", render: (a) => h("span", { class: "row" },
        a.status === "active" ? h("button", { "data-ack": a.id, onclick: act("acknowledge", a) }, t("acknowledge")) : null,
        a.status !== "cleared" ? h("button", { class: "danger", "data-clear": a.id, onclick: act("clear", a) }, t("clear")) : null) },
    ], rows) : h("p", { class: "muted", "data-empty": "alarms" }, t("none"))));
}

export async function loans() {
  if (!(await has("/api/v1/loans"))) return h("div", {}, h("h1", {}, t("nav_loans")), card(null, waiting("issue 6 · loans")));
  const [rows, enterprises] = await Promise.all([api("/api/v1/loans"), api("/api/v1/enterprises")]);
  const names = Object.fromEntries(enterprises.map((e) => [e.id, e.name]));
  const detail = h("div");
  return h("div", {}, h("h1", {}, t("nav_loans")), card(null, rows.length ? table([
    { title: "#", render: (l) => l.id },
    { title: t("name"), render: (l) => h("a", { href: `#/enterprise/${l.enterprise_id}` }, names[l.enterprise_id] || `#${l.enterprise_id}`) },
    { title: t("product"), render: (l) => l.product }, { title: t("state"), render: (l) => l.state },
    { title: t("risk_class"), render: (l) => l.risk_class ?? "—" },
    { title: t("amount"), num: true, render: (l) => fmtCny(Number(l.amount_cny)) },
    { title: t("outstanding"), num: true, render: (l) => fmtCny(Number(l.outstanding_cny)) },
    { title: "", render: (l) => h("button", { onclick: () => section(detail, async () => card(`${t("coverage")} · #${l.id}`,
      h("pre", {}, JSON.stringify(await api(`/api/v1/loans/${l.id}/valuation`), null, 2)))) }, t("coverage")) },
  ], rows) : h("p", { class: "muted" }, t("none"))), detail);
}

export async function pledges() {
  if (!(await has("/api/v1/loans"))) return h("div", {}, h("h1", {}, t("nav_pledges")), card(null, waiting("issue 6 · pledges")));
  const rows = (await api("/api/v1/loans")).filter((l) => Number(l.maintenance_ratio) > 0 || l.product?.includes("pledge"));
  const out = h("div", {}, h("h1", {}, t("nav_pledges")));
  if (!rows.length) out.append(card(null, h("p", { class: "muted" }, t("none"))));
  for (const l of rows) {
    const slot = h("div");
    out.append(slot);
    section(slot, async () => card(`${t("loans")} #${l.id} · ${t("coverage")}`, h("pre", {}, JSON.stringify(await api(`/api/v1/loans/${l.id}/valuation`), null, 2))));
  }
  return out;
}

export async function industryIndex() {
  return h("div", {}, h("h1", {}, t("nav_index")), card(null, await has("/api/v1/industry-index") ? h("div") : waiting("issue 4 · industry index")));
}

export async function evidence() {
  const heads = await api("/api/v1/ledger/tree-heads?limit=1").catch((err) => [{ error: err.message }]);
  const head = heads[0] ?? t("none");
  return h("div", {}, h("h1", {}, t("nav_evidence")), card(null, h("p", {}, t("evidence_hint"))),
    card(t("proof"), h("pre", { "data-tree-head": "latest" }, JSON.stringify(head, null, 2))),
    card(t("indicators"), await has("/api/v1/indicators") ? h("div") : waiting("issue 4 · readings behind a figure")));
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
