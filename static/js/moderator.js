// The moderator's phone: move through the statements, open and close voting, reveal results,
// and watch the live tally even while the projector is blind.
import { connect, format, languages, renderResultRows, showOnline, statementText, turnoutText } from "./common.js";

const app = document.getElementById("app");
const langs = languages(app);
const controlStatus = document.getElementById("control-status");
const liveToggle = document.getElementById("results-live");
let state = null;
let online = false;

// Exported: the questions' script shares this page's connection.
export const socket = connect({ code: app.dataset.code, role: "moderator", key: app.dataset.key }, {
  onState(next) {
    state = next;
    render();
  },
  onTally(tally) {
    if (!state?.round || tally.round_id !== state.round.id) return;
    state.turnout = tally.turnout;
    state.results = tally.results;
    render();
  },
  onOnline(isOnline) {
    online = isOnline;
    showOnline(isOnline);
    if (state) render();
  },
  onRefused(reason) {
    controlStatus.textContent = reason.message;
  },
});

function control(action) {
  controlStatus.textContent = "";
  socket.timeout(10000).emit("control", { action }, (err, reply) => {
    if (err) controlStatus.textContent = format("offline");
    else if (!reply.ok) controlStatus.textContent = reply.message;
  });
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => control(button.dataset.action));
}
liveToggle.addEventListener("change", () => control(liveToggle.checked ? "results_live" : "results_hidden"));

function render() {
  const { phase, statement, round } = state;
  document.getElementById("phase").textContent = format(`phase_${phase}`);
  document.getElementById("statement-position").textContent =
    statement ? format("statement_of", { n: statement.position, total: state.total }) : "";
  document.getElementById("round-number").textContent =
    round ? `· ${format("round", { n: round.number })}` : "";
  document.getElementById("statement-text").textContent =
    statement ? statementText(statement, "statement", langs) : "";

  // Show only the actions that make sense now, so the next step is always obvious.
  const available = {
    previous: phase !== "lobby",
    next: phase !== "finished",
    open: phase === "ready" || phase === "closed",
    close: phase === "open",
    reveal: Boolean(round) && !state.revealed,
    hide: Boolean(round) && state.revealed,
    new_round: phase === "closed",
  };
  // The usual next step stands out: open, close, reveal, then on to the next statement.
  const suggested = { lobby: "next", ready: "open", open: "close", closed: state.revealed ? "next" : "reveal" }[phase];
  for (const button of document.querySelectorAll("[data-action]")) {
    button.hidden = !available[button.dataset.action];
    button.disabled = !online;
    button.classList.toggle("primary", button.dataset.action === suggested);
  }
  liveToggle.checked = state.event.results_mode === "live";
  liveToggle.disabled = !online;
  document.getElementById("projector-mode").textContent =
    format(state.event.results_mode === "live" ? "projector_live" : "projector_blind");

  const bars = document.getElementById("results-bars");
  if (statement && state.results) renderResultRows(bars, statement, state.results, langs);
  else bars.replaceChildren();
  document.getElementById("turnout").textContent = round ? turnoutText(state.turnout) : "";
}
