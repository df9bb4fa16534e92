// The dashboard's one script: forms that write through the API, with the session's CSRF token,
// showing the API's own validation messages next to their fields.
//   data-api     the route;  data-method  POST (default) or DELETE
//   data-after   "reload", "show:FIELD" (show that field of the answer once), "job" (follow
//                the job the answer is, then reload), or a URL to go to, where {FIELD}
//                takes that field of the answer
//   a field's data-type: "number" or "json" sends it parsed; empty fields are left out, or
//   sent as null (cleared) in a form marked data-empty-as-null
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
    const response = await fetch(`/api/v1/jobs/${job.id}`);
    if (!response.ok) { showErrors(form, { detail: "The job cannot be followed: " + response.statusText }); return; }
    job = await response.json();
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
