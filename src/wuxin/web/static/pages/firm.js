// The enterprise's own console (the SaaS the bank gives back): company dashboard, device health,
// and its data-sharing consents: grant, narrow, revoke.
import { api, apiBlob, session } from "../api.js";
import { code, codesOf, unitOf, fmtDate, fmtDateTime, fmtNum, fmtPct, t } from "../i18n.js";
import { card, chart, h, section, table } from "../ui.js";
import { industryLabel } from "./bank.js";
import { pagedDevicesCard, params, timelineCard } from "./enterprise.js";
import { indicatorsCard, peerStanding } from "./evidence.js";

const myId = () => session.me.enterprise_id;

export async function myCompany() {
  const id = myId();
  const [profile, devices] = await Promise.all([api(`/api/v1/enterprises/${id}`), api(`/api/v1/enterprises/${id}/devices`)]);
  const online = devices.filter((d) => d.connectivity === "online").length;
  const timelineSlot = h("div"), dashSlot = h("div", { class: "grid" }), indicatorsSlot = h("div"), peersSlot = h("div");
  const accessSlot = h("div");
  const page = h("div", {}, h("h1", {}, `${profile.name}`),
    h("div", { class: "kpis" }, kpi(t("industry"), industryLabel(profile.industry)), kpi(t("devices"), fmtNum(devices.length)),
      kpi(t("online_share"), devices.length ? fmtPct(online / devices.length) : "—"), kpi(t("region"), profile.region)),
    h("h2", {}, t("dash_" + profile.industry)), timelineSlot,
    h("div", { class: "grid wide-first" }, card(t("indicators"), indicatorsSlot), card(t("peers"), peersSlot)), dashSlot,
    h("section", { class: "card", "data-testid": "access-log" }, h("h2", {}, t("access_log")), accessSlot));
  section(accessSlot, () => accessLogCard(id));
  section(indicatorsSlot, () => indicatorsCard(profile, 30));
  section(peersSlot, () => peerStanding(profile));
  if (devices.some((d) => d.attributes && "run_threshold_a" in d.attributes)) section(timelineSlot, () => timelineCard(id, Number(params().get("days") || 30), "#/my", !params().get("days")));
  for (const device of representatives(devices)) {
    const slot = h("div");
    dashSlot.append(slot);
    section(slot, () => miniChart(id, device));
  }
  return page;
}

// ------------------------------------------------------------------ who read our data

async function accessLogCard(enterpriseId, beforeId = null) {
  const base = `/api/v1/enterprises/${enterpriseId}/access-log`;
  const rows = await api(`${base}?tenants_only=true&limit=51${beforeId ? `&before_id=${beforeId}` : ""}`);
  const page = rows.slice(0, 50);
  const body = h("div");
  const columns = [
    { title: t("access_when"), render: (e) => fmtDateTime(e.at_ms) },
    { title: t("access_who"), render: (e) => e.display_name ? `${e.display_name} (${e.username})` : (e.username ?? `#${e.user_id}`) },
    { title: t("access_bank"), render: (e) => e.tenant_name ?? t("access_own") },
    { title: t("access_what"), render: (e) => h("span", { title: e.action }, e.device_key ? `${accessWhat(e.action)} · ${e.device_key}` : accessWhat(e.action)) },
    { title: t("access_consent"), render: (e) => e.consent_id == null ? "—" : `#${e.consent_id}` },
    { title: t("access_rows"), num: true, render: (e) => fmtNum(e.rows) },
  ];
  const exportCsv = h("button", { id: "access-export", onclick: async () => {
    const blob = await apiBlob(`${base}?format=csv&tenants_only=true`);
    const a = h("a", { href: URL.createObjectURL(blob), download: `access-log-${enterpriseId}.csv` });
    a.click();
  } }, t("access_export"));
  const more = rows.length > 50 ? h("button", { id: "access-more", onclick: () => section(body, () => accessLogCard(enterpriseId, page[page.length - 1].id)) }, t("access_more")) : null;
  body.append(h("p", { class: "muted" }, t("access_hint")),
    page.length ? table(columns, page) : h("p", { class: "muted", "data-state": "empty" }, t("access_none")),
    h("p", { class: "row" }, exportCsv, more));
  return body;
}

function kpi(label, value) { return h("div", { class: "kpi" }, h("div", { class: "v", style: "font-size:18px" }, value), h("div", { class: "l" }, label)); }

function representatives(devices) {
  const byType = new Map();
  for (const d of devices) if (!byType.has(d.device_type) && d.last_seen_ms) byType.set(d.device_type, d);
  return [...byType.values()].slice(0, 6);
}

async function miniChart(enterpriseId, device) {
  const seen = device.last_seen_ms;
  const data = await api(`/api/v1/enterprises/${enterpriseId}/devices/${encodeURIComponent(device.key)}/telemetry?from=${seen - 86_400_000}&to=${seen + 1}&limit=10000`);
  const skip = new Set(["battery_pct", "rssi_dbm"]);
  const key = data.readings.find((r) => typeof r.value === "number" && !skip.has(r.key))?.key;
  const unit = unitOf("metric", key);
  const el = h("div", { class: "chart", style: "height:200px" });
  setTimeout(() => chart(el, { tooltip: { trigger: "axis" }, grid: { left: 50, right: 10, top: 24, bottom: 30 },
    xAxis: { type: "time", axisLabel: { formatter: (v) => fmtDateTime(v).slice(-5) } }, yAxis: { type: "value", scale: true, name: unit || "" },
    series: [{ type: "line", showSymbol: false, data: data.readings.filter((r) => r.key === key).map((r) => [r.ts, r.value]), itemStyle: { color: "#0b5cad" } }] }), 0);
  return card(`${code("device_type", device.device_type)} · ${code("metric", key)}${unit ? ` (${unit})` : ""} · ${t("last_24h")}`,
    h("p", { class: "muted" }, h("a", { href: `#/device/${enterpriseId}/${encodeURIComponent(device.key)}` }, device.key)), el);
}

export async function myDevices() {
  const id = myId();
  const devices = await api(`/api/v1/enterprises/${id}/devices`);
  const counts = { online: 0, offline: 0, unknown: 0 };
  for (const d of devices) counts[d.connectivity] += 1;
  return h("div", {}, h("h1", {}, t("nav_devices")),
    h("div", { class: "kpis" }, Object.entries(counts).map(([k, v]) => h("div", { class: "kpi" }, h("div", { class: "v" }, fmtNum(v)), h("div", { class: "l" }, t(k))))),
    await pagedDevicesCard(id));
}

// ------------------------------------------------------------------ consents

function consentStatus(c) {
  if (c.revoked_ms) return "revoked";
  return c.expires_ms <= Date.now() ? "expired" : "active";
}

export async function consents() {
  const id = myId();
  const [rows, tenants, devices] = await Promise.all([api("/api/v1/consents"), api("/api/v1/console/tenants"), api(`/api/v1/enterprises/${id}/devices`)]);
  const tenantName = (tid) => tenants.find((x) => x.id === tid)?.name ?? `#${tid}`;
  const editor = h("div");
  const scopeLabel = (s) => t("scope_" + s);
  const page = h("div", {}, h("h1", {}, t("consents")),
    card(null, table([
      { title: t("tenant"), render: (c) => tenantName(c.tenant_id) },
      { title: t("scope"), render: (c) => scopeLabel(c.scope) },
      { title: t("items"), render: (c) => (c.scope_items || []).join(", ") || "—" },
      { title: t("purpose"), render: (c) => code("consent_purpose", c.purpose) },
      { title: t("granted"), render: (c) => fmtDate(c.granted_ms) },
      { title: t("expires"), render: (c) => fmtDate(c.expires_ms) },
      { title: t("status"), render: (c) => h("span", { class: `badge ${consentStatus(c)}`, "data-consent-status": c.id }, t(consentStatus(c))) },
      { title: "", render: (c) => consentStatus(c) !== "active" ? "" : h("span", { class: "row" },
        h("button", { "data-narrow": c.id, onclick: () => editor.replaceChildren(narrowForm(c, tenantName(c.tenant_id))) }, t("narrow")),
        h("button", { class: "danger", "data-revoke": c.id, onclick: () => revoke(c.id) }, t("revoke"))) },
    ], rows)),
    editor,
    card(t("new_consent"), grantForm(id, tenants, devices)));
  return page;
}

async function revoke(consentId) {
  if (!confirm(t("confirm_revoke"))) return;
  try { await api(`/api/v1/consents/${consentId}/revoke`, { method: "POST" }); rerender(); }
  catch (err) { alert(err.message); }
}

function rerender() { window.dispatchEvent(new HashChangeEvent("hashchange")); }

function dateInput(id, ms) {
  const d = new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
  return h("input", { type: "date", id, value: d });
}
const endOfDayMs = (iso) => Date.parse(iso + "T23:59:59+08:00");

function narrowForm(c, tenantName) {
  const error = h("p", { class: "error" });
  const boxes = (c.scope_items || []).map((item) => h("label", { style: "display:inline-flex;gap:4px;margin-right:12px;color:inherit" },
    h("input", { type: "checkbox", value: item, checked: true }), item));
  const expiry = dateInput("narrow-expiry", c.expires_ms);
  return card(`${t("narrow")} · ${tenantName}`,
    c.scope === "all" ? h("p", { class: "muted" }, t("scope_all")) : h("div", {}, h("label", {}, t("keep_items")), boxes),
    h("label", { for: "narrow-expiry" }, t("earlier_expiry")), expiry,
    h("p", { class: "row" }, h("button", { class: "primary", id: "narrow-save", onclick: async () => {
      const body = {};
      if (c.scope !== "all") body.scope_items = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
      const ms = endOfDayMs(expiry.value);
      if (ms < c.expires_ms) body.expires_ms = ms;
      try { await api(`/api/v1/consents/${c.id}`, { method: "PATCH", body }); rerender(); } catch (err) { error.textContent = err.message; }
    } }, t("save")), h("button", { onclick: (e) => e.target.closest(".card").remove() }, t("cancel"))), error);
}

function grantForm(enterpriseId, tenants, devices) {
  const error = h("p", { class: "error" });
  const tenant = h("select", { id: "grant-tenant" }, tenants.map((x) => h("option", { value: x.id }, `${x.name} (${code("tenant_kind", x.kind)})`)));
  const scope = h("select", { id: "grant-scope" }, ["all", "scenarios", "devices"].map((s) => h("option", { value: s }, t("scope_" + s))));
  const items = h("select", { id: "grant-items", multiple: true, size: 5, style: "min-width:260px" });
  const scenarios = [...new Set(devices.map((d) => d.device_type.split(".")[0]))];
  const fillItems = () => items.replaceChildren(...(scope.value === "scenarios" ? scenarios.map((s) => h("option", { value: s }, industryLabel(s)))
    : scope.value === "devices" ? devices.map((d) => h("option", { value: d.key }, d.key)) : []));
  scope.addEventListener("change", fillItems);
  const purpose = h("select", { id: "grant-purpose" }, codesOf("consent_purpose").map((p) => h("option", { value: p }, code("consent_purpose", p))));
  const expiry = dateInput("grant-expiry", Date.now() + 365 * 86_400_000);
  return h("div", {}, h("div", { class: "grid" },
    h("div", {}, h("label", { for: "grant-tenant" }, t("tenant")), tenant, h("label", { for: "grant-scope" }, t("scope")), scope,
      h("label", { for: "grant-items" }, t("items")), items),
    h("div", {}, h("label", { for: "grant-purpose" }, t("purpose")), purpose, h("label", { for: "grant-expiry" }, t("expires")), expiry)),
    h("p", {}, h("button", { class: "primary", id: "grant-submit", onclick: async () => {
      try {
        await api(`/api/v1/enterprises/${enterpriseId}/consents`, { method: "POST", body: { tenant_id: Number(tenant.value), scope: scope.value,
          scope_items: [...items.selectedOptions].map((o) => o.value), purpose: purpose.value, expires_ms: endOfDayMs(expiry.value) } });
        rerender();
      } catch (err) { error.textContent = err.message; }
    } }, t("grant"))), error);
}

export { fmtDateTime };

// Logged domains said with another domain's words: the equipment timeline is drawn from device readings, a ledger
// proof is evidence, connectivity is the device list's.
const DOMAIN_WORDS = { console: "telemetry", ledger: "evidence", connectivity: "devices" };

/** What was read, in words: the domain of the logged action (credit.decide → credit); the code itself is the tooltip. */
function accessWhat(action) {
  const domain = String(action ?? "").split(".")[0];
  const key = "access_domain_" + (DOMAIN_WORDS[domain] || domain);
  return t(key) === key ? t("access_domain_other") : t(key);
}
