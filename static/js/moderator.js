// The moderator's phone: move through the statements, open and close voting (with a countdown
// if wanted), reveal results, and watch the live tally even while the projector is blind.
// Which buttons show comes from the state's allowed actions: the rules live on the server.
import {
  connect, format, languages, renderResults, roundText, showCountdown, showOnline, statementText, turnoutText,
} from "./common.js";

const app = document.getElementById("app");
const langs = languages(app);
const controlStatus = document.getElementById("control-status");
const liveToggle = document.getElementById("results-live");
const timer = document.getElementById("timer");
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
  onPresence(presence) {
    if (!state) return;
    state.joined = presence.joined;
    renderJoined();
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
  const timed = action === "open" || action === "new_round";
  const seconds = timed && timer.value ? Number(timer.value) : undefined;
  socket.timeout(10000).emit("control", { action, seconds }, (err, reply) => {
    if (err) controlStatus.textContent = format("offline");
    else if (!reply.ok) controlStatus.textContent = reply.message;
  });
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => control(button.dataset.action));
}
liveToggle.addEventListener("change", () => control(liveToggle.checked ? "results_live" : "results_hidden"));

/** The countdowns on offer (the deck's default first chosen), built once. */
function renderTimerChoices() {
  if (timer.options.length > 1) return;
  const choices = new Set([...(state.timer?.choices ?? [])]);
  if (state.timer?.default) choices.add(state.timer.default);
  for (const seconds of [...choices].sort((a, b) => a - b)) {
    timer.add(new Option(format("timer_seconds", { n: seconds }), String(seconds)));
  }
  if (state.timer?.default) timer.value = String(state.timer.default);
}

function renderJoined() {
  const joined = state.joined ?? 0;
  document.getElementById("joined").textContent = format(joined === 1 ? "joined_one" : "joined", { n: joined });
}

function render() {
  const { phase, statement, round } = state;
  renderTimerChoices();
  document.getElementById("phase").textContent = format(`phase_${phase}`);
  document.getElementById("statement-position").textContent =
    statement ? format("statement_of", { n: statement.position, total: state.total }) : "";
  document.getElementById("round-number").textContent =
    round ? `· ${format("round", { n: round.number })}` : "";
  document.getElementById("statement-text").textContent =
    statement ? statementText(statement, "statement", langs) : "";
  showCountdown(document.getElementById("countdown"), round);
  renderJoined();

  const allowed = new Set(state.allowed_actions ?? []);
  // The usual next step stands out: open, close, reveal, then on to the next statement.
  const suggested = { lobby: "next", ready: "open", open: "close", closed: state.revealed ? "next" : "reveal" }[phase];
  for (const button of document.querySelectorAll("[data-action]")) {
    button.hidden = !allowed.has(button.dataset.action);
    button.disabled = !online;
    button.classList.toggle("primary", button.dataset.action === suggested);
  }
  // After a close, "open" carries on with the same round; say so, beside "new round".
  document.querySelector('[data-action="open"]').textContent = format(phase === "closed" ? "reopen_voting" : "open_voting");
  document.getElementById("round-help").hidden = phase !== "closed";
  document.getElementById("timer-actions").hidden = !allowed.has("extend") && !allowed.has("stop_timer");
  document.getElementById("timer-choice").hidden = !allowed.has("open") && !allowed.has("new_round");
  timer.disabled = !online;
  liveToggle.checked = state.event.results_mode === "live";
  liveToggle.disabled = !online;
  document.getElementById("projector-mode").textContent =
    format(state.event.results_mode === "live" ? "projector_live" : "projector_blind");

  const bars = document.getElementById("results-bars");
  if (statement && state.results) renderResults(bars, statement, state.results, langs);
  else {
    delete bars.dataset.built;
    bars.replaceChildren();
  }
  document.getElementById("turnout").textContent = round ? turnoutText(state.turnout) : "";
}
