// The officer's workflow on the borrower's credit card: request a decision (product, loan application), see
// where it stands, override it with a written reason in a modal dialog; and the risk managers' list of what
// waits for four eyes, with approve / reject dialogs. Every text reaches the page as text (h()).
import { api, session } from "../api.js";
import { code, fmtCny, fmtDateTime, getLang, t } from "../i18n.js";
import { card, h, section, table } from "../ui.js";

const STATE_BADGE = { approved: "online", declined: "offline", referred: "refer", pending_approval: "refer" };
const REVIEW_BADGE = { approved: "online", rejected: "offline", pending: "refer" };
const bilingual = (o, key) => (getLang() === "en" ? o[`${key}_en`] : o[`${key}_zh`]);
const cny = (v) => (v == null ? "—" : fmtCny(Number(v)));

/** A modal <dialog> with a form; `submit(values)` runs on confirm and closes it, or shows its error in place. */
export function formDialog(title, fields, submit, name) {
  const error = h("p", { class: "error", "data-dialog-error": "" });
  const inputs = fields.map((f) => {
    const attrs = { name: f.name, id: `dlg-${f.name}`, required: f.required || null, minlength: f.minlength || null,
      placeholder: f.placeholder || null, step: f.step || null, min: f.min || null };
    const input = f.options ? h("select", attrs, f.options.map(([v, label]) => h("option", { value: v }, label)))
      : f.textarea ? h("textarea", { ...attrs, rows: 3 }) : h("input", { ...attrs, type: f.type || "text", value: f.value ?? null });
    if (f.value != null && f.options) input.value = f.value;
    return h("label", { class: "field", for: `dlg-${f.name}` }, h("span", {}, f.label), input);
  });
  const dialog = h("dialog", { class: "wf-dialog", "data-dialog": name });
  const cancel = h("button", { type: "button", "data-dialog-cancel": "", onclick: () => dialog.close() }, t("wf_cancel"));
  const form = h("form", { method: "dialog" }, h("h2", {}, title), inputs, error,
    h("div", { class: "row" }, cancel, h("button", { class: "primary", type: "submit", "data-dialog-submit": "" }, t("wf_confirm"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const values = Object.fromEntries(new FormData(form).entries());
    try { await submit(values); dialog.close(); } catch (err) { error.textContent = err.message || String(err); }
  });
  dialog.append(form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** The request form: a product and, optionally, one of the bank's open applications of this borrower. */
export async function requestForm(enterpriseId, onDecided) {
  const [products, loans, profile] = await Promise.all([api("/api/v1/credit/products"),
    api(`/api/v1/loans?enterprise_id=${enterpriseId}`), api(`/api/v1/enterprises/${enterpriseId}`)]);
  const product = h("select", { id: "wf-product" }, products.map((p) => h("option", { value: p.code }, getLang() === "en" ? p.name_en : p.name_zh)));
  const fits = products.find((p) => p.scenario === profile.industry);  // the borrower's industry's product first
  if (fits) product.value = fits.code;
  const open = loans.filter((l) => l.state === "application");
  const loan = h("select", { id: "wf-loan" }, h("option", { value: "" }, t("wf_no_application")),
    open.map((l) => h("option", { value: l.id }, `#${l.id} · ${code("product", l.product)} · ${fmtCny(Number(l.amount_cny))}`)));
  if (open.length) loan.value = String(open[open.length - 1].id);
  const error = h("p", { class: "error" });
  const button = h("button", { class: "primary", id: "wf-request", type: "submit" }, t("wf_submit"));
  const form = h("form", { class: "row", "data-request-decision": enterpriseId },
    h("label", {}, `${t("wf_product")} `, product), h("label", {}, `${t("wf_application")} `, loan), button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      const body = { product_code: product.value, ...(loan.value ? { loan_id: Number(loan.value) } : {}) };
      await api(`/api/v1/enterprises/${enterpriseId}/credit/decisions`, { method: "POST", body });
      onDecided();
    } catch (err) { error.textContent = err.message; } finally { button.disabled = false; }
  });
  return h("div", { class: "wf-request" }, h("h3", {}, t("wf_request")), form, error);
}

/** Where a decision stands: the badge, the application it moves, the reviews, and the override button. */
export async function standing(decision, onChange) {
  const w = await api(`/api/v1/credit/decisions/${decision.id}/workflow`);
  const coverage = decision.decision?.policy?.find((f) => f.code === "iot_coverage_below");
  return h("div", { class: "wf-standing", "data-workflow": w.state },
    h("p", {}, h("strong", {}, `${t("wf_standing")}: `),
      h("span", { class: `badge ${STATE_BADGE[w.state]}`, "data-wf-state": w.state }, bilingual(w, "state")),
      w.limit_cny != null ? ` · ${t("limit")}: ${cny(w.limit_cny)}` : null,
      w.four_eyes_limit_cny != null ? h("span", { class: "muted" }, ` · ${t("wf_threshold")}: ${cny(w.four_eyes_limit_cny)}`) : null,
      coverage ? h("span", { class: "muted", "data-coverage": coverage.measured ?? "unknown" },
        ` · ${t("wf_coverage")}: ${coverage.measured == null ? t("unknown") : `${Math.round(coverage.measured * 100)}%`}`) : null),
    w.loan ? h("p", { "data-loan": w.loan.id, "data-loan-state": w.loan.state },
      `${t("wf_application")} #${w.loan.id} · ${t("wf_loan_state")}: `, h("span", { class: "badge" }, code("loan_state", w.loan.state))) : null,
    w.reviews.length ? h("div", {}, h("h3", {}, t("wf_reviews")), reviewTable(w.reviews)) : null,
    w.state === "referred" ? h("button", { class: "primary", "data-override": decision.id,
      onclick: () => overrideDialog(decision, onChange) }, t("wf_override")) : null);
}

function overrideDialog(decision, onChange) {
  return formDialog(t("wf_override_title"), [
    { name: "outcome", label: t("wf_outcome"), options: [["approve", code("outcome", "approve")], ["decline", code("outcome", "decline")]] },
    { name: "limit_cny", label: t("wf_limit"), type: "number", step: "0.01", min: "0.01", value: decision.limit_cny ?? "",
      placeholder: "1000000" },
    { name: "reason", label: t("wf_reason"), textarea: true, required: true, minlength: 5, placeholder: t("wf_reason_hint") },
  ], async (v) => {
    const body = { outcome: v.outcome, reason: v.reason, ...(v.outcome === "approve" ? { limit_cny: v.limit_cny } : {}) };
    await api(`/api/v1/credit/decisions/${decision.id}/override`, { method: "POST", body });
    onChange();
  }, "override");
}

function reviewTable(reviews, actions = null) {
  return table([
    { title: t("type"), render: (r) => bilingual(r, "kind") },
    { title: t("wf_outcome"), render: (r) => `${code("outcome", r.prior_outcome)} → ${code("outcome", r.new_outcome)}` },
    { title: t("wf_limit"), num: true, render: (r) => cny(r.new_limit_cny) },
    { title: t("wf_reason"), render: (r) => h("span", { "data-review-reason": r.id }, r.reason) },
    { title: t("wf_requested_by"), render: (r) => `${r.requested_by || "—"} · ${fmtDateTime(r.created_ms)}` },
    { title: t("status"), render: (r) => h("span", {}, h("span", { class: `badge ${REVIEW_BADGE[r.state]}`, "data-review-state": r.state },
      bilingual(r, "state")), r.reviewed_by ? ` ${r.reviewed_by}: ${r.review_reason}` : "") },
    ...(actions ? [{ title: "", render: actions }] : []),
  ], reviews);
}

/** The risk manager's page: what waits in the bank for a second person. */
export async function reviewsPage() {
  const slot = h("div");
  const load = () => section(slot, async () => {
    const rows = await api("/api/v1/credit/reviews");
    if (!rows.length) return h("p", { class: "muted", "data-pending": "none" }, t("wf_none_pending"));
    return h("div", { "data-pending": rows.length }, reviewTable(rows, (r) => r.can_review
      ? h("span", { class: "row" },
        h("button", { class: "primary", "data-approve": r.id, onclick: () => reviewDialog(r, true, load) }, t("wf_approve")),
        h("button", { "data-reject": r.id, onclick: () => reviewDialog(r, false, load) }, t("wf_reject")))
      : h("span", { class: "muted small" }, session.me?.role === "risk_manager" ? t("wf_own_request") : "—")),
    h("p", { class: "muted small" }, rows.map((r) => h("a", { href: `#/enterprise/${r.enterprise_id}`, "data-review-enterprise": r.id },
      `${r.enterprise_name || r.enterprise_id} · ${code("product", r.product_code)}${r.loan_id ? ` · #${r.loan_id}` : ""}`)).flatMap((a) => [a, " "])));
  });
  load();
  return h("div", {}, h("h1", {}, t("wf_pending")), card(null, slot));
}

function reviewDialog(review, approve, onDone) {
  return formDialog(t(approve ? "wf_approve_title" : "wf_reject_title"), [
    { name: "reason", label: t("wf_reason"), textarea: true, required: true, minlength: 5, placeholder: t("wf_reason_hint") },
  ], async (v) => {
    await api(`/api/v1/credit/reviews/${review.id}/${approve ? "approve" : "reject"}`, { method: "POST", body: { reason: v.reason } });
    onDone();
  }, approve ? "approve" : "reject");
}
