// The projector: statement, QR code and the live tally. With the moderator key in the URL the
// keyboard (or a presentation clicker) controls the event.
import {
  connect, element, format, languages, localised, renderStackedBar, showOnline, statementText, turnoutText,
} from "./common.js";

const app = document.getElementById("app");
const langs = languages(app);
let state = null;

// Exported: the questions' script shares this page's connection.
export const socket = connect({ code: app.dataset.code, role: "presenter", key: app.dataset.key }, {
  onState(next) {
    state = next;
    render();
  },
  onTally(tally) {
    if (!state?.round || tally.round_id !== state.round.id) return;
    state.turnout = tally.turnout;
    state.results = tally.results ?? state.results;
    render();
  },
  onOnline: showOnline,
});

function render() {
  const { phase, statement } = state;
  app.dataset.phase = phase;
  const badges = { open: "voting_open", closed: "voting_closed" };
  document.getElementById("phase-badge").textContent = badges[phase] ? format(badges[phase]) : "";
  document.getElementById("statement-position").textContent =
    statement ? format("statement_of", { n: statement.position, total: state.total }) : "";

  const title = state.event.title[langs.lang] ?? state.event.title[langs.fallback];
  const theme = statement
    ? [statementText(statement, "theme", langs), statementText(statement, "question", langs)]
        .filter(Boolean).join(": ")
    : "";
  document.getElementById("statement-theme").textContent = theme;
  document.getElementById("statement-text").textContent =
    statement ? statementText(statement, "statement", langs) : phase === "finished" ? format("finished_title") : title;
  document.getElementById("stage-note").textContent =
    phase === "lobby" ? format("lobby_text") : phase === "finished" ? format("finished_text") : "";

  const bars = document.getElementById("results-bars");
  if (statement && state.results) {
    renderStackedBar(bars, statement, state.results, langs);
  } else if (statement && state.round) {
    bars.replaceChildren(Object.assign(document.createElement("p"), {
      className: "pending", textContent: format("results_pending"),
    }));
  } else {
    bars.replaceChildren();
  }
  document.getElementById("turnout").textContent = state.round ? turnoutText(state.turnout) : "";
  renderFacts(statement && state.revealed ? statement.facts : []);
  document.getElementById("shortcuts").hidden = !state.can_control;
}

/** The statement's context facts, each with its source; the deck's figures after the reveal. */
function renderFacts(facts) {
  document.getElementById("context-facts").hidden = facts.length === 0;
  document.getElementById("facts-list").replaceChildren(...facts.map((fact) => {
    const item = element("li", "", localised(fact.text, langs));
    item.append(element("cite", "", format("source", { source: localised(fact.source, langs) })));
    return item;
  }));
  app.dataset.facts = facts.length > 0 ? "shown" : "";
}

// Keys as on a presentation clicker (PageDown / PageUp) and the arrow keys.
const KEYS = {
  ArrowRight: () => "next",
  PageDown: () => "next",
  ArrowLeft: () => "previous",
  PageUp: () => "previous",
  o: () => (state.phase === "open" ? "close" : "open"),
  u: () => (state.revealed ? "hide" : "reveal"),
  r: () => (state.revealed ? "hide" : "reveal"),
  n: () => "new_round",
};

document.addEventListener("keydown", (event) => {
  if (!state?.can_control || event.ctrlKey || event.metaKey || event.altKey) return;
  const action = KEYS[event.key] ?? KEYS[event.key.toLowerCase()];
  if (!action) return;
  event.preventDefault();
  socket.emit("control", { action: action() }, (reply) => {
    if (!reply.ok) console.info(reply.message);
  });
});
