// The dashboard's one script: forms that write through the API, with the session's CSRF token,
// showing the API's own validation messages next to their fields.
//   data-api     the route;  data-method  POST (default) or DELETE
//   data-after   "reload", "show:FIELD" (show that field of the answer once), "job" (follow
//                the job the answer is, then reload), or a URL to go to, where {FIELD}
//                takes that field of the answer
//   a field's data-type: "number" or "json" sends it parsed; empty fields are left out, or
//   sent as null (cleared) in a form marked data-empty-as-null
// It also gives the other scripts (wizard.js, stats.js), loaded after it, `callApi`,
// `showErrors` and `percent`.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Calls the API with the session's CSRF token: { ok, answer }, where a failure's answer is a
// problem (the API's, or one saying the API cannot be reached).
async function callApi(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, answer: { detail: "The API cannot be reached: " + error.message } };
  }
  let answer = null;
  try { answer = await response.json(); } catch (error) { answer = { detail: response.statusText }; }
  return { ok: response.ok, answer: answer || {} };
}

// Each field error under its field (`variants[0].weight` under `variants` when that is the
// slot there is), the rest and problems without fields under the form's general slot.
// `null` only clears them.
function showErrors(form, problem) {
  form.querySelectorAll("[data-error-for]").forEach((element) => { element.textContent = ""; });
  if (!problem) { return; }
  const general = form.querySelector('[data-error-for=""]');
  const errors = (problem && problem.errors) || [];
  errors.forEach((error) => {
    const slot = form.querySelector(`[data-error-for="${error.field}"]`)
      || form.querySelector(`[data-error-for="${error.field.replace(/[[.].*$/, "")}"]`);
    const target = slot || general;
    const message = slot ? error.message : `${error.field}: ${error.message}`;
    if (target) { target.textContent = (target.textContent ? target.textContent + " " : "") + message; }
  });
  if (errors.length === 0 && general) {
    general.textContent = (problem && (problem.detail || problem.title)) || "The request failed.";
  }
}

function percent(value) { return value === null || value === undefined ? "-" : (value * 100).toFixed(2) + "%"; }

async function followJob(form, job) {
  const box = form.querySelector("[data-job]");
  box.hidden = false;
  form.querySelector("[data-job-id]").textContent = job.id;
  for (;;) {
    form.querySelector("[data-job-status]").textContent = job.status;
    form.querySelector("[data-job-progress]").value = job.progress || 0;
    if (job.status === "succeeded") { window.location.reload(); return; }
    if (job.status === "failed" || job.status === "cancelled") {
      showErrors(form, { detail: `The job ${job.status}: ${job.error || "no reason given"}` });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { ok, answer } = await callApi("GET", `/api/v1/jobs/${job.id}`);
    if (!ok) { showErrors(form, { detail: "The job cannot be followed: " + (answer.detail || "no answer") }); return; }
    job = answer;
  }
}

function after(form, answer) {
  const next = form.dataset.after || "reload";
  if (next === "reload") {
    window.location.reload();
  } else if (next === "job") {
    followJob(form, answer);
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
    try {
      new FormData(form).forEach((value, name) => {
        if (value === "") {
          if (form.hasAttribute("data-empty-as-null")) { body[name] = null; }
          return;
        }
        const field = form.querySelector(`[name="${name}"]`);
        const type = field ? field.dataset.type : undefined;
        if (type === "number") {
          body[name] = Number(value);
        } else if (type === "json") {
          try { body[name] = JSON.parse(value); } catch (error) {
            throw { errors: [{ field: name, message: "is not valid JSON: " + error.message }] };
          }
        } else {
          body[name] = value;
        }
      });
    } catch (problem) {
      showErrors(form, problem);
      return;
    }
    form.querySelectorAll('input[type="checkbox"]').forEach((box) => { body[box.name] = box.checked; });
    const { ok, answer } = await callApi(method, form.dataset.api, method === "DELETE" ? undefined : body);
    if (ok) {
      showErrors(form, null);
      after(form, answer);
    } else {
      showErrors(form, answer);
    }
  });
});
