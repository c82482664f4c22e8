// lollms serve settings page: save a model's settings, stream a "try it" answer, show health.
// Vanilla JS, no build step. Requests are same-origin, so the sign-in cookie (if any) goes along.
"use strict";

function valueOf(input) {
  if (input.type === "checkbox") return input.checked;
  if (input.dataset.secret) return input.value;  // empty: keep the current secret
  return input.value;
}

function clearErrors(form) {
  form.querySelectorAll(".error").forEach((el) => { el.textContent = ""; });
  form.querySelectorAll(".field.invalid").forEach((el) => el.classList.remove("invalid"));
}

async function save(form) {
  const model = form.dataset.model;
  const status = form.querySelector(".saved");
  clearErrors(form);
  if (status) status.textContent = "";
  const config = {};
  form.querySelectorAll("[name]").forEach((input) => { config[input.name] = valueOf(input); });
  const answer = await fetch(`/lollms/v1/config/models/${encodeURIComponent(model)}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ config }),
  });
  const body = await answer.json();
  if (answer.ok && body.saved) {
    form.querySelectorAll("[data-secret]").forEach((input) => { input.value = ""; });
    if (status) status.textContent = "Saved.";
    return;
  }
  const errors = body.errors || { _form: (body.error && body.error.message) || `HTTP ${answer.status}` };
  for (const [name, message] of Object.entries(errors)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`)
      || form.querySelector('[data-error-for="_form"]');
    slot.textContent = message;
    const field = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
    if (field) field.classList.add("invalid");
  }
}

async function tryIt(box) {
  const prompt = box.querySelector(".prompt").value;
  const out = box.querySelector(".answer");
  const button = box.querySelector(".send");
  out.textContent = "";
  button.disabled = true;
  try {
    const answer = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: box.dataset.model, stream: true, messages: [{ role: "user", content: prompt }] }),
    });
    if (!answer.ok) {
      const body = await answer.json();
      out.textContent = `Error: ${body.error ? body.error.message : answer.status}`;
      return;
    }
    const reader = answer.body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const events = pending.split("\n\n");
      pending = events.pop();
      for (const event of events) {
        const data = event.replace(/^data: /, "");
        if (data === "[DONE]") continue;
        const parsed = JSON.parse(data);
        if (parsed.error) { out.textContent += `\nError: ${parsed.error.message}`; continue; }
        const delta = parsed.choices && parsed.choices[0] && parsed.choices[0].delta;
        if (delta && delta.content) out.textContent += delta.content;
      }
    }
  } finally {
    button.disabled = false;
  }
}

async function refreshHealth() {
  try {
    const answer = await fetch("/health");
    const body = await answer.json();
    for (const [name, row] of Object.entries(body.models || {})) {
      document.querySelectorAll(`[data-health="${CSS.escape(name)}"]`).forEach((badge) => {
        badge.textContent = row.state + (row.active ? ` (${row.active} running)` : "");
        badge.className = `badge ${row.state}`;
        badge.title = row.error || "";
      });
    }
  } catch (err) {
    // the server is restarting: try again on the next tick
  }
}

document.querySelectorAll("form.settings").forEach((form) => {
  form.addEventListener("submit", (event) => { event.preventDefault(); save(form); });
});
document.querySelectorAll(".try").forEach((box) => {
  box.querySelector(".send").addEventListener("click", () => tryIt(box));
});
refreshHealth();
setInterval(refreshHealth, 3000);
