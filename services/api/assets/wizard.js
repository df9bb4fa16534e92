// The experiment wizard: five steps in one form, every number from the API.
//   audience and baseline  GET  /api/v1/reports/audience
//   e-mail preview         POST /api/v1/mail/preview (rendered by the mailer for a real customer)
//   power                  POST /api/v1/stats/power
//   create, then start     POST /api/v1/experiments, POST /api/v1/experiments/{id}/start
"use strict";
// Needs app.js (callApi, percent) loaded before it.

const wizard = document.getElementById("wizard");
const templates = JSON.parse(document.getElementById("templates-data").textContent);
const api = callApi; // from app.js, loaded first
let audience = null;

function field(name) { return wizard.elements.namedItem(name); }
// A field's number; null when empty, NaN when not a number (refused before sending).
function number(name) {
  const text = field(name).value.trim();
  return text === "" ? null : Number(text);
}

// Steps.
function showStep(step) {
  wizard.querySelectorAll("[data-step]").forEach((fieldset) => { fieldset.hidden = fieldset.dataset.step !== String(step); });
  document.querySelectorAll("[data-step-label]").forEach((label) => {
    label.toggleAttribute("aria-current", label.dataset.stepLabel === String(step));
  });
  if (step === 5) { updatePower(); }
  if (step === 3) { preview(currentVariant()); }
}
function stepOf(element) { return Number(element.closest("[data-step]").dataset.step); }
wizard.querySelectorAll("[data-next]").forEach((button) => button.addEventListener("click", () => showStep(stepOf(button) + 1)));
wizard.querySelectorAll("[data-back]").forEach((button) => button.addEventListener("click", () => showStep(stepOf(button) - 1)));

// Audience and baseline.
async function updateAudience() {
  const summary = document.getElementById("audience-summary");
  const query = new URLSearchParams({ goal_metric: field("goal_metric").value, exclusive: field("exclusive").checked });
  if (field("segment_id").value !== "") { query.set("segment_id", field("segment_id").value); }
  const { ok, answer } = await api("GET", "/api/v1/reports/audience?" + query);
  if (!ok) { summary.textContent = answer.detail || "The audience cannot be counted."; return; }
  audience = answer;
  summary.textContent = `${answer.reachable.toLocaleString()} customers can be reached now.`;
  const source = document.getElementById("baseline-source");
  if (answer.baseline !== null && answer.baseline !== undefined) {
    field("baseline").value = (answer.baseline * 100).toFixed(2);
    source.textContent = `From the control arms of ${answer.baseline_experiments} earlier experiment(s), ${answer.baseline_customers.toLocaleString()} customers.`;
  } else {
    if (field("baseline").value === "") { field("baseline").value = "5"; }
    source.textContent = "No earlier experiment measured this: the baseline is your assumption.";
  }
  updatePower();
}
field("segment_id").addEventListener("change", updateAudience);
field("exclusive").addEventListener("change", updateAudience);
field("goal_metric").addEventListener("change", updateAudience);

// Variants.
const variantsBox = document.getElementById("variants");
let activeVariant = null;
function variantValue(box, name) { return box.querySelector(`[data-field="${name}"]`).value; }
function currentVariant() { return activeVariant || variantsBox.querySelector(".variant"); }
function relabel() {
  variantsBox.querySelectorAll(".variant").forEach((box, index) => {
    box.querySelector("legend").textContent = index === 0 ? "Variant 1 (control)" : `Variant ${index + 1}`;
  });
}
function addVariant(key) {
  const box = document.getElementById("variant-template").content.firstElementChild.cloneNode(true);
  box.querySelector('[data-field="key"]').value = key;
  box.querySelector('[data-field="name"]').value = key;
  box.querySelector('[data-field="template_id"]').addEventListener("change", (event) => {
    const chosen = templates.find((template) => String(template.id) === event.target.value);
    if (chosen) {
      for (const name of ["subject", "body_text", "body_html"]) { box.querySelector(`[data-field="${name}"]`).value = chosen[name]; }
      box.querySelector('[data-field="links"]').value = JSON.stringify(chosen.links);
      box.querySelector('[data-field="name"]').value = chosen.name;
    }
    activeVariant = box;
    preview(box);
  });
  let timer = null;
  box.addEventListener("input", () => {
    activeVariant = box;
    clearTimeout(timer);
    timer = setTimeout(() => preview(box), 400);
  });
  box.querySelector("[data-preview]").addEventListener("click", () => { activeVariant = box; preview(box); });
  box.querySelector("[data-remove]").addEventListener("click", () => {
    if (variantsBox.querySelectorAll(".variant").length > 2) { box.remove(); relabel(); activeVariant = null; }
  });
  variantsBox.appendChild(box);
  relabel();
}
document.getElementById("add-variant").addEventListener("click", () => {
  addVariant(String.fromCharCode(65 + variantsBox.querySelectorAll(".variant").length));
});

function parsedLinks(box) {
  const text = variantValue(box, "links").trim();
  return text === "" ? {} : JSON.parse(text);
}

// Answers can arrive out of order: only the latest request's answer is shown.
let previewGeneration = 0;
async function preview(box) {
  if (!box) { return; }
  const generation = ++previewGeneration;
  const error = document.getElementById("preview-error");
  let links;
  try { links = parsedLinks(box); } catch (problem) { error.textContent = "Links are not valid JSON: " + problem.message; return; }
  const body = {
    subject: variantValue(box, "subject"),
    body_text: variantValue(box, "body_text"),
    body_html: variantValue(box, "body_html"),
    links,
  };
  if (body.subject === "" && body.body_text === "" && body.body_html === "") {
    error.textContent = "";
    document.getElementById("preview-subject").textContent = "(choose a template, or write the e-mail)";
    return;
  }
  if (field("segment_id").value !== "") { body.segment_id = Number(field("segment_id").value); }
  const { ok, answer } = await api("POST", "/api/v1/mail/preview", body);
  if (generation !== previewGeneration) { return; }
  if (!ok) {
    const first = (answer.errors || [])[0];
    error.textContent = first ? `${first.field}: ${first.message}` : (answer.detail || "The preview failed.");
    return;
  }
  error.textContent = "";
  document.getElementById("preview-for").textContent =
    `${box.querySelector("legend").textContent}, for ${answer.customer_name} (customer ${answer.customer_id})`;
  document.getElementById("preview-subject").textContent = answer.subject;
  document.getElementById("preview-html").srcdoc = answer.html;
}

// Power. Sized on the smallest arm: with unequal weights it is the one that limits.
function weights() {
  return [...variantsBox.querySelectorAll(".variant")].map((box) => Number(variantValue(box, "weight") || 1));
}
function smallestShare() {
  const all = weights();
  const total = all.reduce((sum, weight) => sum + weight, 0);
  return all.every((weight) => weight > 0) && total > 0 ? Math.min(...all) / total : NaN;
}
function sendingFraction() {
  const holdout = (number("holdout_fraction") || 0) / 100;
  const test = number("test_fraction");
  return (1 - holdout) * (test === null ? 1 : test / 100);
}
function perArmAvailable() {
  if (!audience) { return null; }
  return Math.floor(audience.reachable * sendingFraction() * smallestShare());
}
// Customers the smallest arm needs; null until the latest calculation has answered.
let plannedPerArm = null;
let powerGeneration = 0;
async function updatePower() {
  const generation = ++powerGeneration;
  plannedPerArm = null;
  document.getElementById("power-needed").textContent = "-";
  const error = document.getElementById("power-error");
  const baselinePercent = number("baseline");
  const power = (number("power") || 80) / 100;
  const alpha = number("alpha") || 0.05;
  const available = perArmAvailable();
  document.getElementById("power-available").textContent = available === null ? "-" : available.toLocaleString();
  if (field("goal_metric").value === "revenue") {
    error.textContent = "Revenue is a mean: size it on the statistics page, with its standard deviation.";
    return;
  }
  if (baselinePercent === null || !(baselinePercent > 0 && baselinePercent < 100)) {
    error.textContent = "Give the baseline rate, between 0 and 100%.";
    return;
  }
  const baseline = baselinePercent / 100;
  error.textContent = "";
  const verdict = document.getElementById("power-verdict");
  if (available !== null && available >= 2) {
    const { ok, answer } = await api("POST", "/api/v1/stats/power", { kind: "proportions", baseline, n_per_variant: available, power, alpha });
    if (generation !== powerGeneration) { return; }
    document.getElementById("power-mde").textContent = !ok
      ? (answer.detail || "-")
      : (answer.mde === null || answer.mde === undefined)
        ? (answer.note || "not computable")
        : `${percent(answer.mde_relative)} (from ${percent(baseline)} to ${percent(baseline + answer.mde)})`;
  } else {
    document.getElementById("power-mde").textContent = "too few customers";
  }
  const lift = (number("target_lift") || 10) / 100;
  const needed = await api("POST", "/api/v1/stats/power", { kind: "proportions", baseline, mde: lift, relative: true, power, alpha });
  if (generation !== powerGeneration) { return; }
  if (needed.ok && Number.isInteger(needed.answer.n_per_variant)) {
    plannedPerArm = needed.answer.n_per_variant;
    document.getElementById("power-needed").textContent = plannedPerArm.toLocaleString();
    verdict.textContent = available !== null && available >= plannedPerArm
      ? "The audience is large enough for the lift you want."
      : "The audience is too small for the lift you want: expect to detect only the larger lift above.";
  } else {
    document.getElementById("power-needed").textContent = needed.answer.detail || needed.answer.note || "-";
  }
}
for (const name of ["baseline", "power", "target_lift", "holdout_fraction", "test_fraction", "alpha"]) {
  field(name).addEventListener("input", () => { updatePower(); });
}

// Create, and start.
function showProblem(problem) {
  wizard.querySelectorAll("[data-error-for], [data-variant-error]").forEach((slot) => { slot.textContent = ""; });
  const errors = problem.errors || [];
  let firstStep = null;
  for (const error of errors) {
    const variant = /^variants\[(\d+)\]/.exec(error.field);
    let slot;
    if (variant) {
      const box = variantsBox.querySelectorAll(".variant")[Number(variant[1])];
      slot = box && box.querySelector("[data-variant-error]");
      if (slot) { slot.textContent = `${error.field.replace(/^variants\[\d+\]\.?/, "")}: ${error.message}`; }
    } else {
      slot = wizard.querySelector(`[data-error-for="${error.field}"]`);
      if (slot) { slot.textContent = error.message; }
    }
    if (slot && firstStep === null) { firstStep = stepOf(slot); }
  }
  // Errors with no field of their own on the page are listed under the buttons.
  const unplaced = errors.filter((error) => !/^variants\[\d+\]/.test(error.field) && !wizard.querySelector(`[data-error-for="${error.field}"]`));
  const general = wizard.querySelector('[data-step="5"] [data-error-for=""]');
  general.textContent = errors.length === 0
    ? (problem.detail || "The request failed.")
    : unplaced.map((e) => `${e.field}: ${e.message}`).join("; ");
  if (unplaced.length > 0) { showStep(5); } else if (firstStep !== null) { showStep(firstStep); }
}

function design() {
  const variants = [...variantsBox.querySelectorAll(".variant")].map((box, index) => {
    const variant = {
      key: variantValue(box, "key"),
      name: variantValue(box, "name"),
      subject: variantValue(box, "subject"),
      body_text: variantValue(box, "body_text"),
      body_html: variantValue(box, "body_html"),
      links: parsedLinks(box),
      weight: Number(variantValue(box, "weight") || 1),
      is_control: index === 0,
    };
    const template = variantValue(box, "template_id");
    if (template !== "") { variant.template_id = Number(template); }
    return variant;
  });
  const body = {
    name: field("name").value,
    hypothesis: field("hypothesis").value,
    goal_metric: field("goal_metric").value,
    attribution_window_days: number("attribution_window_days"),
    alpha: number("alpha"),
    exclusive: field("exclusive").checked,
    holdout_fraction: (number("holdout_fraction") || 0) / 100,
    no_winner_action: field("no_winner_action").value,
    variants,
  };
  if (field("segment_id").value !== "") { body.segment_id = Number(field("segment_id").value); }
  const test = number("test_fraction");
  if (test !== null) {
    body.test_fraction = test / 100;
    body.winner_wait_hours = number("winner_wait_hours");
  }
  if (plannedPerArm && smallestShare() > 0) {
    // Enough e-mailed customers for the smallest arm to get its share; ds compares the plan
    // with everyone assigned outside the winner phase, the holdout too.
    const sending = sendingFraction();
    const emailed = plannedPerArm / smallestShare();
    body.planned_sample_size = Math.ceil(emailed * (body.holdout_fraction + sending) / sending);
  }
  return body;
}

wizard.addEventListener("submit", async (event) => {
  event.preventDefault();
  const start = event.submitter && event.submitter.value === "start";
  const notNumbers = ["attribution_window_days", "alpha", "holdout_fraction", "test_fraction", "winner_wait_hours"]
    .filter((name) => Number.isNaN(number(name)))
    .map((name) => ({ field: name, message: "is not a number" }));
  variantsBox.querySelectorAll(".variant").forEach((box, index) => {
    if (Number.isNaN(Number(variantValue(box, "weight") || 1))) { notNumbers.push({ field: `variants[${index}].weight`, message: "is not a number" }); }
  });
  if (notNumbers.length > 0) { showProblem({ errors: notNumbers }); return; }
  let body;
  try { body = design(); } catch (problem) { showProblem({ detail: "A variant's links are not valid JSON: " + problem.message }); return; }
  const created = await api("POST", "/api/v1/experiments", body);
  if (!created.ok) { showProblem(created.answer); return; }
  if (start) {
    const started = await api("POST", `/api/v1/experiments/${created.answer.id}/start`);
    if (!started.ok) {
      // The draft exists: say why it did not start, and where it is.
      const general = wizard.querySelector('[data-step="5"] [data-error-for=""]');
      general.textContent = `Saved as a draft, but not started: ${started.answer.detail || "the start failed"}. `;
      const link = document.createElement("a");
      link.href = `/experiments/${created.answer.id}`;
      link.textContent = "Open the draft";
      general.appendChild(link);
      return;
    }
  }
  window.location.href = `/experiments/${created.answer.id}`;
});

addVariant("A");
addVariant("B");
showStep(1);
updateAudience();
