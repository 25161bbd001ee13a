// Indicators and their evidence: the enterprise's daily indicator chart (with its peer group's
// median and quartile band), its peer standing, and the drill-down of any figure to the devices
// behind it, their readings, and the ledger proof of the readings' batch, checked in the browser.
import { api, apiBlob, indicatorCatalog, session } from "../api.js";
import { fmtDateTime, fmtNum, fmtValue, labelOf, t, tOr } from "../i18n.js";
import { card, chart, h, section, stateFor, table, tooltipHtml, valueAxis } from "../ui.js";

const DAY_MS = 86_400_000, CN_OFFSET_MS = 8 * 3_600_000;
export const isoDay = (ms) => new Date(ms + CN_OFFSET_MS).toISOString().slice(0, 10);
const hashParams = () => new URLSearchParams(location.hash.split("?")[1] || "");

async function scenarioCatalog(scenario) {
  return (await indicatorCatalog()).filter((c) => c.scenario === scenario);
}

// ------------------------------------------------------------------ the enterprise's indicator chart

/** Daily values of one indicator (chosen by chips) over `days`, with the peer median and band; a point opens its evidence. */
export async function indicatorsCard(profile, days) {
  const to = isoDay(Date.now()), from = isoDay(Date.now() - (days - 1) * DAY_MS);
  const [data, cat] = await Promise.all([api(`/api/v1/enterprises/${profile.id}/indicators?from=${from}&to=${to}`), scenarioCatalog(profile.industry)]);
  const names = [...new Set(data.values.map((v) => v.indicator))];
  if (!names.length) return h("p", { class: "muted", "data-empty": "indicators" }, t("no_indicators_hint"));
  const byName = Object.fromEntries(cat.map((c) => [c.name, c]));
  const wanted = hashParams().get("ind");
  let chosen = names.includes(wanted) ? wanted : cat.find((c) => c.index && names.includes(c.name))?.name ?? names[0];
  const chips = h("div", { class: "row chips" });
  const el = h("div", { class: "chart", "data-indicator-chart": "" });
  const draw = async () => {
    chips.replaceChildren(...names.map((n) => h("button", { class: n === chosen ? "primary" : null, "data-ind": n,
      onclick: () => { chosen = n; draw(); } }, labelOf(byName[n], n))));
    const unit = byName[chosen]?.unit;
    const mine = data.values.filter((v) => v.indicator === chosen && v.value != null).map((v) => ({ value: v.value, day: v.day, quality: v.quality }));
    const band = byName[chosen]?.index ? await peerBand(profile, chosen, from, to) : [];
    drawIndexChart(el, { unit, label: labelOf(byName[chosen], chosen), mine, band, until: to, onClick: (day) => {
      location.hash = `#/evidence/${profile.id}/${chosen}/${day}`;
    } });
    el.dataset.ready = chosen;
  };
  setTimeout(() => draw().catch((err) => { el.replaceChildren(stateFor(err)); if (!err?.status) console.error(err); }), 0);
  return h("div", {}, chips, el, h("p", { class: "muted small" }, t("click_point")));
}

/** The peer group's published distribution by day; empty where none is published or the role may not read it. */
async function peerBand(profile, indicator, from, to) {
  if (session.me?.role === "enterprise_user") return [];  // it sees its own percentile, not the peers' distribution
  try {
    const idx = await api(`/api/v1/industry-index?from=${from}&to=${to}&scenario=${encodeURIComponent(profile.industry)}&region=${encodeURIComponent(profile.region)}&indicator=${indicator}`);
    return idx.values.sort((a, b) => a.day.localeCompare(b.day));
  } catch (err) {
    if (err?.status === 403) return [];  // an enterprise user sees its own percentile, not the peers' distribution
    throw err;
  }
}

/** A line (the enterprise, optional) over the peer median and the P25–P75 band; days are a category
 * axis of China local dates, so the browser's own time zone never shifts them. */
export function drawIndexChart(el, { unit, label, mine = [], band = [], onClick, until }) {
  const fmt = (v) => fmtValue(v, unit, 2);
  const days = chartDays([...band.map((b) => b.day), ...mine.map((m) => m.day)], until);
  const at = (rows, f) => days.map((d) => { const r = rows.find((x) => x.day === d); return r ? f(r) : null; });
  const partialLabel = t("partial_point");
  const complete = mine.filter((m) => m.quality !== "partial"), partial = mine.filter((m) => m.quality === "partial");
  const series = [];
  if (band.length) {
    series.push({ name: "p25", type: "line", stack: "band", data: at(band, (b) => b.p25), symbol: "none", lineStyle: { opacity: 0 } },
      { name: t("band"), type: "line", stack: "band", data: at(band, (b) => b.p75 - b.p25), symbol: "none", lineStyle: { opacity: 0 },
        areaStyle: { color: "rgba(11,92,173,0.15)" }, itemStyle: { color: "rgba(11,92,173,0.3)" } },
      { name: t("median"), type: "line", data: at(band, (b) => b.median), symbol: band.length < 3 ? "diamond" : "none", symbolSize: 9, lineStyle: { type: "dashed", color: "#0b5cad" }, itemStyle: { color: "#0b5cad" } });
  }
  // Complete days make the line; a partial day (today, or a day with gaps) is a hollow point apart, never a dip of the line.
  if (mine.length) series.push({ name: label, type: "line", data: at(complete, (m) => m.value), symbolSize: 9, itemStyle: { color: "#f28c28" }, lineStyle: { width: 2 } });
  if (partial.length) series.push({ name: partialLabel, type: "scatter", data: at(partial, (m) => m.value), symbol: "emptyCircle", symbolSize: 10,
    itemStyle: { color: "#f28c28", borderType: "dashed" } });
  const c = chart(el, {
    tooltip: { trigger: "axis", formatter: (ps) => {
      const day = days[ps[0].dataIndex], b = band.find((x) => x.day === day);
      return tooltipHtml(day, [...ps.filter((p) => p.seriesName !== "p25" && p.seriesName !== t("band") && p.value != null).map((p) => [p.marker, `${p.seriesName}: ${fmt(p.value)}`]),
        ...(b ? [["", `P25–P75: ${fmt(b.p25)} – ${fmt(b.p75)} (${b.enterprises} ${t("peers_n")})`]] : [])]);
    } },
    legend: { data: [...(mine.length ? [label] : []), ...(partial.length ? [partialLabel] : []), ...(band.length ? [t("median"), t("band")] : [])], top: 0 },
    grid: { left: 70, right: 20, top: 44, bottom: 30 },
    xAxis: { type: "category", data: days, boundaryGap: false, axisLabel: { formatter: (d) => d.slice(5) } },
    yAxis: valueAxis([...mine.map((m) => m.value), ...band.flatMap((b) => [b.p25, b.p75, b.median])], unit), series });
  if (onClick) c?.on("click", (p) => { if ((p.seriesName === label || p.seriesName === partialLabel) && p.value != null) onClick(days[p.dataIndex]); });
  return c;
}

/** Every day from the first with data to `until` (or the last with data), at least 7: a day without data is a
 * gap on the axis (never skipped, never 0), and the days before the first data are not drawn empty. */
export function chartDays(withData, until) {
  const known = [...new Set(withData)].sort();
  if (!known.length) return [];
  const last = until && until > known[known.length - 1] ? until : known[known.length - 1];
  const lastMs = Date.parse(last + "T00:00:00Z"), firstMs = Math.min(Date.parse(known[0] + "T00:00:00Z"), lastMs - 6 * DAY_MS);
  const out = [];
  for (let ms = firstMs; ms <= lastMs; ms += DAY_MS) out.push(new Date(ms).toISOString().slice(0, 10));
  return out;
}

// ------------------------------------------------------------------ peer standing

/** Percentile among peers for each industry-index indicator, on the latest day with a published value. */
export async function peerStanding(profile) {
  const cat = (await scenarioCatalog(profile.industry)).filter((c) => c.index);
  if (!cat.length) return h("p", { class: "muted" }, t("none"));
  const days = [1, 2, 3].map((k) => isoDay(Date.now() - k * DAY_MS));
  const rows = await Promise.all(cat.map(async (c) => {
    let last = null;
    for (const day of days) {
      last = await api(`/api/v1/enterprises/${profile.id}/percentile?indicator=${c.name}&day=${day}`);
      if (last.percentile != null) break;
    }
    const median = last.percentile != null ? (await peerBand(profile, c.name, last.day, last.day))[0]?.median ?? null : null;
    return { c, p: last, median };
  }));
  const reason = (p) => p.reason?.startsWith("fewer") ? t("peer_reason_fewer") : p.reason ? t("peer_reason_nodata") : "";
  return h("div", { "data-peers": profile.id }, rows.map(({ c, p, median }) =>
    h("div", { class: "peer" },
      h("div", { class: "row", style: "justify-content:space-between" }, h("strong", {}, labelOf(c, c.name)),
        p.percentile == null ? h("span", { class: "muted" }, t("not_published")) : h("span", { class: "pct", "data-percentile": c.name }, `P${fmtNum(p.percentile, 0)}`)),
      p.percentile == null ? h("div", { class: "muted small" }, reason(p)) : [
        h("div", { class: "bar" }, h("i", { style: `left:${Math.max(0, Math.min(100, p.percentile))}%` })),
        h("div", { class: "muted small" }, `${t("this_enterprise")}: ${fmtValue(p.value, c.unit, 2)} · ${t("median")}: ${fmtValue(median, c.unit, 2)} · ${p.peers} ${t("peers_n")} · ${p.day}`)])),
  session.me?.role === "enterprise_user" ? null : h("p", { class: "small" }, h("a", { href: "#/industry" }, t("nav_index"))));
}

// ------------------------------------------------------------------ the evidence of a figure

/** #/evidence/{enterprise}/{indicator}/{day}[?device=key&batch=n]: figure -> devices -> readings -> proof. */
export async function figurePage(enterpriseId, indicator, day) {
  const q = hashParams();
  const [profile, figure] = await Promise.all([api(`/api/v1/enterprises/${enterpriseId}`), api(`/api/v1/enterprises/${enterpriseId}/indicators/${indicator}/${day}`)]);
  const cat = (await scenarioCatalog(profile.industry)).find((c) => c.name === indicator);
  const base = `#/evidence/${enterpriseId}/${indicator}/${day}`;
  const readingsSlot = h("div"), proofSlot = h("div");
  const page = h("div", { "data-figure": `${indicator}/${day}` },
    h("p", {}, h("a", { href: `#/enterprise/${enterpriseId}?ind=${indicator}` }, "← " + profile.name)),
    h("h1", {}, `${t("nav_evidence")} · ${labelOf(cat, indicator)} · ${day}`),
    h("div", { class: "kpis" }, kpi(t("figure"), fmtValue(figure.value, figure.unit, 2)), kpi(t("quality"), tOr("q_" + figure.quality, figure.quality)),
      kpi(t("devices_behind"), fmtNum(figure.devices.length))),
    card(t("devices_behind"), table([
      { title: t("key"), render: (d) => d.device },
      { title: t("value"), num: true, render: (d) => fmtValue(d.value, figure.unit, 2) },
      { title: t("quality"), render: (d) => tOr("q_" + d.quality, d.quality) },
      { title: t("points"), num: true, render: (d) => fmtNum(d.points) },
      { title: "", render: (d) => h("a", { href: `${base}?device=${encodeURIComponent(d.device)}`, "data-readings": d.device,
        class: q.get("device") === d.device ? "active" : null }, t("open_readings") + " →") },
    ], figure.devices)),
    readingsSlot, proofSlot);
  const device = q.get("device");
  if (device) {
    const behind = figure.devices.find((d) => d.device === device);
    if (behind) section(readingsSlot, () => readingsCard(behind, base, proofSlot, q.get("batch")));
  }
  return page;
}

function kpi(label, value) { return h("div", { class: "kpi" }, h("div", { class: "v" }, value), h("div", { class: "l" }, label)); }

async function readingsCard(behind, base, proofSlot, batchParam) {
  const data = await api(behind.readings);
  const batches = new Map();
  for (const r of [...data.readings, ...data.events]) batches.set(r.batch_id, (batches.get(r.batch_id) || 0) + 1);
  const numeric = data.readings.filter((r) => typeof r.value === "number");
  const el = h("div", { class: "chart", style: "height:220px" });
  setTimeout(() => chart(el, { tooltip: { trigger: "axis", formatter: (ps) => tooltipHtml(fmtDateTime(ps[0].value[0]), ps.map((p) => [p.marker, `${p.seriesName}: ${fmtNum(p.value[1], 3)}`])) }, grid: { left: 60, right: 20, top: 20, bottom: 30 },
    xAxis: { type: "time", min: data.window.from_ms, max: data.window.to_ms, axisLabel: { formatter: (v) => fmtDateTime(v).slice(-5) } },
    yAxis: { type: "value", scale: true },
    series: [...new Set(numeric.map((r) => r.key))].map((k) => ({ name: k, type: "line", showSymbol: false, lineStyle: { width: 1 },
      data: numeric.filter((r) => r.key === k).map((r) => [r.ts, r.value]) })) }), 0);
  const showProof = (batch) => section(proofSlot, () => proofCard(batch, behind.device));
  if (batchParam && batches.has(Number(batchParam))) showProof(Number(batchParam));
  return card(`${t("readings_behind")} · ${behind.device} · ${fmtValue(data.value, data.unit, 2)}`,
    h("p", { class: "muted small" }, `${fmtDateTime(data.window.from_ms)} – ${fmtDateTime(data.window.to_ms)} · ${fmtNum(data.readings.length)} ${t("readings")}, ${fmtNum(data.events.length)} ${t("events")}`),
    el,
    h("h3", {}, t("batches")),
    table([{ title: t("batch"), render: ([b]) => `#${b}` }, { title: t("points"), num: true, render: ([, n]) => fmtNum(n) },
      { title: "", render: ([b]) => h("button", { "data-batch": b, onclick: () => { history.replaceState(null, "", `${base}?device=${encodeURIComponent(behind.device)}&batch=${b}`); showProof(b); } }, t("show_proof")) }],
    [...batches.entries()]),
    h("details", {}, h("summary", {}, `${t("readings")} (${fmtNum(Math.min(200, data.readings.length))} / ${fmtNum(data.readings.length)})`),
      table([{ title: t("device_time"), render: (r) => fmtDateTime(r.ts) }, { title: t("property"), render: (r) => r.key },
        { title: t("value"), num: true, render: (r) => typeof r.value === "number" ? fmtNum(r.value, 3) : String(r.value) },
        { title: t("batch"), render: (r) => `#${r.batch_id}` }], data.readings.slice(0, 200))));
}

// ------------------------------------------------------------------ ledger proof, checked here

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g).map((x) => parseInt(x, 16)));
async function sha256(...parts) {
  const total = parts.reduce((n, p) => n + p.length, 0), all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

/** RFC 9162 §2.1.3.2: the root an inclusion path leads to. */
async function rootFromPath(index, size, leaf, path) {
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else r = await sha256(Uint8Array.of(1), r, p);
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export async function verifyProof(proof) {
  if (!globalThis.crypto?.subtle) return null;
  const inc = proof;
  const leaf = await sha256(Uint8Array.of(0), new TextEncoder().encode(inc.leaf_data));
  const root = await rootFromPath(inc.leaf_index, inc.tree_size, leaf, inc.inclusion_path.map(unhex));
  let listed = [];
  try { listed = JSON.parse(inc.leaf_data).device_commitments || []; } catch { listed = []; }
  return { leaf: hex(leaf) === inc.leaf_hash, path: root != null && hex(root) === inc.root_hash,
    head: inc.tree_head?.root_hash === inc.root_hash && inc.tree_head?.tree_size === inc.tree_size,
    commit: listed.includes(proof.points?.commitment) };
}

export async function proofCard(batchId, deviceKey) {
  const path = `/api/v1/ledger/telemetry/batches/${batchId}/devices/${encodeURIComponent(deviceKey)}/proof`;
  const proof = await api(path);
  const inc = proof, pts = proof.points;
  const checks = await verifyProof(proof);
  const mark = (ok) => h("span", { class: `badge ${ok ? "online" : "offline"}` }, ok ? "✓" : "✗");
  const download = h("a", { href: "#", onclick: async (e) => { e.preventDefault(); const blob = await apiBlob(path);
    const a = h("a", { href: URL.createObjectURL(blob), download: `proof-batch-${batchId}-${deviceKey}.json` }); a.click(); } }, t("download_proof"));
  return card(`${t("proof")} · ${t("batch")} #${batchId} · ${deviceKey}`, h("p", { class: "muted small", "data-explain": "proof" }, t("proof_explain")),
    h("div", { "data-proof": batchId, "data-verified": checks ? String(Object.values(checks).every(Boolean)) : "unavailable" },
      table([{ title: "", render: ([k]) => k }, { title: "", render: ([, v]) => v }], [
        [t("points"), `${fmtNum(pts.readings.length)} ${t("readings")}, ${fmtNum(pts.events.length)} ${t("events")}`],
        ["points_digest", h("code", {}, pts.points_digest)], ["commitment", h("code", {}, pts.commitment)],
        [t("leaf_index"), `${fmtNum(inc.leaf_index)} / ${t("tree_size")} ${fmtNum(inc.tree_size)}`],
        [t("root_hash"), h("code", {}, inc.root_hash)],
        [t("signed_at"), `${fmtDateTime(inc.tree_head?.timestamp_ms)} · ed25519 ${inc.tree_head?.public_key?.slice(0, 16)}…`]]),
      h("h3", {}, t("verify")),
      checks ? h("ul", { class: "checks" }, [["v_leaf", checks.leaf], ["v_path", checks.path], ["v_head", checks.head], ["v_commit", checks.commit]]
        .map(([k, ok]) => h("li", {}, mark(ok), " ", t(k)))) : h("p", { class: "muted" }, t("v_unavailable")),
      h("p", { class: "small" }, download)));
}

// ------------------------------------------------------------------ the evidence page without a figure

export async function evidenceHome() {
  const q = hashParams();
  const [heads, enterprises] = await Promise.all([api("/api/v1/ledger/tree-heads?limit=1").catch(() => []), api("/api/v1/enterprises")]);
  const head = heads[0];
  const ent = h("select", { id: "ev-enterprise" }, enterprises.map((e) => h("option", { value: e.id, selected: String(e.id) === q.get("e") }, e.name)));
  const ind = h("select", { id: "ev-indicator" });
  const day = h("input", { type: "date", id: "ev-day", value: isoDay(Date.now() - DAY_MS) });
  const fill = async () => {
    const e = enterprises.find((x) => String(x.id) === ent.value);
    const cat = await scenarioCatalog(e?.industry);
    ind.replaceChildren(...cat.map((c) => h("option", { value: c.name }, labelOf(c, c.name))));
  };
  ent.addEventListener("change", fill);
  await fill();
  return h("div", {}, h("h1", {}, t("nav_evidence")), card(null, h("p", {}, t("evidence_hint"))),
    card(t("evidence_pick"), h("div", { class: "row" },
      h("label", { for: "ev-enterprise" }, t("name")), ent, h("label", { for: "ev-indicator" }, t("indicator")), ind,
      h("label", { for: "ev-day" }, t("day")), day,
      h("button", { class: "primary", id: "ev-go", onclick: () => { location.hash = `#/evidence/${ent.value}/${ind.value}/${day.value}`; } }, t("go")))),
    card(null, h("p", { "data-explain": "tree-head" }, t("tree_head_explain")), h("p", { "data-explain": "proof" }, t("proof_explain"))),
    card(t("latest_head"), head ? table([{ title: "", render: ([k]) => k }, { title: "", render: ([, v]) => v }], [
      [t("tree_size"), fmtNum(head.tree_size)], [t("root_hash"), h("code", {}, head.root_hash)], [t("signed_at"), fmtDateTime(head.timestamp_ms)],
      [t("public_key"), h("code", { "data-tree-head": "latest" }, head.public_key)]]) : h("p", { class: "muted", "data-tree-head": "none" }, t("no_tree_head"))));
}
