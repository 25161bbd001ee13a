// Integrators and admins: bulk device provisioning. Upload a CSV/XLSX for one enterprise, read the per-row
// report, download the created devices' access tokens once (they live only in this page's memory).
import { ApiError, api, session } from "../api.js";
import { codesOf, fmtNum, hasRole, t } from "../i18n.js";
import { card, h, table } from "../ui.js";

const CREDENTIAL_COLUMNS = ["row", "key", "device_type", "site", "source_mode", "access_token"];

/** One CSV field: quoted when needed; a leading = + - @ tab or CR is neutralised so a spreadsheet does not run it
 * (as services/access_log.py safe_cell). */
export function csvField(value) {
  let text = value == null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function upload(enterpriseId, file, dryRun) {
  const form = new FormData();
  form.append("file", file, file.name);
  let response;
  try {
    response = await fetch(`/api/v1/enterprises/${enterpriseId}/devices/import${dryRun ? "?dry_run=true" : ""}`,
      { method: "POST", headers: { Authorization: `Bearer ${session.token}`, Accept: "application/json" }, body: form });
  } catch (err) { throw new ApiError(0, "network", String(err)); }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data?.error || "http_" + response.status, data?.message || response.statusText);
  return data;
}

function downloadOnce(result, button) {
  let created = result.created;
  button.addEventListener("click", () => {
    if (!created) return;
    const lines = [CREDENTIAL_COLUMNS.join(","), ...created.map((d) => CREDENTIAL_COLUMNS.map((c) => csvField(d[c])).join(","))];
    const link = h("a", { href: URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" })),
      download: `wuxin-device-tokens-enterprise-${result.enterprise_id}.csv` });
    document.body.append(link); link.click(); link.remove();
    created = null;  // the tokens leave memory: a second download is impossible, as on the server
    result.created = [];
    button.disabled = true; button.textContent = t("prov_downloaded");
  });
}

function report(result) {
  const summary = h("p", { id: "prov-summary", "data-created": result.created_count, "data-refused": result.refused_rows },
    t(result.dry_run ? "prov_summary_dry" : "prov_summary", { rows: fmtNum(result.rows), valid: fmtNum(result.valid_rows),
      refused: fmtNum(result.refused_rows) }));
  const errors = result.errors.length ? table([
    { title: t("prov_row"), num: true, render: (e) => e.row },
    { title: t("prov_column"), render: (e) => e.column },
    { title: t("prov_value"), render: (e) => e.value },
    { title: t("prov_reason"), render: (e) => e.reason },
  ], result.errors) : h("p", { class: "muted" }, t("prov_no_errors"));
  errors.id = "prov-errors";
  let credentials = null;
  if (result.created.length) {
    const button = h("button", { class: "primary", id: "prov-download" }, t("prov_download", { n: fmtNum(result.created.length) }));
    downloadOnce(result, button);
    credentials = h("div", {}, h("p", { class: "muted" }, t("prov_once")), button);
  }
  return h("div", { id: "prov-report" }, card(t("prov_report"), summary, credentials, h("h3", {}, t("prov_errors")), errors));
}

export async function provisionPage() {
  const enterprises = await api("/api/v1/enterprises");
  const select = h("select", { id: "prov-enterprise" }, enterprises.map((e) => h("option", { value: e.id }, `${e.name} (#${e.id})`)));
  const file = h("input", { id: "prov-file", type: "file", accept: ".csv,.xlsx" });
  const dry = h("input", { id: "prov-dry", type: "checkbox" });
  const out = h("div", { id: "prov-out" });
  const note = h("p", { class: "error", id: "prov-error" });
  const form = h("form", { onsubmit: async (event) => {
    event.preventDefault();
    note.textContent = "";
    if (!file.files.length) { note.textContent = t("prov_pick_file"); return; }
    try { out.replaceChildren(report(await upload(select.value, file.files[0], dry.checked))); }
    catch (err) { out.replaceChildren(); note.textContent = `${err.status || ""} ${err.message}`; }
  } },
    h("label", { for: "prov-enterprise" }, t("prov_enterprise")), select,
    h("label", { for: "prov-file" }, t("prov_file")), file,
    h("label", {}, dry, " ", t("prov_dry_run")),
    h("p", {}, h("button", { class: "primary", type: "submit", id: "prov-submit" }, t("prov_upload"))), note);
  return h("div", {}, h("h1", {}, t("nav_provision")),
    card(null, h("p", { class: "muted" }, t("prov_hint")),
      h("pre", {}, `key,device_type,site,source_mode,attr.run_threshold_a\nloom-101,${codesOf("device_type").find((d) => hasRole(d, "measures_machine_current")) || "device_type"},一号车间,bank_installed,5.0`),
      enterprises.length ? form : h("p", { class: "state" }, t("prov_no_enterprise"))),
    out);
}
