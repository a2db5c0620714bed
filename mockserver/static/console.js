/* zenhire-mock console: every view reads the control API under /__mock (nothing else), so
   everything shown here is scriptable too. The control token, when the server asks for one,
   is kept in this tab's sessionStorage only. */
"use strict";
(function () {
  const API = "/__mock";
  const TOKEN_KEY = "zenhire-mock-control-token";
  const REFRESH_MS = 2000;
  const $ = (sel) => document.querySelector(sel);
  const state = { tab: "requests", cursor: null, cursors: [], selected: null, clients: [],
                  ledgerClient: null, ledgerCursor: null, busy: false };

  // -- DOM helpers (text only: nothing from the server is parsed as HTML) -----------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function swap(container, signature, nodes) {
    // Re-render only on change; keep open <details> and keyboard focus (by data-key) across it.
    if (container.shownSignature === signature) return;
    container.shownSignature = signature;
    const active = document.activeElement;
    const focusKey = active && container.contains(active) ? active.getAttribute("data-key") : null;
    const open = [...container.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key);
    container.replaceChildren(...nodes);
    for (const key of open) {
      const d = container.querySelector(`details[data-key="${CSS.escape(key)}"]`);
      if (d) d.open = true;
    }
    if (focusKey) {
      const again = container.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }
  const say = (text) => { $("#status").textContent = text || ""; };
  const statusClass = (s) => (s ? "s" + String(s)[0] : "");
  const maskKey = (k) => (k && k.length > 16 ? k.slice(0, 10) + "…" + k.slice(-4) : (k || "").slice(0, 4) + "…");

  // -- the control API ---------------------------------------------------------------------
  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) opts.headers["X-Mock-Control-Token"] = token;
    if (opts.json !== undefined) {
      opts.method = opts.method || "POST";
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
    }
    const response = await fetch(API + path, opts);
    if (response.status === 401) {
      await askToken();
      return api(path, options);
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && body.error && body.error.message) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  let tokenWait = null;
  function askToken() {
    if (tokenWait) return tokenWait;
    const dialog = $("#token-dialog");
    tokenWait = new Promise((resolve) => {
      $("#token-form").onsubmit = () => {
        sessionStorage.setItem(TOKEN_KEY, $("#token-input").value);
        tokenWait = null;
        resolve();
      };
    });
    if (!dialog.open) dialog.showModal();
    $("#token-input").focus();
    return tokenWait;
  }

  // -- tabs ----------------------------------------------------------------------------------
  function showTab(name) {
    if (!document.getElementById(name)) name = "requests";
    state.tab = name;
    say("");
    document.querySelectorAll("main > section.panel").forEach((s) => { s.hidden = s.id !== name; });
    document.querySelectorAll(".tabs a").forEach((a) => {
      if (a.dataset.tab === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    refresh();
  }

  // -- clock -----------------------------------------------------------------------------------
  async function loadClock() {
    const clock = await api("/clock");
    $("#clock-mode").textContent = clock.mode;
    $("#clock-now").textContent = clock.now;
    $("#clock-now").setAttribute("datetime", clock.now);
    $("#clock-mode-2").textContent = clock.mode + (clock.mode === "scaled" ? " ×" + clock.scale : "");
    $("#clock-now-2").textContent = clock.now;
    $("#clock-epoch").textContent = String(clock.epoch);
    return clock;
  }

  async function moveClock(path, json) {
    const before = await loadClock();
    const after = await api(path, { json });
    const changes = await api(`/clock/changes?since=${before.epoch}&until=${after.epoch}`);
    const out = $("#clock-result");
    out.replaceChildren(
      el("h3", { text: `Moved from ${before.now} to ${after.now}` }),
      el("p", { text: `${after.webhookAttempts} webhook attempt(s) made.` }),
      el("h4", { text: "Runs that changed" }),
      changes.runStates.length ? el("ul", { id: "due-runs" }, changes.runStates.map((s) =>
        el("li", {}, el("code", { text: s.runId }), ` (${s.module}, ${s.client}) → ${s.state} at ${s.at}`)))
        : el("p", { class: "note", text: "No run changed state." }),
      el("h4", { text: "Webhook attempts" }),
      changes.webhookAttempts.length ? el("ul", { id: "due-attempts" }, changes.webhookAttempts.map((a) =>
        el("li", {}, el("code", { text: a.deliveryId }), ` (run ${a.runId}) attempt ${a.n}: ${a.status ?? "no answer"} (${a.outcome}) at ${a.at}`)))
        : el("p", { class: "note", text: "No webhook attempt was due." }));
    await loadClock();
  }

  // -- requests ------------------------------------------------------------------------------
  function requestQuery() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData($("#request-filters"))) if (value) params.set(name, value);
    params.set("limit", "100");
    if (state.cursor) params.set("cursor", state.cursor);
    return params.toString();
  }

  async function loadRequests() {
    const query = requestQuery();
    const page = await api("/journal?" + query);
    const signature = [query, page.total, page.entries.length && page.entries[0].seq, state.selected].join("|");
    if (signature === state.requestsShown) return;  // nothing new: keep the DOM (and keyboard focus)
    state.requestsShown = signature;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.requestId : null;
    const rows = page.entries.map((e) => {
      const row = el("tr", { tabindex: "0", "data-request-id": e.requestId,
                             "aria-label": `${e.method} ${e.path} ${e.status}`,
                             onclick: () => openRequest(e.requestId),
                             onkeydown: (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); openRequest(e.requestId); } } },
        el("td", {}, el("time", { datetime: e.time }, el("span", { class: "date", text: e.time.slice(0, 10) + " " }),
          e.time.slice(11).replace("Z", ""))),
        el("td", { text: e.method }), el("td", { class: "path", text: e.path }),
        el("td", { class: statusClass(e.status), text: String(e.status) }),
        el("td", { text: e.client || "—" }), el("td", { class: "mono", text: e.runId || "" }));
      if (e.requestId === state.selected) row.classList.add("selected");
      return row;
    });
    $("#requests-table tbody").replaceChildren(...rows);
    const again = focused && rows.find((r) => r.dataset.requestId === focused);
    if (again) again.focus();  // a live refresh keeps the keyboard where it was
    const first = state.cursors.length * 100;
    $("#requests-summary").textContent = page.total
      ? `${page.total} matching request(s); showing ${first + 1}–${first + page.entries.length}, newest first.`
      : "No request matches yet.";
    $("#requests-older").disabled = !page.nextCursor;
    $("#requests-newest").disabled = !state.cursor;
    state.nextCursor = page.nextCursor;
  }

  function facts(target, pairs) {
    target.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
  }

  function kvTable(target, obj) {
    const entries = Object.entries(obj || {});
    target.replaceChildren(entries.length
      ? el("tbody", {}, entries.map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", { class: "mono", text: v }))))
      : el("tbody", {}, el("tr", {}, el("td", { text: "(none)" }))));
  }

  async function openRequest(requestId) {
    const e = await api("/journal/" + encodeURIComponent(requestId));
    state.selected = requestId;
    const box = $("#request-detail");
    $("#request-detail-title").textContent = `${e.method} ${e.path}`;
    const runLink = e.runId ? el("a", { href: "#runs", "data-run": e.runId, onclick: () => {
      $("#r-client").value = ""; $("#r-module").value = ""; state.focusRun = e.runId; } }, e.runId) : "—";
    facts($("#request-facts"), [["Request id", el("code", { text: e.requestId })], ["Status", String(e.status)],
      ["Time (virtual)", e.time], ["Client", e.client || "—"], ["Key", e.key || "—"],
      ["Operation", e.operation || "—"], ["Run", runLink], ["Duration", `${e.durationMs} ms`]]);
    kvTable($("#request-headers"), e.requestHeaders);
    kvTable($("#response-headers"), e.responseHeaders);
    $("#request-body").textContent = e.requestBody || "(none recorded)";
    $("#response-body").textContent = e.responseBody || "(none recorded)";
    box.hidden = false;
    box.focus();
  }

  // -- runs ------------------------------------------------------------------------------------
  function badge(status) {
    const cls = ["success", "finished", "partial", "delivered", "completed"].includes(status) ? "ok"
      : ["failed"].includes(status) ? "bad" : "wait";
    return el("span", { class: "badge " + cls, "data-field": "status", text: status });
  }

  const when = (at) => (at ? at.replace("T", " ").replace("Z", "") : "—");

  function outcomeFacts(run) {
    if (run.outcome === null)  // an Interview session still open: its ending is not decided
      return [el("dt", { text: "Outcome" }), el("dd", { "data-field": "outcome", text: "not decided yet (session open)" })];
    return [el("dt", { text: run.status === run.outcome ? "Outcome" : "Outcome (planned)" }),
      el("dd", { "data-field": "outcome", text: run.outcome + (run.error ? ` (${run.error})` : "") })];
  }

  function sessionFacts(run) {
    // Interview sessions only: the session's own facts and the completion callbacks queued for it.
    if (!run.session) return [];
    const s = run.session;
    const result = s.hasRecording || s.hasTranscript
      ? [s.hasRecording && "recording", s.hasTranscript && "transcript"].filter(Boolean).join(" + ") +
        (s.durationSeconds !== null ? `, ${s.durationSeconds} s` : "") : "none";
    return [
      el("dt", { text: "Session" }), el("dd", { "data-field": "session",
        text: `consent ${s.consentMode} · invite ${s.invites} · link expires ${when(s.expiresAt)} · result ${result}` }),
      el("dt", { text: "Callbacks" }), el("dd", { "data-field": "callbacks" }, run.callbacks.length
        ? el("ul", {}, run.callbacks.map((cb) => el("li", {}, el("code", { text: cb.deliveryId }),
            ` queued ${when(cb.queuedAt)} · ${cb.state} · ${cb.attempts} attempt(s)` +
            (cb.nextAttemptAt && cb.state === "pending" ? ` · next ${when(cb.nextAttemptAt)}` : ""))))
        : "none queued"),
    ];
  }

  function timelinePoint(p) {
    const label = p.deadline ? `${p.state} (${p.error})` : p.state;
    const suffix = p.reached ? "" : p.deadline ? " (deadline, if nothing happens first)" : " (due)";
    return el("li", { class: p.reached ? "reached" : "", "data-state": p.state, "data-deadline": p.deadline ? "" : null },
      label, el("time", { datetime: p.at, text: when(p.at) + suffix }));
  }

  function runCard(run) {
    const c = run.credits;
    return el("article", { class: "card", id: "run-" + run.id, "data-run-id": run.id, "data-module": run.module,
                           "aria-label": `${run.module === "interview" ? "Session" : "Run"} ${run.id}` },
      el("h3", {}, el("code", { text: run.id }), badge(run.status),
        el("span", { class: "muted", text: `${run.module} · ${run.client}` })),
      el("ol", { class: "timeline", "aria-label": "Timeline" }, run.timeline.map(timelinePoint)),
      el("dl", { class: "facts" },
        el("dt", { text: "Created" }), el("dd", { "data-field": "created", text: when(run.createdAt) }),
        el("dt", { text: "Ended" }), el("dd", { "data-field": "ended", text: when(run.endedAt) }),
        ...outcomeFacts(run),
        ...sessionFacts(run),
        el("dt", { text: "Credits" }), el("dd", { "data-field": "credits",
          text: `held ${c.held} · charged ${c.charged} · released ${c.released}` +
                (c.pendingSettlement ? ` · ${c.pendingSettlement.action} due ${c.pendingSettlement.at}` : "") }),
        el("dt", { text: "Polls" }), el("dd", { "data-field": "polls",
          text: `${run.polls.received} received, ${run.polls.throttled} throttled` })),
      run.polls.entries.length ? el("details", { "data-key": "polls-" + run.id }, el("summary", { text: "Polls" }),
        el("ul", {}, run.polls.entries.map((p) => el("li", { class: p.throttled ? "s4" : "" },
          `${p.time} → ${p.status}${p.throttled ? " (throttled)" : ""} `, el("code", { text: p.requestId }))))) : null);
  }

  async function loadRuns() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData($("#run-filters"))) if (value) params.set(name, value);
    const data = await api("/runs?" + params.toString());
    $("#runs-summary").textContent = `${data.runs.length} run(s) and session(s), newest first; virtual now ${data.now}.`;
    swap($("#runs-list"), JSON.stringify(data.runs), data.runs.map(runCard));
    if (state.focusRun) {  // arrived from a request's run link: show that run
      const card = document.getElementById("run-" + state.focusRun);
      state.focusRun = null;
      if (card) { card.setAttribute("tabindex", "-1"); card.scrollIntoView(); card.focus(); }
      else say("That run is not among the newest runs shown.");
    }
  }

  // -- webhooks ------------------------------------------------------------------------------
  function signatureOf(headers) {
    return Object.entries(headers || {}).filter(([k]) => /signature/i.test(k)).map(([k, v]) => `${k}: ${v}`).join("\n");
  }

  function deliveryCard(d) {
    const attempts = d.attempts.map((a) => el("tr", { "data-attempt": String(a.n) },
      el("td", { "data-label": "Attempt", text: String(a.n) + (a.resend ? " (resend)" : "") }),
      el("td", { "data-label": "At", text: a.at }),
      el("td", { "data-label": "Status", class: statusClass(a.status), text: a.status === null ? (a.error || "no answer") : String(a.status) }),
      el("td", { "data-label": "Outcome", text: a.outcome }), el("td", { "data-label": "Took", text: `${a.duration_ms} ms` }),
      el("td", { "data-label": "Signature header", class: "mono sig", text: signatureOf(a.request_headers) })));
    const button = el("button", { type: "button", class: "resend", "data-delivery": d.id, "data-key": "resend-" + d.id,
      "aria-label": `Resend delivery ${d.id}`, text: "Resend",
      onclick: async () => {
        button.disabled = true;
        try { await api(`/webhooks/deliveries/${encodeURIComponent(d.id)}/resend`, { method: "POST" }); say(`Resent ${d.id}.`); }
        catch (err) { say(`Resend failed: ${err.message}`); }
        await loadWebhooks();
      } });
    return el("article", { class: "card", id: "delivery-" + d.id, "data-delivery-id": d.id, "aria-label": `Delivery ${d.id}` },
      el("h3", {}, el("code", { text: d.id }), badge(d.state), el("span", { class: "muted", text: `${d.kind} · ${d.client_id}` })),
      el("dl", { class: "facts" }, el("dt", { text: "Run" }), el("dd", { class: "mono", text: d.run_id }),
        el("dt", { text: "URL" }), el("dd", { class: "mono", text: d.url }),
        el("dt", { text: "Next attempt" }), el("dd", { text: d.next_attempt_at || "—" })),
      el("div", { class: "table-wrap" }, el("table", { class: "attempts" },
        el("caption", { class: "sr-only", text: "Attempts" }),
        el("thead", {}, el("tr", {}, ["#", "At", "Status", "Outcome", "Took", "Signature header"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, attempts.length ? attempts : el("tr", {}, el("td", { colspan: "6", text: "No attempt yet." }))))),
      el("details", { "data-key": "body-" + d.id }, el("summary", { text: "Body" }), el("pre", { text: d.body })),
      d.attempts.length && d.attempts[d.attempts.length - 1].response_body_excerpt
        ? el("details", { "data-key": "answer-" + d.id }, el("summary", { text: "Last receiver answer" }), el("pre", { text: d.attempts[d.attempts.length - 1].response_body_excerpt }))
        : null,
      button);
  }

  async function loadWebhooks() {
    const data = await api("/webhooks/deliveries");
    const list = data.deliveries.slice().reverse();
    $("#webhooks-summary").textContent = `${list.length} deliver${list.length === 1 ? "y" : "ies"}, newest first.`;
    swap($("#deliveries-list"), JSON.stringify(list), list.map(deliveryCard));
  }

  // -- tenants ---------------------------------------------------------------------------------
  async function loadClients() {
    const data = await api("/clients");
    state.clients = data.clients;
    $("#client-ids").replaceChildren(...data.clients.map((c) => el("option", { value: c.id })));
    const grade = $("#g-client");
    const keep = grade.value;
    grade.replaceChildren(...data.clients.map((c) => el("option", { value: c.id, text: c.id })));
    if (keep) grade.value = keep;
    return data.clients;
  }

  async function loadTenants() {
    const clients = await loadClients();
    $("#clients-table tbody").replaceChildren(...clients.map((c) => el("tr", { "data-client": c.id },
      el("th", { scope: "row" }, c.id, c.name ? el("div", { class: "muted", text: c.name }) : null),
      el("td", { text: c.active ? "yes" : "no" }), el("td", { text: c.permissions.join(", ") || "—" }),
      el("td", { text: String(c.creditBalance) }),
      el("td", {}, el("ul", { class: "keys" }, c.keys.map((k) => el("li", {}, el("code", { text: maskKey(k.key) }),
        k.label ? ` ${k.label}` : "", k.project ? ` · project ${k.project}` : "")))),
      el("td", {}, el("button", { type: "button", "aria-label": `Ledger of ${c.id}`, text: "Ledger",
        onclick: () => openLedger(c.id, true) })))));
    if (state.ledgerClient) await openLedger(state.ledgerClient, false);
  }

  async function openLedger(client, focus, more) {
    const cursor = more ? state.ledgerCursor : null;
    const data = await api(`/clients/${encodeURIComponent(client)}/ledger?limit=50` + (cursor ? `&cursor=${cursor}` : ""));
    state.ledgerClient = client;
    state.ledgerCursor = data.nextCursor;
    const a = data.account;
    $("#ledger-title").textContent = `Ledger of ${client}`;
    facts($("#ledger-account"), [["Balance", String(a.creditBalance)], ["Held", String(a.heldCredits)],
      ["Available", String(a.availableCredits)], ["Charged in all", String(a.usage.totalCharged)]]);
    const rows = data.transactions.map((t) => el("tr", {}, el("td", { text: t.createdAt }), el("td", { text: t.type }),
      el("td", { text: String(t.amount) }), el("td", { text: String(t.balanceAfter) }),
      el("td", { text: t.module || "—" }), el("td", { class: "mono", text: t.runId || "" })));
    const body = $("#ledger-table tbody");
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    $("#ledger-more").hidden = !data.nextCursor;
    $("#ledger").hidden = false;
    if (focus) $("#ledger").focus();
  }

  // -- grades ------------------------------------------------------------------------------------
  async function loadGrades() {
    if (!state.clients.length) await loadClients();
    const client = $("#g-client").value;
    const note = $("#grades-note");
    const report = $("#grades-report");
    if (!client) return;
    if (state.gradesAbsent) return;
    const token = sessionStorage.getItem(TOKEN_KEY);
    const response = await fetch(`${API}/grades?client=${encodeURIComponent(client)}`,
      { headers: token ? { "X-Mock-Control-Token": token } : {} });
    if (response.status === 404) {
      state.gradesAbsent = true;  // asked once per page: an absent endpoint is not asked again
      $("#grades-form").hidden = true;
      note.hidden = false;
      note.textContent = "This server has no grading report (GET /__mock/grades answered 404).";
      report.replaceChildren();
      return;
    }
    if (!response.ok) { note.hidden = false; note.textContent = `Grading failed: HTTP ${response.status}.`; return; }
    const g = await response.json();
    note.hidden = true;
    report.replaceChildren(
      el("p", { class: "summary", text: `${g.requests_covered} request(s) covered` +
        (g.journal_dropped ? `, ${g.journal_dropped} dropped from the journal` : "") +
        (g.rules_checked ? `; ${Array.isArray(g.rules_checked) ? g.rules_checked.length : g.rules_checked} rule(s) checked` : "") + "." }),
      g.findings.length ? el("div", { class: "cards" }, g.findings.map((f) => el("article", { class: "card" },
        el("h3", {}, el("code", { text: f.rule }), el("span", { class: "badge " + (f.severity === "error" ? "bad" : "wait"), text: f.severity }),
          el("span", { text: `${f.count}×` })),
        el("p", { text: f.summary }),
        f.fix ? el("p", {}, el("strong", { text: "Fix: " }), f.fix) : null,
        f.doc ? el("blockquote", {}, `“${f.doc.quote}” — ${f.doc.page}`) : null,
        (f.evidence || []).length ? el("details", {}, el("summary", { text: "Evidence" }),
          el("pre", { text: JSON.stringify(f.evidence, null, 2) })) : null)))
        : el("p", { class: "note", text: "No findings: this client follows every checked rule." }));
  }

  // -- refresh loop ----------------------------------------------------------------------------
  async function refresh() {
    if (state.busy) { state.again = true; return; }  // a tab switch mid-refresh runs once more after
    state.busy = true;
    state.again = false;
    try {
      await loadClock();
      if (state.tab === "requests") await loadRequests();
      else if (state.tab === "runs") await loadRuns();
      else if (state.tab === "webhooks") await loadWebhooks();
      else if (state.tab === "tenants") await loadTenants();
      else if (state.tab === "grades") await loadGrades();
      if ($("#status").textContent.startsWith("Cannot reach")) say("");
    } catch (err) {
      say(`Cannot reach the control API: ${err.message}`);
    } finally {
      state.busy = false;
    }
    if (state.again) await refresh();
  }

  function live() {
    // Live views refresh without reload; the request list only while on its newest page.
    if (state.tab === "requests" && (state.cursor || !$("#live").checked)) return loadClock().catch(() => {});
    // Tenants and grades refresh on demand (a ledger being paged is not reset under the reader).
    if (["clock", "grades", "tenants"].includes(state.tab)) return loadClock().catch(() => {});
    return refresh();
  }

  function wire() {
    window.addEventListener("hashchange", () => showTab(location.hash.slice(1)));
    $("#request-filters").addEventListener("submit", (ev) => { ev.preventDefault(); state.cursor = null; state.cursors = []; refresh(); });
    $("#requests-older").addEventListener("click", () => { state.cursors.push(state.cursor); state.cursor = state.nextCursor; refresh(); });
    $("#requests-newest").addEventListener("click", () => { state.cursor = null; state.cursors = []; refresh(); });
    $("#request-detail-close").addEventListener("click", () => { $("#request-detail").hidden = true; state.selected = null; });
    $("#run-filters").addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });
    $("#advance-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const seconds = Number($("#advance-amount").value) * Number($("#advance-unit").value);
      moveClock("/clock/advance", { seconds }).catch((err) => say(`Advance failed: ${err.message}`));
    });
    $("#set-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const raw = $("#set-time").value.trim();
      moveClock("/clock/set", { time: /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw }).catch((err) => say(`Set failed: ${err.message}`));
    });
    $("#tenants-refresh").addEventListener("click", () => refresh());
    $("#ledger-more").addEventListener("click", () => openLedger(state.ledgerClient, false, true));
    $("#grades-form").addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });
    setInterval(() => { if (!state.busy && !document.hidden) live(); }, REFRESH_MS);
    showTab(location.hash.slice(1) || "requests");
  }

  wire();
})();
