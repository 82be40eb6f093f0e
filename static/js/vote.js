// The phone: shows the current statement, sends a vote, and shows it only once the server
// has committed it. Comes back to the right statement with its own vote after any reconnect.
import {
  connect, element, format, languages, optionLabel, renderResults, roundText, showCountdown, showOnline, statementText,
} from "./common.js";

const app = document.getElementById("app");
const langs = languages(app);
const screens = ["lobby", "statement", "finished"];
const choices = document.getElementById("choices");
const status = document.getElementById("vote-status");

let state = null;
let online = false;
let sending = null; // {round, choice} while waiting for the server
let queued = null; // {round, choice} tapped while offline, sent once the connection is back
let problem = "";
const acknowledged = new Map(); // round id -> the choice the server confirmed

// Exported: the questions' script shares this page's connection.
export const socket = connect({ code: app.dataset.code, role: "audience" }, {
  onState(next) {
    state = next;
    if (next.you && next.round) {
      // A personal state (on connect or sync) is the server's word on this phone's vote.
      if (next.you.choice) acknowledged.set(next.round.id, next.you.choice);
      else acknowledged.delete(next.round.id);
    }
    if (!next.round || sending?.round !== next.round.id) sending = null;
    problem = "";
    if (queued && next.you) {
      // Back online (a personal state comes only on connect or sync): send the queued tap if
      // its round is still open, or say that it was not counted.
      const still = next.round?.open && next.round.id === queued.round;
      const choice = queued.choice;
      queued = null;
      if (still) {
        render();
        // This state came over the socket, so it is connected, whether or not its
        // "connect" event (which may follow the first state) has arrived yet.
        vote(choice, { connected: true });
        return;
      }
      problem = format("vote_queued_lost");
    }
    render();
  },
  onOnline(isOnline) {
    online = isOnline;
    showOnline(isOnline);
    render();
  },
  onRefused(reason) {
    // Lost cookie: the page sets a new one.
    if (reason.error === "no_participant") window.location.reload();
    else status.textContent = errorText(reason.error);
  },
});

function vote(choice, { connected = online } = {}) {
  if (!state?.round?.open || sending) return;
  if (!connected) {
    // Not lost silently: kept, shown as waiting, and sent when the connection is back.
    queued = { round: state.round.id, choice };
    problem = "";
    render();
    return;
  }
  const round = state.round.id;
  sending = { round, choice };
  problem = "";
  render();
  socket.timeout(10000).emit("vote", { round, choice }, (err, reply) => {
    sending = null;
    if (err) {
      problem = format("offline");
    } else if (reply.ok) {
      acknowledged.set(reply.round, reply.choice);
    } else {
      problem = errorText(reply.error);
    }
    render();
  });
}

// Every error code has a sentence in the page's language; never the server's English one.
function errorText(code) {
  const key = `error_${code}`;
  const text = format(key);
  return text === key ? format("error_generic") : text;
}

/** What this page shows: the state, and this phone's vote in its round once the server has it.
 * The reasons' script (reasons.js) follows it, from its "phone-vote" event. */
export function currentVote() {
  return { state, choice: state?.round ? acknowledged.get(state.round.id) ?? null : null };
}

function render() {
  if (!state) return;
  renderScreen();
  app.dispatchEvent(new CustomEvent("phone-vote", { detail: currentVote() }));
}

function renderScreen() {
  const screen = state.phase === "lobby" || state.phase === "finished" ? state.phase : "statement";
  for (const name of screens) document.getElementById(`screen-${name}`).hidden = name !== screen;
  if (screen !== "statement") return;

  const { statement, round, phase } = state;
  const mine = round ? acknowledged.get(round.id) ?? null : null;
  document.getElementById("statement-position").textContent =
    format("statement_of", { n: statement.position, total: state.total });
  document.getElementById("round-number").textContent = roundText(round);
  showCountdown(document.getElementById("countdown"), round);
  document.getElementById("statement-theme").textContent = statementText(statement, "theme", langs);
  const text = statementText(statement, "statement", langs);
  const heading = document.getElementById("statement-text");
  heading.textContent = text;
  heading.classList.toggle("long", text.length > 120);

  const notes = { ready: format("ready_text"), open: format("vote_prompt"), closed: format("vote_closed") };
  document.getElementById("phase-note").textContent = notes[phase] ?? "";

  renderChoices(statement, phase === "open", mine);

  const waiting = queued && queued.round === round?.id ? queued : null;
  const chosen = statement.options.find((option) => option.key === (waiting?.choice ?? sending?.choice ?? mine));
  const label = chosen ? optionLabel(chosen, langs) : "";
  if (problem) status.textContent = problem;
  else if (waiting) status.textContent = format("vote_queued", { choice: label });
  else if (sending) status.textContent = format("vote_sending");
  else if (phase === "open" && mine) status.textContent = `✓ ${format("vote_recorded", { choice: label })}`;
  else if (phase === "closed") status.textContent = mine ? format("your_vote", { choice: label }) : format("no_vote");
  else status.textContent = "";
  status.classList.toggle("recorded", Boolean(mine) && !sending && !problem && !waiting);
  status.classList.toggle("pending", Boolean(waiting));

  const results = document.getElementById("results");
  results.hidden = !state.results;
  if (state.results) {
    renderResults(document.getElementById("results-bars"), statement, state.results, langs, { ownChoice: mine });
  }
}

function renderChoices(statement, open, mine) {
  choices.hidden = !open;
  if (!open) return;
  choices.classList.toggle("many", statement.options.length > 2);
  choices.classList.toggle("offline", !online);
  const keys = statement.options.map((option) => option.key).join(",");
  if (choices.dataset.keys !== keys) {
    choices.replaceChildren(...statement.options.map((option, index) => {
      const button = element("button", `choice option-${index + 1}`);
      button.type = "button";
      button.dataset.choice = option.key;
      button.addEventListener("click", () => vote(option.key));
      return button;
    }));
    choices.dataset.keys = keys;
  }
  for (const button of choices.children) {
    const option = statement.options.find((item) => item.key === button.dataset.choice);
    const pressed = button.dataset.choice === (queued?.choice ?? sending?.choice ?? mine);
    button.textContent = pressed && !sending ? `✓ ${optionLabel(option, langs)}` : optionLabel(option, langs);
    button.setAttribute("aria-pressed", String(pressed));
    // aria-disabled, not disabled: a disabled button loses the keyboard focus, and a keyboard
    // user would have to Tab back from the top after every vote. vote() ignores the press.
    if (sending) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }
}
