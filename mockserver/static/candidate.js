// The mock's candidate page: reads the token from the link's fragment (#t=…) and drives the
// session through the mock's candidate actions (JSON POSTs to api/<action>, token in the body).
"use strict";

(function () {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("t");
  const sections = ["loading", "problem", "welcome", "live", "done", "ended"];
  const endedReasons = {
    SESSION_TIMEOUT: "The interview reached its time limit and was closed automatically.",
    CANDIDATE_DROPPED: "The interview was left before it finished.",
    LINK_EXPIRED: "This interview link expired before it was used.",
    INTERNAL_ERROR: "A technical problem ended the interview.",
  };
  const refusals = {
    INVALID_TOKEN: ["This link is not valid", "Check that you opened the complete link you were sent."],
    LINK_EXPIRED: ["This link has expired", "Ask the hiring team for a new interview link."],
    SESSION_ENDED: ["This interview has already ended", "The link cannot start a new interview."],
    CONCURRENCY_LIMIT: ["Too many interviews are running", "Please try again shortly."],
    NOT_LIVE: ["The interview is not in progress", "Reload the page to continue."],
    CONSENT_REQUIRED: ["Consent is needed", "Please give your consent before starting."],
  };
  let current = null;

  function $(id) { return document.getElementById(id); }

  function show(name) {
    for (const section of sections) { $(section).hidden = section !== name; }
  }

  function minutes(seconds) {
    const whole = Math.round(seconds / 60);
    return whole === 1 ? "1 minute" : whole + " minutes";
  }

  function when(text) {
    if (!text) { return "—"; }
    return new Date(text).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function fill(view) {
    const values = Object.assign({}, view, {
      budget: minutes(view.max_duration_seconds),
      expires_at: when(view.expires_at),
      ends_by: when(view.ends_by),
    });
    for (const node of document.querySelectorAll("[data-field]")) {
      const value = values[node.dataset.field];
      node.textContent = value === null || value === undefined ? "" : String(value);
    }
    document.documentElement.lang = view.language || "en";
  }

  function render(view) {
    current = view;
    fill(view);
    if (view.status === "initiated") {
      const needsConsent = view.consent_required && !view.consent_given;
      $("consent-gate").hidden = !needsConsent;
      $("consent-done").hidden = !(view.consent_required && view.consent_given);
      $("start-button").disabled = needsConsent;
      show("welcome");
    } else if (view.status === "in_progress") {
      show("live");
    } else if (view.status === "completed") {
      show("done");
    } else {
      $("ended-text").textContent = endedReasons[view.error_code] || "The interview is over.";
      show("ended");
    }
  }

  function problem(error) {
    const [title, text] = refusals[error.code] || ["Something went wrong", error.message || "Please try again."];
    if (error.code === "CONSENT_REQUIRED" && current) {
      render(Object.assign({}, current, { consent_given: false }));
      return;
    }
    $("problem-title").textContent = title;
    $("problem-text").textContent = text + (error.retryAfter ? " (about " + error.retryAfter + " s)" : "");
    $("retry-button").hidden = error.code !== "CONCURRENCY_LIMIT";
    show("problem");
  }

  async function call(action) {
    const response = await fetch("api/" + action, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: token }),
      cache: "no-store",
      credentials: "omit",
    });
    const body = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      const error = body.error || { code: "HTTP_" + response.status, message: response.statusText };
      error.retryAfter = response.headers.get("Retry-After");
      throw error;
    }
    return body;
  }

  function act(action) {
    for (const button of document.querySelectorAll("button")) { button.disabled = true; }
    return call(action).then(render, problem).finally(function () {
      for (const button of document.querySelectorAll("button")) { button.disabled = false; }
      if (current && current.status === "initiated") {
        $("start-button").disabled = current.consent_required && !current.consent_given;
        $("consent-button").disabled = !$("consent-box").checked;
      }
    });
  }

  function wire() {
    $("consent-box").addEventListener("change", function () {
      $("consent-button").disabled = !$("consent-box").checked;
    });
    $("consent-gate").addEventListener("submit", function (event) {
      event.preventDefault();
      if ($("consent-box").checked) { act("consent"); }
    });
    $("start-button").addEventListener("click", function () { act("start"); });
    $("finish-button").addEventListener("click", function () { act("finish"); });
    $("leave-button").addEventListener("click", function () {
      if (window.confirm("Leave the interview? You will not be able to rejoin.")) { act("drop"); }
    });
    $("retry-button").addEventListener("click", function () { act("start"); });
  }

  wire();
  if (!token) {
    problem({ code: "INVALID_TOKEN" });
  } else {
    act("open");
  }
})();
