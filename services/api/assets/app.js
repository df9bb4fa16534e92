// The dashboard's one script: forms that write through the API, with the session's CSRF token,
// showing the API's own validation messages next to their fields.
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
    slot.textContent = error.message;
  });
  if (errors.length === 0) {
    form.querySelector('[data-error-for=""]').textContent = (problem && (problem.detail || problem.title)) || "The request failed.";
  }
}

document.querySelectorAll("form[data-api]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    new FormData(form).forEach((value, name) => {
      if (value !== "") { body[name] = value; }
    });
    form.querySelectorAll('input[type="checkbox"]').forEach((box) => { body[box.name] = box.checked; });
    let response;
    try {
      response = await fetch(form.dataset.api, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
        body: JSON.stringify(body),
      });
    } catch (error) {
      showErrors(form, { detail: "The API cannot be reached: " + error.message });
      return;
    }
    if (response.ok) {
      const created = await response.json();
      window.location.href = "/customers?email=" + encodeURIComponent(created.email);
      return;
    }
    let problem = null;
    try { problem = await response.json(); } catch (error) { problem = { detail: response.statusText }; }
    showErrors(form, problem);
  });
});
