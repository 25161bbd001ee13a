// The platform's JSON API: bearer token from login, errors turned into ApiError (status, code, message).
export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export const session = {
  get token() { return sessionStorage.getItem("wuxin.token"); },
  set token(value) { value ? sessionStorage.setItem("wuxin.token", value) : sessionStorage.removeItem("wuxin.token"); },
  me: null,
};

export async function api(path, options = {}) {
  return (await apiWithHeaders(path, options)).data;
}

/** The answer and its headers (a list's total and next-page cursor travel in headers). */
export async function apiWithHeaders(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, "network", String(err));
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) throw new ApiError(response.status, data?.error || "http_" + response.status, data?.message || response.statusText);
  return { data, headers: response.headers };
}

/** A protected document (the credit report) fetched with the bearer token, as a Blob to open locally. */
export async function apiBlob(path) {
  const headers = session.token ? { Authorization: `Bearer ${session.token}` } : {};
  let response;
  try { response = await fetch(path, { headers }); } catch (err) { throw new ApiError(0, "network", String(err)); }
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    throw new ApiError(response.status, data?.error || "http_" + response.status, data?.message || response.statusText);
  }
  return response.blob();
}

let catalogRows = null;
/** The indicator catalog (names, units, zh/en labels), fetched once. */
export async function indicatorCatalog() {
  if (!catalogRows) catalogRows = await api("/api/v1/indicators/catalog");
  return catalogRows;
}

let openapiPaths = null;
/** The API paths the server offers now (from /openapi.json): pages for parts still being built check here. */
export async function apiPaths() {
  if (!openapiPaths) {
    try { openapiPaths = new Set(Object.keys((await api("/openapi.json")).paths || {})); } catch { openapiPaths = new Set(); }
  }
  return openapiPaths;
}
