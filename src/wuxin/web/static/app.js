// The console's shell: login, the top bar for the user's role, the language switch, the hash router.
import { api, session } from "./api.js";
import { code, getLang, setCodeLabels, setLang, t } from "./i18n.js";
import { disposeCharts, h, stateFor } from "./ui.js";
import * as bank from "./pages/bank.js";
import * as ent from "./pages/enterprise.js";
import * as evidence from "./pages/evidence.js";
import * as firm from "./pages/firm.js";
import * as more from "./pages/more.js";
import * as alarms from "./pages/alarms.js";
import * as workflow from "./pages/credit_workflow.js";
import * as provision from "./pages/provision.js";
import * as commands from "./pages/commands.js";

const BANK_ROLES = ["credit_officer", "risk_manager", "platform_admin", "regulator", "integrator"];
const NAV = [
  { hash: "#/portfolio", label: "nav_portfolio", roles: BANK_ROLES },
  { hash: "#/alarms", label: "nav_alarms", roles: BANK_ROLES },
  { hash: "#/loans", label: "nav_loans", roles: BANK_ROLES },
  { hash: "#/reviews", label: "nav_reviews", roles: ["credit_officer", "risk_manager"] },
  { hash: "#/commands", label: "nav_commands", roles: ["credit_officer", "risk_manager", "platform_admin", "integrator", "enterprise_user"] },
  { hash: "#/pledges", label: "nav_pledges", roles: BANK_ROLES },
  { hash: "#/map", label: "nav_map", roles: BANK_ROLES },
  { hash: "#/industry", label: "nav_index", roles: BANK_ROLES },
  { hash: "#/evidence", label: "nav_evidence", roles: BANK_ROLES },
  { hash: "#/quarantine", label: "nav_quarantine", roles: ["platform_admin"] },
  { hash: "#/provision", label: "nav_provision", roles: ["integrator", "platform_admin"] },
  { hash: "#/my", label: "nav_my", roles: ["enterprise_user"] },
  { hash: "#/my/devices", label: "nav_devices", roles: ["enterprise_user"] },
  { hash: "#/consents", label: "nav_consents", roles: ["enterprise_user"] },
];

const ROUTES = [
  [/^#\/portfolio$/, () => bank.portfolio()],
  [/^#\/enterprise\/(\d+)$/, (id) => ent.enterprisePage(Number(id))],
  [/^#\/device\/(\d+)\/(.+)$/, (id, key) => ent.devicePage(Number(id), decodeURIComponent(key))],
  [/^#\/alarms$/, () => alarms.alarmsPage()],
  [/^#\/alarm\/(\d+)$/, (id) => alarms.alarmDetail(Number(id))],
  [/^#\/loans$/, () => more.loans()],
  [/^#\/reviews$/, () => workflow.reviewsPage()],
  [/^#\/pledges$/, () => more.pledges()],
  [/^#\/commands$/, () => commands.commandsPage()],
  [/^#\/map$/, () => bank.mapPage()],
  [/^#\/industry$/, () => more.industryIndex()],
  [/^#\/evidence$/, () => evidence.evidenceHome()],
  [/^#\/evidence\/(\d+)\/([a-z0-9_]+)\/(\d{4}-\d{2}-\d{2})$/, (id, name, day) => evidence.figurePage(Number(id), name, day)],
  [/^#\/quarantine$/, () => more.quarantine()],
  [/^#\/provision$/, () => provision.provisionPage()],
  [/^#\/my$/, () => firm.myCompany()],
  [/^#\/my\/devices$/, () => firm.myDevices()],
  [/^#\/consents$/, () => firm.consents()],
];

let labelsLoaded = false;

function home() { return session.me?.role === "enterprise_user" ? "#/my" : "#/portfolio"; }

function topbar() {
  const bar = document.getElementById("topbar");
  const me = session.me;
  const links = me ? NAV.filter((n) => n.roles.includes(me.role)).map((n) =>
    h("a", { href: n.hash, class: location.hash.split("?")[0] === n.hash ? "active" : null, "data-nav": n.hash }, t(n.label))) : [];
  bar.replaceChildren(
    h("span", { class: "brand" }, t("brand")),
    h("nav", {}, links),
    me ? h("span", { class: "who", "data-user": me.username }, `${me.username} · ${code("role", me.role)}`) : null,
    h("button", { id: "lang", onclick: () => { setLang(getLang() === "en" ? "zh-CN" : "en"); render(); } }, t("language")),
    me ? h("button", { id: "logout", onclick: logout }, t("logout")) : null,
  );
}

async function logout() {
  try { await api("/api/v1/auth/logout", { method: "POST" }); } catch { /* the token may have expired already */ }
  session.token = null; session.me = null; location.hash = "#/login";
}

function loginView() {
  const error = h("p", { class: "error", id: "login-error" });
  const user = h("input", { id: "username", autocomplete: "username" });
  const pass = h("input", { id: "password", type: "password", autocomplete: "current-password" });
  const form = h("form", { class: "card login", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const out = await api("/api/v1/auth/login", { method: "POST", body: { username: user.value, password: pass.value } });
      session.token = out.access_token; session.me = await api("/api/v1/me");
      location.hash = home();
    } catch (err) {
      const label = { 429: "login_throttled", 503: "login_busy" }[err.status] || "login_failed";
      error.textContent = `${t(label)}: ${err.message}`;
    }
  } }, h("h1", {}, t("brand")), h("label", { for: "username" }, t("username")), user,
    h("label", { for: "password" }, t("password")), pass, h("p", {}, h("button", { class: "primary", type: "submit", id: "login-submit" }, t("login"))), error);
  return form;
}

async function render() {
  disposeCharts();
  const view = document.getElementById("view");
  const hash = location.hash || "#/";
  if (!session.token || hash === "#/login") {
    session.me = null; topbar(); view.replaceChildren(loginView()); return;
  }
  if (!session.me) {
    try { session.me = await api("/api/v1/me"); } catch { session.token = null; location.hash = "#/login"; return; }
  }
  if (!labelsLoaded) {
    try { setCodeLabels(await api("/api/v1/labels")); labelsLoaded = true; } catch { /* codes show as sent; the page still works */ }
  }
  topbar();
  const path = hash.split("?")[0];
  const route = ROUTES.find(([re]) => re.test(path));
  if (!route) { location.hash = home(); return; }
  const page = h("div", { "data-page": path });
  view.replaceChildren(page);
  try { page.replaceChildren(await route[1](...path.match(route[0]).slice(1))); }
  catch (err) {
    if (err?.status === 401) { session.token = null; location.hash = "#/login"; return; }
    if (!err?.status) console.error(err);
    page.replaceChildren(stateFor(err));
  }
  document.body.dataset.rendered = path;
}

window.addEventListener("hashchange", render);
render();
