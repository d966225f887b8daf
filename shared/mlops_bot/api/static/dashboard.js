// Healing Guard live dashboard: REST for the state, the dashboard WebSocket for what changes.
// No framework, no build step. Every value from the API is written with textContent, never as HTML.
"use strict";

(() => {
  const KEY_STORAGE = "mlops-bot-api-key";
  const MAX_INCIDENTS = 50;
  const MAX_PIPELINE_ROWS = 20;
  const STAGES = ["detected", "analysing", "healing", "verifying", "closed"];
  const state = {
    credential: null,
    socket: null,
    retryDelay: 1000,
    stopped: false,
    incidents: new Map(), // id -> incident (the /api/v1/issues shape)
    hours: [], // [{hour: Date, events: n, resolutions: [seconds...], baseResolution: n|null}]
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attributes = {}) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    return node;
  }

  function when(iso) {
    if (!iso) return "";
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? String(iso) : at.toLocaleTimeString();
  }

  // ------------------------------------------------------------------ credentials
  function looksLikeJwt(value) {
    return value.startsWith("eyJ") && value.split(".").length === 3;
  }

  function takeCredential() {
    const params = new URLSearchParams(window.location.search);
    const fromUrl = params.get("api_key") || params.get("token");
    if (fromUrl) {
      sessionStorage.setItem(KEY_STORAGE, fromUrl);
      params.delete("api_key");
      params.delete("token");
      const rest = params.toString();
      history.replaceState(null, "", window.location.pathname + (rest ? `?${rest}` : ""));
    }
    return sessionStorage.getItem(KEY_STORAGE);
  }

  function showSignIn(message) {
    state.stopped = true;
    if (state.socket) state.socket.close(1000, "signed out");
    sessionStorage.removeItem(KEY_STORAGE);
    state.credential = null;
    $("dashboard").hidden = true;
    $("stats").hidden = true;
    $("sign-out").hidden = true;
    $("key-created").hidden = true;
    $("key-secret").textContent = "";
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = message || "";
    setStatus("offline", false);
  }

  // ------------------------------------------------------------------ REST
  async function api(path, options = {}) {
    const headers = { Authorization: `Bearer ${state.credential}` };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method: options.method || "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (response.status === 401) {
      showSignIn("That key or token was refused.");
      throw new Error("unauthorized");
    }
    if (!response.ok) {
      let detail = "";
      try {
        const error = (await response.json()).error || {};
        detail = typeof error.details === "string" ? error.details : error.message || "";
      } catch (ignored) {
        detail = "";
      }
      const failure = new Error(`${path}: HTTP ${response.status}${detail ? ` (${detail})` : ""}`);
      failure.status = response.status;
      throw failure;
    }
    return response.json();
  }

  // ------------------------------------------------------------------ API keys (admins)
  function renderKeys(list) {
    const rows = list.api_keys.map((key) => {
      const revoke = key.revoked
        ? null
        : el("button", { type: "button", class: "revoke", "data-key-id": key.id, text: "Revoke" });
      if (revoke) revoke.addEventListener("click", () => revokeKey(key.id, key.name));
      return el(
        "tr",
        { "data-key-id": key.id, class: key.revoked ? "revoked" : null },
        el("td", { text: key.name }),
        el("td", { text: key.id }),
        el("td", { text: key.permissions.join(", ") }),
        el("td", { text: when(key.created_at) }),
        el("td", { class: "key-status", text: key.revoked ? "revoked" : "active" }),
        el("td", {}, revoke),
      );
    });
    $("keys").replaceChildren(...rows);
  }

  async function loadKeys() {
    try {
      renderKeys(await api("/api/v1/api-keys"));
      $("keys-panel").hidden = false;
    } catch (error) {
      if (error.message === "unauthorized") throw error;
      $("keys-panel").hidden = true; // admins only (403)
    }
  }

  async function createKey(event) {
    event.preventDefault();
    $("key-error").textContent = "";
    const name = $("key-name").value.trim();
    if (!name) return;
    try {
      const issued = await api("/api/v1/api-keys", {
        method: "POST",
        body: { name, permissions: $("key-permission").value },
      });
      $("key-secret").textContent = issued.key;
      $("key-created").hidden = false;
      $("key-name").value = "";
      await loadKeys();
    } catch (error) {
      if (error.message !== "unauthorized") $("key-error").textContent = error.message;
    }
  }

  async function revokeKey(id, name) {
    if (!window.confirm(`Revoke the key "${name}" (${id})? It stops working at once.`)) return;
    $("key-error").textContent = "";
    try {
      await api(`/api/v1/api-keys/${encodeURIComponent(id)}`, { method: "DELETE" });
      await loadKeys();
    } catch (error) {
      if (error.message !== "unauthorized") $("key-error").textContent = error.message;
    }
  }

  async function loadIncidents() {
    const body = await api(`/api/v1/issues?limit=${MAX_INCIDENTS}`);
    state.incidents.clear();
    for (const issue of body.issues || []) state.incidents.set(issue.id, issue);
    renderIncidents();
  }

  async function loadRepositories() {
    const body = await api("/api/v1/repositories?limit=100");
    const rows = $("repositories");
    rows.replaceChildren();
    for (const repo of body.repositories || []) {
      const rate = repo.success_rate === null || repo.success_rate === undefined ? null : repo.success_rate;
      const bar = el("span", { class: "rate" }, el("span", { class: "rate-fill" }));
      bar.firstChild.style.width = rate === null ? "0%" : `${Math.round(rate * 100)}%`;
      rows.append(
        el(
          "tr",
          { "data-repository": repo.full_name },
          el("td", { text: repo.full_name }),
          el("td", {}, el("span", { class: `badge status-${repo.status}`, text: repo.status })),
          el("td", { text: repo.issues_detected }),
          el("td", { text: repo.repairs_attempted }),
          el("td", {}, bar, el("span", { class: "rate-text", text: rate === null ? "–" : `${Math.round(rate * 100)}%` })),
        ),
      );
    }
    if (!rows.children.length) rows.append(el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No repositories yet." })));
  }

  async function loadChart() {
    try {
      const body = await api("/api/v1/analytics?period=24h");
      const events = body.timeseries.events_per_hour || [];
      const resolutions = body.timeseries.resolution_times || [];
      state.hours = events.map((point, index) => ({
        hour: new Date(point.timestamp),
        events: point.value || 0,
        resolutions: [],
        baseResolution: resolutions[index] ? resolutions[index].value : null,
      }));
    } catch (error) {
      if (error.message === "unauthorized") throw error;
      state.hours = hoursFromIncidents(); // no analytics route: incidents per hour will do
    }
    renderChart();
  }

  async function loadFleet() {
    try {
      const status = await api("/api/cluster/status");
      renderFleet(status);
      $("fleet-panel").hidden = false;
    } catch (error) {
      if (error.message === "unauthorized") throw error;
      $("fleet-panel").hidden = true; // operators only (403), or not deployed (404)
    }
  }

  // ------------------------------------------------------------------ incidents
  function stageOf(incident) {
    // REST answers the documented status (open/resolved/failed) and the precise `state`; the stream the state.
    const status = incident.state || incident.status || "open";
    if (status === "resolved" || status === "failed") return 4;
    if (status === "verifying") return 3;
    if (status === "healing" || status === "planned" || (incident.actions_taken || []).length) return 2;
    if ((incident.timeline || []).some((entry) => entry.event === "analysis_started")) return 1;
    return 0;
  }

  function incidentCard(incident) {
    const stage = stageOf(incident);
    const progress = el("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 4, "aria-valuenow": stage });
    STAGES.forEach((name, index) => {
      const label = index === 4 ? (incident.status === "failed" ? "failed" : "resolved") : name;
      progress.append(el("span", { class: `step${index <= stage ? " done" : ""}${index === 4 && incident.status === "failed" ? " failed" : ""}`, text: label }));
    });
    const timeline = el("ol", { class: "timeline" });
    for (const entry of incident.timeline || []) {
      timeline.append(el("li", {}, el("time", { text: when(entry.timestamp) }), " ", el("b", { text: entry.event }), entry.details ? ` — ${entry.details}` : ""));
    }
    const actions = (incident.actions_taken || []).map((action) => el("li", { text: `${action.action}: ${action.status}` }));
    return el(
      "li",
      { class: `incident severity-${incident.severity}`, "data-incident-id": incident.id, "data-status": incident.state || incident.status },
      el(
        "div",
        { class: "incident-head" },
        el("span", { class: `badge severity-${incident.severity}`, text: incident.severity }),
        el("b", { class: "repo", text: incident.repository }),
        el("span", { class: "muted", text: incident.type }),
        el("span", { class: `badge status-${incident.state || incident.status}`, text: incident.state || incident.status }),
        el("time", { class: "muted", text: when(incident.detected_at) }),
      ),
      el("p", { class: "description", text: incident.description || "" }),
      progress,
      el("details", {}, el("summary", { text: `Timeline (${(incident.timeline || []).length})` }), timeline, actions.length ? el("ul", { class: "actions" }, ...actions) : null),
    );
  }

  function renderIncidents() {
    const list = $("incidents");
    const sorted = [...state.incidents.values()].sort((a, b) => String(b.detected_at || "").localeCompare(String(a.detected_at || "")));
    list.replaceChildren(...sorted.slice(0, MAX_INCIDENTS).map(incidentCard));
    $("incidents-empty").hidden = sorted.length > 0;
  }

  let repositoriesReload = null;
  function reloadRepositoriesSoon() {
    // Counts and success rates move when incidents open or close; one reload per burst of messages.
    if (repositoriesReload) return;
    repositoriesReload = setTimeout(() => {
      repositoriesReload = null;
      loadRepositories().catch(() => {});
    }, 1500);
  }

  function toast(text, kind) {
    const note = el("div", { class: `toast ${kind}`, role: "alert", text });
    $("toasts").append(note);
    setTimeout(() => note.remove(), 8000);
  }

  // ------------------------------------------------------------------ chart
  function hourOf(date) {
    const hour = new Date(date);
    hour.setUTCMinutes(0, 0, 0);
    return hour;
  }

  function hoursFromIncidents() {
    const now = hourOf(new Date());
    const hours = [];
    for (let i = 23; i >= 0; i -= 1) hours.push({ hour: new Date(now.getTime() - i * 3600e3), events: 0, resolutions: [], baseResolution: null });
    for (const incident of state.incidents.values()) {
      const bucket = bucketFor(new Date(incident.detected_at), hours);
      if (bucket) bucket.events += 1;
      if (incident.resolution_time && incident.resolved_at) {
        const done = bucketFor(new Date(incident.resolved_at), hours);
        if (done) done.resolutions.push(incident.resolution_time);
      }
    }
    return hours;
  }

  function bucketFor(date, hours = state.hours) {
    if (Number.isNaN(date.getTime())) return null;
    const hour = hourOf(date).getTime();
    let bucket = hours.find((candidate) => candidate.hour.getTime() === hour);
    if (!bucket && hours === state.hours && hours.length && hour > hours[hours.length - 1].hour.getTime()) {
      bucket = { hour: new Date(hour), events: 0, resolutions: [], baseResolution: null };
      hours.push(bucket);
      while (hours.length > 25) hours.shift();
    }
    return bucket || null;
  }

  function resolutionOf(bucket) {
    const values = [...bucket.resolutions];
    if (bucket.baseResolution !== null && bucket.baseResolution !== undefined) values.push(bucket.baseResolution);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }

  function renderChart() {
    const width = 480;
    const height = 180;
    const pad = { left: 30, right: 36, top: 10, bottom: 22 };
    const hours = state.hours;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg" });
    if (!hours.length) {
      $("chart").replaceChildren(el("p", { class: "empty", text: "No data yet." }));
      return;
    }
    const maxEvents = Math.max(1, ...hours.map((h) => h.events));
    const resolutions = hours.map(resolutionOf);
    const maxResolution = Math.max(1, ...resolutions.filter((v) => v !== null));
    const plotWidth = width - pad.left - pad.right;
    const plotHeight = height - pad.top - pad.bottom;
    const step = plotWidth / hours.length;
    chart.append(svg("line", { x1: pad.left, y1: pad.top + plotHeight, x2: width - pad.right, y2: pad.top + plotHeight, class: "axis" }));
    hours.forEach((bucket, index) => {
      const barHeight = (bucket.events / maxEvents) * plotHeight;
      const bar = svg("rect", { x: pad.left + index * step + 1, y: pad.top + plotHeight - barHeight, width: Math.max(1, step - 2), height: barHeight, class: "bar" });
      const title = svg("title");
      title.textContent = `${bucket.hour.toISOString().slice(11, 16)} UTC: ${bucket.events} events`;
      bar.append(title);
      chart.append(bar);
      if (index % 6 === 0) {
        const label = svg("text", { x: pad.left + index * step, y: height - 6, class: "tick" });
        label.textContent = bucket.hour.toISOString().slice(11, 16);
        chart.append(label);
      }
    });
    const points = resolutions
      .map((value, index) => (value === null ? null : `${pad.left + index * step + step / 2},${pad.top + plotHeight - (value / maxResolution) * plotHeight}`))
      .filter(Boolean);
    if (points.length) chart.append(svg("polyline", { points: points.join(" "), class: "line" }));
    const left = svg("text", { x: 2, y: pad.top + 8, class: "tick" });
    left.textContent = String(maxEvents);
    chart.append(left);
    if (points.length) {
      const right = svg("text", { x: width - pad.right + 4, y: pad.top + 8, class: "tick" });
      right.textContent = `${Math.round(maxResolution)}s`;
      chart.append(right);
    }
    $("chart").replaceChildren(chart);
  }

  // ------------------------------------------------------------------ fleet and metrics
  function renderFleet(status) {
    const rows = $("fleet-queues");
    rows.replaceChildren();
    for (const queue of status.queues || []) {
      rows.append(
        el(
          "tr",
          {},
          el("td", { text: queue.role || queue.name }),
          el("td", { text: queue.depth }),
          el("td", { text: queue.in_flight }),
          el("td", { class: queue.dead_letter_queue && queue.dead_letter_queue.depth ? "alarm" : "", text: queue.dead_letter_queue ? queue.dead_letter_queue.depth : "–" }),
        ),
      );
    }
    const nodes = $("fleet-nodes");
    nodes.replaceChildren(
      ...(status.nodes || []).map((node) => el("li", { class: `node status-${node.status}`, title: `${node.role}: ${node.id}`, text: `${String(node.id).split("-").pop()}: ${node.status}` })),
    );
  }

  function renderMetrics(data) {
    $("open-incidents").textContent = data.open_incidents;
    const queues = data.queues || {};
    $("queue-events").textContent = queues.events ? queues.events.waiting + queues.events.in_flight : "–";
    $("queue-healing").textContent = queues.healing ? queues.healing.waiting + queues.healing.in_flight : "–";
  }

  // ------------------------------------------------------------------ the WebSocket
  function setStatus(text, live) {
    const pill = $("connection-status");
    pill.textContent = text;
    pill.className = `pill ${live ? "pill-on" : "pill-off"}`;
  }

  function socketUrl() {
    const configured = document.querySelector('meta[name="mlops-bot-websocket"]').content;
    const base = configured || `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}/ws/dashboard`;
    const parameter = looksLikeJwt(state.credential) ? "token" : "api_key";
    return `${base}${base.includes("?") ? "&" : "?"}${parameter}=${encodeURIComponent(state.credential)}`;
  }

  function connect() {
    if (state.stopped) return;
    setStatus("connecting…", false);
    const socket = new WebSocket(socketUrl());
    state.socket = socket;
    socket.addEventListener("open", () => {
      state.retryDelay = 1000;
      socket.send(JSON.stringify({ action: "subscribe" }));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handle(message);
    });
    socket.addEventListener("close", (event) => {
      if (state.socket !== socket) return;
      if (state.stopped) {
        setStatus("offline", false);
        return;
      }
      if (event.code === 1008) {
        if (String(event.reason).startsWith("UNAUTHORIZED") || String(event.reason).startsWith("FORBIDDEN")) {
          showSignIn(`The live connection was refused: ${event.reason}`);
          return;
        }
        toast(`Live connection refused: ${event.reason}`, "warning");
      }
      setStatus("reconnecting…", false);
      const delay = state.retryDelay;
      state.retryDelay = Math.min(30000, state.retryDelay * 2);
      setTimeout(() => {
        if (!state.stopped) {
          connect();
          loadIncidents().catch(() => {}); // catch up on what happened while away
        }
      }, delay);
    });
  }

  function handle(message) {
    const data = message.data || {};
    switch (message.type) {
      case "system_metrics":
        setStatus("live", true);
        $("stats").hidden = false;
        renderMetrics(data);
        break;
      case "failure_alerts": {
        state.incidents.set(data.id, { ...state.incidents.get(data.id), ...data });
        renderIncidents();
        reloadRepositoriesSoon();
        toast(`${data.severity} ${data.type} in ${data.repository}: ${data.description}`, "alert");
        break;
      }
      case "healing_progress": {
        const known = state.incidents.get(data.incident_id) || { id: data.incident_id, detected_at: data.timeline && data.timeline[0] ? data.timeline[0].timestamp : null };
        const actions = [...(known.actions_taken || [])];
        if (data.latest_action) actions.push(data.latest_action);
        state.incidents.set(data.incident_id, {
          ...known,
          repository: data.repository,
          type: data.type,
          severity: data.severity,
          status: data.status,
          state: data.status,
          timeline: data.timeline || known.timeline,
          actions_taken: actions,
          resolved_at: data.resolved_at,
          resolution_time: data.resolution_time,
        });
        renderIncidents();
        if (data.status === "resolved" || data.status === "failed") reloadRepositoriesSoon();
        if (data.status === "resolved" && data.resolution_time !== undefined && data.resolved_at) {
          const bucket = bucketFor(new Date(data.resolved_at));
          if (bucket) {
            bucket.resolutions.push(data.resolution_time);
            renderChart();
          }
        }
        break;
      }
      case "pipeline_updates": {
        const bucket = bucketFor(new Date(data.received_at || Date.now()));
        if (bucket) {
          bucket.events += 1;
          renderChart();
        }
        const feed = $("pipelines");
        feed.prepend(
          el(
            "li",
            { class: `run conclusion-${data.conclusion || data.status || "unknown"}` },
            el("b", { text: data.repository }),
            " ",
            el("span", { text: data.workflow || data.event }),
            " ",
            el("span", { class: "badge", text: data.conclusion || data.status || data.deployment_state || data.action || "" }),
            data.head_branch ? el("span", { class: "muted", text: ` on ${data.head_branch}` }) : null,
            " ",
            el("time", { class: "muted", text: when(data.received_at) }),
          ),
        );
        while (feed.children.length > MAX_PIPELINE_ROWS) feed.lastChild.remove();
        $("pipelines-empty").hidden = true;
        break;
      }
      default:
        break;
    }
  }

  // ------------------------------------------------------------------ start
  async function open() {
    state.stopped = false;
    $("sign-in").hidden = true;
    $("dashboard").hidden = false;
    $("sign-out").hidden = false;
    try {
      await loadIncidents();
      await Promise.all([loadRepositories(), loadChart(), loadFleet(), loadKeys()]);
    } catch (error) {
      if (error.message === "unauthorized") return;
      toast(`Could not load everything: ${error.message}`, "warning");
    }
    connect();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("api-key").value.trim();
      if (!value) return;
      sessionStorage.setItem(KEY_STORAGE, value);
      state.credential = value;
      $("api-key").value = "";
      open();
    });
    $("sign-out").addEventListener("click", () => showSignIn(""));
    $("key-form").addEventListener("submit", createKey);
    state.credential = takeCredential();
    if (state.credential) open();
    else showSignIn("");
  });
})();
