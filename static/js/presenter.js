// The projector: statement, QR code and the live tally. With the moderator key in the URL the
// keyboard (or a presentation clicker) controls the event.
import {
  connect, element, fitSize, format, languages, localised, renderResults, roundText, showCountdown, showOnline, statementText,
  turnoutText,
} from "./common.js";

const app = document.getElementById("app");
const langs = languages(app);
const shortcuts = document.getElementById("shortcuts");
const blackout = document.getElementById("blackout");
let state = null;
// Only the connection's own state says whether this page may control the event; the states
// broadcast to every screen do not, so it is kept here across broadcasts and reconnects.
let canControl = false;
let hintTimer = null;

// Exported: the questions' script shares this page's connection.
export const socket = connect({ code: app.dataset.code, role: "presenter", key: app.dataset.key }, {
  onState(next) {
    if ("can_control" in next) {
      if (next.can_control && !canControl) showHint(6000);
      canControl = next.can_control;
    }
    state = next;
    render();
  },
  onTally(tally) {
    if (!state?.round || tally.round_id !== state.round.id) return;
    state.turnout = tally.turnout;
    state.results = tally.results ?? state.results;
    render();
  },
  onPresence(presence) {
    if (!state) return;
    state.joined = presence.joined;
    renderJoined();
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
  document.getElementById("round-number").textContent = statement ? roundText(state.round) : "";
  showCountdown(document.getElementById("countdown"), state.round);

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
  renderJoined();

  const bars = document.getElementById("results-bars");
  if (statement && state.results) {
    renderResults(bars, statement, state.results, langs, { stacked: true });
  } else {
    delete bars.dataset.built;
    bars.classList.remove("empty");
    bars.replaceChildren(...(statement && state.round ? [element("p", "pending", format("results_pending"))] : []));
  }
  document.getElementById("turnout").textContent = state.round ? turnoutText(state.turnout) : "";
  app.dataset.options = statement ? String(statement.options.length) : "";
  renderFacts(statement && state.revealed ? statement.facts : []);
  fit();
}

function renderJoined() {
  const joined = document.getElementById("joined");
  joined.hidden = state.phase !== "lobby" || state.joined === null || state.joined === undefined;
  joined.textContent = format(state.joined === 1 ? "joined_one" : "joined", { n: state.joined });
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

/**
 * Shrink the statement until the text area holds everything, from its largest size down to a
 * floor that is still read from the back of a hall. Sizes follow the screen's width and height
 * (the --px unit of the stylesheet); the deck check keeps texts short enough to fit at the floor.
 */
let fitted = "";

function fit() {
  const box = document.getElementById("stage-text");
  const text = document.getElementById("statement-text");
  // A tally (four a second) changes no sizes: fit again only when the layout may have changed.
  const layout = [text.textContent, app.dataset.phase, app.dataset.facts, app.dataset.options,
    Boolean(state?.results), state?.round?.id, state?.joined > 0, innerWidth, innerHeight].join("|");
  if (layout === fitted) return;
  fitted = layout;
  const unit = Math.min(window.innerWidth / 1600, window.innerHeight / 1080);
  const big = state && (state.phase === "lobby" || state.phase === "finished");
  fitSize(
    (px) => { text.style.fontSize = `${px}px`; },
    () => box.scrollHeight <= box.clientHeight,
    (big ? 84 : 80) * unit,
    48 * unit,
  );
}
window.addEventListener("resize", () => state && fit());

/** The list of keys, for a few seconds (or until `?` again), not for the hall to read all evening. */
function showHint(milliseconds) {
  clearTimeout(hintTimer);
  shortcuts.hidden = false;
  if (milliseconds) hintTimer = setTimeout(() => { shortcuts.hidden = true; }, milliseconds);
}

// What a key does, asked of the state's allowed actions: the rules live on the server.
function actionFor(key) {
  const allowed = (action) => state.allowed_actions?.includes(action);
  switch (key) {
    case "ArrowRight": case "ArrowDown": case "PageDown": case " ": return "next";
    case "ArrowLeft": case "ArrowUp": case "PageUp": return "previous";
    case "o": return allowed("close") ? "close" : "open";
    case "u": return allowed("hide") ? "hide" : "reveal";
    case "n": return "new_round";
    default: return null;
  }
}

document.addEventListener("keydown", (event) => {
  if (!state || !canControl || event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  // Clickers send B or "." for a black screen; it is this screen's own, the event goes on.
  if (key === "b" || key === ".") {
    event.preventDefault();
    blackout.hidden = !blackout.hidden;
    return;
  }
  if (key === "?") {
    event.preventDefault();
    if (shortcuts.hidden) showHint(0);
    else shortcuts.hidden = true;
    return;
  }
  const action = actionFor(key);
  if (!action) return;
  event.preventDefault();
  const seconds = action === "open" || action === "new_round" ? state.timer?.default ?? undefined : undefined;
  socket.timeout(10000).emit("control", { action, seconds }, (err, reply) => {
    if (err || !reply.ok) console.info(err ? "no answer" : reply.message);
  });
});
