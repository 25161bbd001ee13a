// The credit part on the enterprise page: score, grade, PD, the outcome (approve / refer / decline) and the
// policy conditions that decided it, reasons, the limit with its basis label (verified, supported or
// reported and not verified), the cross-verification findings with the source modes behind each check
// (the assessment), and the credit report (HTML / PDF).
import { api, apiBlob, session } from "../api.js";
import { code, fmtCny, fmtCnyCompact, fmtDateTime, fmtNum, fmtPct, getLang, t, tOr } from "../i18n.js";
import { card, h, section, table } from "../ui.js";
import { requestForm, standing } from "./credit_workflow.js";

/** A reason code in the console's language: the server says each reason in both (the features' own words). */
export function reasonText(r) { return (getLang() === "en" ? r.text_en : r.text_zh) || r.text; }

/** A cross-verification finding in the console's language (the server renders its code and parameters in both). */
export function checkFinding(c) { return (getLang() === "en" ? c.finding_en : c.finding_zh) || c.finding; }

/** Two cards: the latest decision (score, grade, PD, reasons, limit) and the cross-verification findings. */
export function creditCards(enterpriseId) {
  const decision = h("div"), checks = h("div"), request = h("div");
  const reload = () => section(decision, () => decisionView(enterpriseId, reload));
  reload();
  if (["credit_officer", "risk_manager"].includes(session.me?.role)) section(request, () => requestForm(enterpriseId, reload));
  section(checks, () => crossChecks(enterpriseId));
  return h("div", { class: "grid two", "data-credit": enterpriseId }, card(t("score"), request, decision), card(t("crosscheck"), checks));
}

/** A policy finding (a condition or the grade band) in the console's language. */
export function findingText(f) { return getLang() === "en" ? f.text_en : f.text_zh; }

const OUTCOME_BADGE = { approve: "online", refer: "refer", decline: "offline" };

async function decisionView(enterpriseId, reload) {
  const rows = await api(`/api/v1/enterprises/${enterpriseId}/credit/decisions`);
  if (!rows.length) return h("p", { class: "muted", "data-decision": "none" },
    t(["credit_officer", "risk_manager"].includes(session.me?.role) ? "no_decision_request" : "no_decision_wait"));
  const d = rows.reduce((a, b) => (b.decided_ms > a.decided_ms ? b : a));
  const limit = d.decision?.limit;
  const outcome = d.outcome || (d.approved ? "approve" : "decline");
  const decidedBy = d.decision?.decided_by || [];
  const policy = d.decision?.policy || [];
  const steps = getLang() === "en" ? limit?.steps : (limit?.steps_zh?.length ? limit.steps_zh : limit?.steps);
  return h("div", { "data-decision": d.id },
    h("div", { class: "kpis compact" },
      kpi(t("grade"), h("span", { class: `grade g-${d.grade}` }, d.grade)), kpi(t("score_pts"), fmtNum(d.score, 0)),
      kpi(t("pd"), fmtPct(d.pd)), kpi(t(outcome === "refer" ? "limit_proposed" : "limit"), d.limit_cny == null ? "—" : h("span", { title: fmtCny(Number(d.limit_cny)), "data-limit-cny": d.limit_cny }, fmtCnyCompact(Number(d.limit_cny))))),
    h("p", {}, h("span", { class: `badge ${OUTCOME_BADGE[outcome]}`, "data-outcome": outcome }, code("outcome", outcome)), " ",
      !decidedBy.length && d.decision?.decline_reason ? h("span", { class: "muted" }, d.decision.decline_reason) : null),
    decidedBy.length ? h("div", {}, h("h3", {}, t("decided_by")),
      h("ul", { class: "decided-by", "data-decided-by": outcome }, decidedBy.map((f) => h("li", { "data-finding": f.code }, findingText(f))))) : null,
    h("h3", {}, t("reasons")),
    h("ol", { class: "reasons" }, (d.decision?.reasons || []).map((r) => h("li", {}, reasonText(r)))),
    limit ? h("div", { "data-limit-basis": limit.basis_label || "" }, h("h3", {}, t("limit_steps")),
      limit.basis_label ? h("p", {}, h("span", { class: `badge ${limit.basis_label === "reported_unverified" ? "offline" : limit.basis_label === "iot_supported" ? "refer" : "online"}` },
        getLang() === "en" ? limit.basis_label_en : limit.basis_label_zh)) : null,
      h("ul", { class: "muted small" }, (steps || []).map((s) => h("li", {}, s)))) : null,
    policy.length ? h("details", {}, h("summary", {}, t("policy_checks")), h("ul", { class: "small" },
      policy.map((f) => h("li", { "data-finding": f.code }, h("span", { class: `badge ${f.holds ? OUTCOME_BADGE[f.outcome] : ""}` },
        f.holds ? code("outcome", f.outcome) : t("condition_clear")), " ", findingText(f))))) : null,
    h("p", { class: "muted small" }, `${t("product_code")}: ${code("product", d.product_code)} · ${t("model")}: ${d.model_version.slice(0, 12)} · ${t("decided")}: ${fmtDateTime(d.decided_ms)}`,
      d.model_label ? [" · ", h("span", { class: "badge refer", "data-model-label": "simulated" }, getLang() === "en" ? d.model_label.en : d.model_label.zh)] : null,
      d.links?.ledger_proof ? [" · ", h("a", { href: d.links.ledger_proof, target: "_blank", onclick: openJson(d.links.ledger_proof) }, t("decision_proof"))] : null),
    await standing(d, reload));
}

function kpi(label, value) { return h("div", { class: "kpi" }, h("div", { class: "v" }, value), h("div", { class: "l" }, label)); }

/** Protected JSON (a ledger proof) opened as a local document, since a plain link carries no token. */
function openJson(path) {
  return async (e) => {
    e.preventDefault();
    const blob = await apiBlob(path);
    window.open(URL.createObjectURL(blob), "_blank");
  };
}

async function crossChecks(enterpriseId) {
  const a = await api(`/api/v1/enterprises/${enterpriseId}/credit/assessment`);
  const status = (c) => h("span", { class: `badge ${c.status === "consistent" ? "online" : c.status === "insufficient_evidence" ? "" : "offline"}` },
    tOr("chk_" + c.status, c.status));
  const noStatements = a.statements_count === 0;  // nothing reported to check: neither passed nor failed
  const verification = noStatements ? "none" : a.verification || (a.cross_verified ? "verified" : "undecided");
  const badge = { verified: "online", supported: "refer", failed: "offline", undecided: "", none: "" }[verification];
  const sources = (c) => Object.entries(c.sources || {}).map(([m, s]) => `${code("source_mode", m)} ${fmtPct(s)}`).join(" · ") || "—";
  return h("div", { "data-assessment": enterpriseId },
    h("p", {}, h("span", { class: `badge ${badge}`, "data-verification": verification }, t(noStatements ? "no_statements" : "verification_" + verification)),
      h("span", { class: "muted" }, ` · ${a.as_of}` + (a.iot_coverage == null ? "" : ` · ${t("coverage_days")} ${fmtPct(a.iot_coverage)}`))),
    a.cross_checks.length ? table([
      { title: t("period"), render: (c) => c.period },
      { title: t("check"), render: (c) => code("check", c.check) },
      { title: t("reported"), num: true, render: (c) => c.reported == null ? "—" : fmtCny(c.reported) },
      { title: t("evidenced"), num: true, render: (c) => c.evidenced == null ? "—" : fmtCny(c.evidenced) },
      { title: t("ratio"), num: true, render: (c) => c.ratio == null ? "—" : fmtNum(c.ratio, 2) },
      { title: t("coverage_days"), num: true, render: (c) => fmtPct(c.coverage) },
      { title: t("tolerance"), num: true, render: (c) => c.tolerance == null ? "—" : fmtNum(c.tolerance, 2) },
      { title: t("status"), render: (c) => h("span", { title: checkFinding(c) }, status(c)) },
      { title: t("evidence_sources"), render: (c) => h("span", { title: (getLang() === "en" ? c.tolerance_basis_en : c.tolerance_basis_zh) || c.tolerance_basis || "" }, sources(c)) },
      { title: t("check_level"), render: (c) => h("span", { class: `badge ${c.level === "verified" ? "online" : c.level === "supported" ? "refer" : ""}` },
        tOr("level_" + c.level, c.level || "—")) },
    ], a.cross_checks) : h("p", { class: "muted", "data-empty": "cross-checks" }, t(noStatements ? "no_statements_hint" : "no_checks_hint")),
    h("details", {}, h("summary", {}, t("finding")), h("ul", { class: "small" }, a.cross_checks.map((c) => h("li", { "data-finding-code": c.finding_code || null }, checkFinding(c))))),
    h("details", {}, h("summary", {}, t("features")), table([
      { title: t("name"), render: ([k]) => code("feature", k) },
      { title: t("value"), num: true, render: ([, v]) => v == null ? "—" : fmtNum(v, 3) }], Object.entries(a.features))));
}

/** Buttons opening the credit report (HTML or PDF), fetched with the token and shown as a local document. */
export function reportLinks(enterpriseId) {
  const error = h("p", { class: "error" });
  const open = (format) => async () => {
    error.textContent = "";
    try {
      const blob = await apiBlob(`/api/v1/enterprises/${enterpriseId}/credit/report?format=${format}&lang=${getLang() === "en" ? "en" : "zh-CN"}`);
      const url = URL.createObjectURL(blob);
      window.open(url, "_blank");
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) { error.textContent = err.status === 403 ? t("no_access") + ": " + err.message : err.message; }
  };
  return h("div", { class: "report-links" }, h("span", { class: "row" }, h("strong", {}, t("report")),
    h("button", { class: "primary", "data-report": "html", onclick: open("html"), title: t("report_hint") }, t("open_html")),
    h("button", { "data-report": "pdf", onclick: open("pdf"), title: t("report_hint") }, t("open_pdf"))), error);
}
