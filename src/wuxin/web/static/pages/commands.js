// Commands to devices (issue 18): the request dialog (operations the API says the device takes), the four-eyes
// decision dialog, and the command lists shown on the device, loan and alarm pages, the approvals page and the
// enterprise's read-only list. Every API value reaches the page as text (h() makes text nodes).
import { api, session } from "../api.js";
import { code, fmtDateTime, hasRole, t } from "../i18n.js";
import { card, h, section, table } from "../ui.js";

const BANK_DECIDERS = ["credit_officer", "risk_manager"];
export const COMMANDERS = ["credit_officer", "risk_manager", "platform_admin", "integrator"];  // who may ask at all
const STATE_BADGE = { acknowledged: "online", failed: "offline", refused: "offline", expired: "unknown", cancelled: "unknown" };

/** A modal dialog around `fields`; submit() may throw (its message is shown, the dialog stays open). */
function dialog(name, title, fields, submit) {
  const error = h("p", { class: "error", "data-dialog-error": "" });
  const box = h("dialog", { class: "wf-dialog", "data-dialog": name });
  const form = h("form", { method: "dialog" }, h("h2", {}, title), fields, error,
    h("div", { class: "row" }, h("button", { type: "button", "data-dialog-cancel": "", onclick: () => box.close() }, t("cancel")),
      h("button", { class: "primary", type: "submit", "data-dialog-submit": "" }, t("cmd_submit"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try { await submit(); box.close(); } catch (err) { error.textContent = err.message || String(err); }
  });
  box.append(form);
  box.addEventListener("close", () => box.remove());
  document.body.append(box);
  box.showModal();
  return box;
}

const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);

/** The inputs of an operation's parameters (from the API's description); returns [nodes, read()]. */
function paramInputs(spec) {
  const inputs = Object.entries(spec?.params || {}).map(([name, p]) => {
    const input = p.type === "boolean" ? h("input", { type: "checkbox", "data-param": name })
      : p.type === "integer" ? h("input", { type: "number", min: p.min, max: p.max, step: 1, "data-param": name, placeholder: `${p.min}–${p.max}` })
        : h("input", { maxlength: p.max_chars || 200, "data-param": name });
    return [name, p, input];
  });
  const read = () => Object.fromEntries(inputs.filter(([, p, i]) => p.type === "boolean" || i.value !== "")
    .map(([name, p, i]) => [name, p.type === "boolean" ? i.checked : p.type === "integer" ? Number(i.value) : i.value]));
  return [inputs.map(([name, , i]) => field(code("command_param", name), i)), read];
}

/** Open the request dialog for a device; `alarm` and `loanId` preset what prompted it. onDone(command) after. */
export async function requestCommand(deviceKey, { enterpriseId, alarmId = null, loanId = null, onDone } = {}) {
  const [ops, loans] = await Promise.all([api(`/api/v1/devices/${encodeURIComponent(deviceKey)}/command-operations`),
    enterpriseId && BANK_DECIDERS.includes(session.me?.role) ? api(`/api/v1/loans?enterprise_id=${enterpriseId}`) : []]);
  const allowed = ops.filter((o) => !o.refusal);
  if (!allowed.length) { alert(t("cmd_none_allowed")); return null; }
  const operation = h("select", { id: "cmd-operation", name: "operation" }, ops.map((o) =>
    h("option", { value: o.operation, disabled: Boolean(o.refusal), title: o.refusal || null },
      o.refusal ? `${code("command_operation", o.operation)} (${t("cmd_not_allowed")})` : code("command_operation", o.operation))));
  operation.value = allowed[0].operation;
  const loan = h("select", { id: "cmd-loan", name: "loan" }, h("option", { value: "" }, t("cmd_no_loan")),
    loans.map((l) => h("option", { value: l.id }, `#${l.id} · ${code("product", l.product)} · ${code("loan_state", l.state)}`)));
  if (loanId != null) loan.value = String(loanId);
  const reason = h("textarea", { id: "cmd-reason", name: "reason", rows: 3, maxlength: 500 });
  const paramsSlot = h("div"), notes = h("div", { class: "muted" });
  let readParams = () => ({});
  const draw = () => {
    const spec = ops.find((o) => o.operation === operation.value);
    const [nodes, read] = paramInputs(spec);
    readParams = read;
    paramsSlot.replaceChildren(...(nodes.length ? [h("strong", {}, t("cmd_params")), ...nodes] : []));
    notes.replaceChildren(...[
      spec?.four_eyes ? h("p", { "data-note": "four-eyes" }, t("cmd_four_eyes")) : null,
      spec?.loan_states ? h("p", {}, t("cmd_needs_loan", { states: spec.loan_states.map((s) => code("loan_state", s)).join(" / ") })) : null,
      spec?.stationary ? h("p", {}, t("cmd_stationary")) : null].filter(Boolean));
    if (spec?.lender && !loan.value && loans.length) {
      const fit = loans.find((l) => (spec.loan_states || []).includes(l.state)) || loans[0];
      loan.value = String(fit.id);
    }
  };
  operation.addEventListener("change", draw);
  draw();
  return new Promise((resolve) => {
    const box = dialog("command-request", t("cmd_request_title", { device: deviceKey }), [
      field(t("cmd_operation"), operation), paramsSlot, notes,
      loans.length ? field(t("cmd_loan"), loan) : null,
      alarmId != null ? h("p", { class: "muted" }, `${t("cmd_alarm")}: #${alarmId}`) : null,
      field(t("cmd_reason"), reason)].filter(Boolean), async () => {
      const out = await api(`/api/v1/devices/${encodeURIComponent(deviceKey)}/commands`, { method: "POST", body: {
        operation: operation.value, params: readParams(), reason: reason.value,
        ...(loan.value ? { loan_id: Number(loan.value) } : {}), ...(alarmId != null ? { alarm_id: alarmId } : {}) } });
      resolve(out);
      onDone?.(out);
    });
    box.addEventListener("close", () => resolve(null));
  });
}

/** The approve / reject dialog of a four-eyes command. */
function decide(command, onDone) {
  const reason = h("textarea", { id: "cmd-decision-reason", rows: 3, maxlength: 500 });
  let step = "approve";
  const pick = (s) => () => { step = s; };
  const box = dialog("command-decide", t("cmd_decide_title", { id: command.id }), [
    h("p", {}, `${command.device_key} · ${code("command_operation", command.operation)}`),
    h("p", { class: "muted" }, `${t("cmd_reason")}: `, command.reason),
    field(t("cmd_decision_reason"), reason),
    h("div", { class: "row" },
      h("label", {}, h("input", { type: "radio", name: "step", value: "approve", checked: true, "data-step": "approve", onchange: pick("approve") }), ` ${t("cmd_approve")}`),
      h("label", {}, h("input", { type: "radio", name: "step", value: "reject", "data-step": "reject", onchange: pick("reject") }), ` ${t("cmd_reject")}`))],
  async () => {
    const out = await api(`/api/v1/commands/${command.id}/${step}`, { method: "POST", body: { reason: reason.value } });
    onDone?.(out);
  });
  return box;
}

/** What the current user may do with a command: decide (another person of the bank), cancel (own tenant). */
function actions(c, reload) {
  const me = session.me || {};
  if (c.state === "requested" && BANK_DECIDERS.includes(me.role)) {
    if (c.requested_by === me.id) return h("span", { class: "muted", "data-own": c.id }, t("cmd_own"));
    return h("button", { class: "primary", "data-decide": c.id, onclick: () => decide(c, reload) }, `${t("cmd_approve")} / ${t("cmd_reject")}`);
  }
  return null;
}

/** Why it failed (when it did) and the device's answer as it was stored, raw JSON shown as text (never markup). */
function answerCell(c) {
  return [c.failure ? h("div", { "data-command-failure": c.id }, c.failure) : null,
    c.answer ? h("code", { class: "raw", "data-command-raw": c.id }, JSON.stringify(c.answer)) : null,
    !c.failure && !c.answer ? "—" : null].filter(Boolean);
}

/** A table of commands with their state, answer and timestamps; `readOnly` shows no actions. */
export function commandTable(rows, reload, { readOnly = false } = {}) {
  if (!rows.length) return h("p", { class: "muted", "data-empty": "commands" }, t("none"));
  return table([
    { title: "#", render: (c) => c.id },
    { title: t("cmd_device"), render: (c) => c.device_key },
    { title: t("cmd_operation"), render: (c) => code("command_operation", c.operation) },
    { title: t("cmd_params"), render: (c) => Object.keys(c.params || {}).length ? JSON.stringify(c.params) : "—" },
    { title: t("status"), render: (c) => h("span", { class: `badge ${STATE_BADGE[c.state] || ""}`, "data-command-state": c.id, "data-state-code": c.state }, code("command_state", c.state)) },
    { title: t("cmd_reason"), render: (c) => [c.reason, c.decision_reason ? h("div", { class: "muted" }, c.decision_reason) : null] },
    { title: t("cmd_requested_at"), render: (c) => fmtDateTime(c.requested_ms) },
    { title: t("cmd_decided_at"), render: (c) => fmtDateTime(c.decided_ms) },
    { title: t("cmd_sent_at"), render: (c) => fmtDateTime(c.sent_ms) },
    { title: t("cmd_answered_at"), render: (c) => fmtDateTime(c.answered_ms) },
    { title: t("cmd_answer"), render: (c) => h("span", { "data-command-answer": c.id }, answerCell(c)) },
    ...(readOnly ? [] : [{ title: "", render: (c) => actions(c, reload) }]),
  ], rows);
}

/** A card listing the commands at `path` (a device's, a loan's, an alarm's), with a refresh and, when given, a
 * request button. */
export function commandsCard(path, { request = null, readOnly = false } = {}) {
  const slot = h("div", { "data-commands": path });
  const load = () => section(slot, async () => commandTable(await api(path), load, { readOnly }));
  load();
  return card(t("commands"), h("div", { class: "row" },
    request ? h("button", { class: "primary", "data-request-command": "", onclick: async () => { await request(); load(); } }, t("cmd_request")) : null,
    h("button", { "data-refresh-commands": "", onclick: load }, t("cmd_refresh"))), slot);
}

const VEHICLE_STATE_KEYS = ["speed_kmh", "acc_on", "oil_cut", "circuit_cut", "doors_locked"];

/** What the vehicle's latest reports say of what commands act on (a cut is confirmed by the data after it). */
export function vehicleStateCard(deviceKey) {
  const slot = h("div", { "data-vehicle-state": deviceKey });
  const load = () => section(slot, async () => {
    const { state } = await api(`/api/v1/devices/${encodeURIComponent(deviceKey)}/command-state`);
    const rows = VEHICLE_STATE_KEYS.filter((k) => state[k]);
    if (!rows.length) return h("p", { class: "muted" }, t("none"));
    return table([
      { title: t("property"), render: (k) => code("vehicle_state", k) },
      { title: t("value"), render: (k) => h("span", { "data-state-key": k, "data-state-value": String(state[k].value) },
        typeof state[k].value === "boolean" ? code("flag", state[k].value ? "yes" : "no") : `${state[k].value} km/h`) },
      { title: t("device_time"), render: (k) => fmtDateTime(state[k].ts_ms) }], rows);
  });
  load();
  return card(t("cmd_vehicle_state"), h("div", { class: "row" }, h("button", { "data-refresh-vehicle-state": "", onclick: load }, t("cmd_refresh"))), slot);
}

/** #/commands: a bank's pending approvals and all its commands; an enterprise user's read-only list. */
export async function commandsPage() {
  const readOnly = session.me?.role === "enterprise_user";
  if (readOnly) return h("div", {}, h("h1", {}, t("nav_commands")), card(t("cmd_mine_readonly"), commandsList("/api/v1/commands", true)));
  return h("div", {}, h("h1", {}, t("nav_commands")),
    card(t("cmd_pending"), commandsList("/api/v1/commands?state=requested", false, "pending")),
    card(t("cmd_all"), commandsList("/api/v1/commands", false, "all")));
}

function commandsList(path, readOnly, name = "mine") {
  const slot = h("div", { "data-command-list": name });
  const load = () => section(slot, async () => commandTable(await api(path), () => { window.dispatchEvent(new HashChangeEvent("hashchange")); }, { readOnly }));
  load();
  return slot;
}

/** The request dialog for the vehicle an alarm is about: its GPS terminal (the one device taking commands), found
 * as the alarm's device or, for another unit on the vehicle (an ADAS camera), by the plate they share. */
export async function commandFromAlarm(alarm) {
  const devices = await api(`/api/v1/enterprises/${alarm.enterprise_id}/devices`);
  const unit = devices.find((d) => d.id === alarm.device_id);
  const plate = unit?.attributes?.plate;
  const device = hasRole(unit?.device_type, "immobilises_vehicle") ? unit
    : plate ? devices.find((d) => hasRole(d.device_type, "immobilises_vehicle") && d.attributes?.plate === plate) : null;
  if (!device) { alert(t("cmd_none_allowed")); return null; }
  const loanId = (alarm.loan_ids || [])[0] ?? null;
  return requestCommand(device.key, { enterpriseId: alarm.enterprise_id, alarmId: alarm.id, loanId });
}
