// The statistics tools: each form posts to its /api/v1/stats route and shows the answer.
"use strict";

// app.js, loaded first, gives callApi, showErrors and percent.
const post = (path, body) => callApi("POST", path, body);

function optionalNumber(form, name) {
  const text = form.elements.namedItem(name).value.trim();
  return text === "" ? undefined : Number(text);
}
function fixed(value, digits) { return value === null || value === undefined ? "-" : Number(value).toFixed(digits); }
function interval(bounds, format) { return bounds ? ` [${format(bounds[0])}, ${format(bounds[1])}]` : ""; }
function pValue(value) { return value === null || value === undefined ? "-" : (value < 0.0001 ? "< 0.0001" : value.toFixed(4)); }
function cell(row, text, numeric) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) { td.className = "number"; }
  row.appendChild(td);
}

const powerForm = document.getElementById("power-form");
powerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { kind: powerForm.elements.namedItem("kind").value, relative: powerForm.elements.namedItem("relative").checked };
  for (const name of ["baseline", "sd", "mde", "power", "n_per_variant", "alpha"]) {
    const value = optionalNumber(powerForm, name);
    if (value !== undefined) { body[name] = value; }
  }
  const { ok, answer } = await post("/api/v1/stats/power", body);
  const table = document.getElementById("power-answer");
  if (!ok) { showErrors(powerForm, answer); table.hidden = true; return; }
  showErrors(powerForm, null);
  const rows = [
    ["Customers in the control arm", answer.n_per_variant],
    ["Customers in the treatment arm", answer.n_treatment],
    ["Customers in all", answer.total],
    ["Effect (absolute)", fixed(answer.mde, 4)],
    ["Effect (relative to the baseline)", percent(answer.mde_relative)],
    ["Power", percent(answer.power)],
    ["Alpha", answer.alpha],
    ["Two-sided", answer.two_sided ? "yes" : "no"],
  ];
  if (answer.note) { rows.push(["Note", answer.note]); }
  const body_ = table.querySelector("tbody");
  body_.replaceChildren();
  for (const [name, value] of rows) {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = name;
    row.appendChild(th);
    cell(row, value === null || value === undefined ? "-" : String(value), true);
    body_.appendChild(row);
  }
  table.hidden = false;
});

const significanceForm = document.getElementById("significance-form");
significanceForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const lines = significanceForm.elements.namedItem("arms").value.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const variants = [];
  for (const [index, line] of lines.entries()) {
    const parts = line.split(",").map((part) => part.trim());
    if (parts.length !== 3 || !/^\d+$/.test(parts[1]) || !/^\d+$/.test(parts[2])) {
      showErrors(significanceForm, { errors: [{ field: "variants", message: `line ${index + 1} is not 'name, successes, trials' with whole numbers` }] });
      return;
    }
    variants.push({ name: parts[0], successes: Number(parts[1]), trials: Number(parts[2]) });
  }
  const body = { variants };
  const alpha = optionalNumber(significanceForm, "alpha");
  if (alpha !== undefined) { body.alpha = alpha; }
  const { ok, answer } = await post("/api/v1/stats/proportions", body);
  const box = document.getElementById("significance-answer");
  if (!ok) { showErrors(significanceForm, answer); box.hidden = true; return; }
  showErrors(significanceForm, null);
  const arms = document.querySelector("#significance-arms-table tbody");
  arms.replaceChildren();
  for (const arm of answer.variants) {
    const row = document.createElement("tr");
    cell(row, arm.name);
    cell(row, String(arm.successes), true);
    cell(row, String(arm.trials), true);
    cell(row, percent(arm.rate), true);
    cell(row, arm.ci ? `${percent(arm.ci[0])} to ${percent(arm.ci[1])}` : "-", true);
    arms.appendChild(row);
  }
  const comparisons = document.querySelector("#significance-comparisons tbody");
  comparisons.replaceChildren();
  for (const comparison of answer.comparisons) {
    const row = document.createElement("tr");
    cell(row, comparison.variant);
    cell(row, percent(comparison.absolute_lift) + interval(comparison.ci_absolute, percent), true);
    cell(row, percent(comparison.relative_lift) + interval(comparison.ci_relative, percent), true);
    cell(row, pValue(comparison.z_test.p_value), true);
    cell(row, pValue(comparison.p_value_adjusted), true);
    cell(row, pValue(comparison.sequential.p_value), true);
    cell(row, percent(comparison.chance_to_win), true);
    comparisons.appendChild(row);
  }
  const srm = answer.srm;
  document.getElementById("significance-srm").textContent = srm.p_value === null || srm.p_value === undefined
    ? "Sample-ratio check: " + (srm.note || "not defined")
    : `Sample-ratio check against an equal split: p = ${pValue(srm.p_value)}${srm.p_value < 0.001 ? " — a mismatch: the arms' sizes are not what an equal split gives." : " (no mismatch)."}`;
  box.hidden = false;
});
