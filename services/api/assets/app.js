// The dashboard's one script: forms that write through the API, with the session's CSRF token,
// showing the API's own validation messages next to their fields.
//   data-api     the route;  data-method  POST (default) or DELETE
//   data-after   "reload", "show:FIELD" (show that field of the answer once), or a URL to
//                go to, where {FIELD} takes that field of the answer
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function showErrors(form, problem) {
  form.querySelectorAll("[data-error-for]").forEach((element) => { element.textContent = ""; });
  const errors = (problem && problem.errors) || [];
  errors.forEach((error) => {
    const slot = form.querySelector(`[data-error-for="${error.field}"]`) || form.querySelector('[data-error-for=""]');
    if (slot) { slot.textContent = error.message; }
  });
  const general = form.querySelector('[data-error-for=""]');
  if (errors.length === 0 && general) {
    general.textContent = (problem && (problem.detail || problem.title)) || "The request failed.";
  }
}

function after(form, answer) {
  const next = form.dataset.after || "reload";
  if (next === "reload") {
    window.location.reload();
  } else if (next.startsWith("show:")) {
    const field = next.slice("show:".length);
    form.querySelector("[data-result-value]").textContent = answer[field];
    form.querySelector("[data-result]").hidden = false;
  } else {
    window.location.href = next.replace(/\{(\w+)\}/g, (_, field) => encodeURIComponent(answer[field] ?? ""));
  }
}

document.querySelectorAll("form[data-api]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const method = form.dataset.method || "POST";
    const body = {};
    new FormData(form).forEach((value, name) => {
      if (value !== "") { body[name] = value; }
    });
    form.querySelectorAll('input[type="checkbox"]').forEach((box) => { body[box.name] = box.checked; });
    let response;
    try {
      response = await fetch(form.dataset.api, {
        method,
        headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
        body: method === "DELETE" ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      showErrors(form, { detail: "The API cannot be reached: " + error.message });
      return;
    }
    let answer = null;
    try { answer = await response.json(); } catch (error) { answer = { detail: response.statusText }; }
    if (response.ok) {
      showErrors(form, { errors: [] });
      form.querySelectorAll("[data-error-for]").forEach((element) => { element.textContent = ""; });
      after(form, answer || {});
    } else {
      showErrors(form, answer);
    }
  });
});
