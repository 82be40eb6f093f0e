// The phone's "Waarom eens?": once the server has a vote, an optional reason for it (3 to 200
// characters), kept and editable until the next statement; the label follows the vote. Once
// the moderator shows them (Toon redenen), the hall's reasons per side, to read and support,
// and the reasons of those who changed their mind. Follows vote.js's screen ("phone-vote").
import { element, format, languages, optionLabel } from "./common.js";
import { askReasons, movedMark, optionClass, sideLabel } from "./reasons-common.js";
import { currentVote, socket } from "./vote.js";

const app = document.getElementById("app");
const langs = languages(app);
const MIN = 3;
const MAX = 200;
const section = document.getElementById("reasons");
const form = document.getElementById("reason-form");
const field = document.getElementById("reason-text");
const status = document.getElementById("reason-status");
const hallSection = document.getElementById("reasons-hall");
const hallStatus = document.getElementById("reason-hall-status");

let state = null; // the state vote.js shows
let choice = null; // this phone's vote in the current round, once the server has it
let mine = null; // {round: <round id>, reason} this phone's reason in the current round
let round = null; // the round id the form is for: a new round starts with an empty form
let editing = false;
let sending = false;
let hall = null; // the hall's reasons for the statement on screen (reasons_sync, "reasons")
let asked = null; // "statement:round" the hall's reasons were asked for on this connection
let side = null; // the side shown when there are 3 to 6 options
const upvoted = new Set();

const known = new Map(); // reason id -> the reason, as last sent

const askHall = askReasons(socket, (reasons) => {
  if (!reasons) return;
  upvoted.clear();
  for (const id of reasons.upvoted ?? []) upvoted.add(id);
  for (const reason of listed(reasons)) known.set(reason.id, reason);
  hall = resolve({ ...reasons, sides: ids(reasons.sides), movers: reasons.movers.map((reason) => reason.id) });
  renderHall();
});
// Only phones that asked get the hall's updates; a new connection has to ask again.
socket.on("disconnect", () => { asked = null; });
// The hall's update names the lists by id and sends only new or changed reasons in full.
socket.on("reasons", (update) => {
  for (const reason of update.changed) known.set(reason.id, reason);
  for (const [id, upvotes] of update.upvotes) {
    if (known.has(id)) known.get(id).upvotes = upvotes;
  }
  if (listed(update).some((id) => !known.has(id))) {
    askHall(); // missed an update (e.g. while reconnecting): ask for everything
    return;
  }
  hall = resolve(update);
  renderHall();
});

/** Everything in the hall's lists (reasons, or their ids). */
function listed(reasons) {
  return [...Object.values(reasons.sides).flat(), ...reasons.movers];
}

function ids(sides) {
  return Object.fromEntries(Object.entries(sides).map(([key, list]) => [key, list.map((reason) => reason.id)]));
}

/** The hall's lists of ids as the reasons known by them: one object per reason, so a count
 * changed once shows everywhere. */
function resolve(outline) {
  const sides = Object.fromEntries(Object.entries(outline.sides).map(([key, list]) => [key, list.map((id) => known.get(id))]));
  return { ...outline, sides, movers: outline.movers.map((id) => known.get(id)) };
}

app.addEventListener("phone-vote", ({ detail }) => follow(detail));
follow(currentVote());

function follow(next) {
  if (!next.state) return;
  state = next.state;
  choice = next.choice;
  const current = state.round?.id ?? null;
  if (state.you) {
    // A personal state (connect, sync) is the server's word on this phone's reason.
    mine = state.you.reason && current !== null ? { round: current, reason: state.you.reason } : null;
  } else if (mine && mine.round !== current) {
    mine = null;
  }
  if (round !== current) {
    round = current;
    editing = false;
    field.value = "";
    status.textContent = "";
    hallStatus.textContent = "";
  }
  render();
}

// Every error code has a sentence in the page's language; never the server's English one.
function errorText(code) {
  for (const key of [`reason_error_${code}`, `error_${code}`]) {
    const text = format(key);
    if (text !== key) return text;
  }
  return format("error_generic");
}

field.addEventListener("input", renderCount);
document.getElementById("reason-edit").addEventListener("click", () => {
  editing = true;
  field.value = mine.reason.text;
  status.textContent = "";
  render();
  field.focus();
});
document.getElementById("reason-cancel").addEventListener("click", () => {
  editing = false;
  status.textContent = "";
  render();
  document.getElementById("reason-edit").focus();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (sending || !state?.round) return;
  const text = field.value.trim();
  if (text.length < MIN || text.length > MAX) {
    status.textContent = errorText(text.length < MIN ? "too_short" : "too_long");
    return;
  }
  const forRound = state.round.id;
  sending = true;
  status.textContent = format("qa_sending");
  socket.timeout(10000).emit("reason_give", { round: forRound, text }, (err, reply) => {
    sending = false;
    if (err) {
      status.textContent = format("offline");
    } else if (reply.ok) {
      if (forRound === round) {
        mine = { round: forRound, reason: reply.reason };
        editing = false;
      }
      status.textContent = format("reason_sent");
    } else {
      status.textContent = errorText(reply.error);
    }
    render();
  });
});

function renderCount() {
  const n = field.value.trim().length;
  const counter = document.getElementById("reason-count");
  counter.textContent = format("qa_count", { n, max: MAX });
  counter.classList.toggle("over", n > MAX);
}

/** The option this phone voted for, as it reads in a sentence ("eens"). */
function chosenSide() {
  const option = state.statement?.options.find((item) => item.key === choice);
  return option ? sideLabel(option, langs) : "";
}

function render() {
  const open = state.reasons?.mode === "open" && state.round !== null && choice !== null
    && (state.phase === "open" || state.phase === "closed");
  section.hidden = !open;
  if (open) {
    const label = chosenSide();
    const saved = mine !== null && !editing;
    form.hidden = saved;
    document.getElementById("reason-saved").hidden = !saved;
    document.getElementById("reason-label").textContent = format("reason_label", { label });
    document.getElementById("reason-send").textContent = format(mine ? "reason_save" : "reason_send");
    document.getElementById("reason-send").setAttribute("aria-disabled", String(sending));
    document.getElementById("reason-cancel").hidden = mine === null;
    if (saved) {
      const pending = mine.reason.state === "pending";
      document.getElementById("reason-saved-title").textContent =
        format(pending ? "reason_saved_pending" : "reason_saved", { label });
      document.getElementById("reason-saved-text").textContent = mine.reason.text;
    }
    renderCount();
  }
  const shown = Boolean(state.reasons?.shown && state.statement);
  const key = shown ? `${state.statement.id}:${state.round?.id}` : null;
  if (shown && asked !== key && socket.connected) {
    asked = key;
    askHall();
  }
  renderHall();
}

function renderHall() {
  const visible = Boolean(state?.reasons?.shown && hall && hall.statement === state.statement?.id);
  hallSection.hidden = !visible;
  if (!visible) return;
  const { options } = hall;
  const columns = document.getElementById("reason-columns");
  const selector = document.getElementById("reason-side-choice");
  // Two sides side by side; three to six one at a time, chosen with a button each.
  const many = options.length > 2;
  columns.classList.toggle("many", many);
  selector.hidden = !many;
  if (!options.some((option) => option.key === side)) side = choice ?? options[0].key;
  if (many) {
    selector.replaceChildren(...options.map((option) => {
      const button = element("button", "qa-sort-button", sideLabel(option, langs));
      button.type = "button";
      button.setAttribute("aria-pressed", String(option.key === side));
      button.addEventListener("click", () => {
        side = option.key;
        renderHall();
      });
      return button;
    }));
  }
  columns.replaceChildren(...options.filter((option) => !many || option.key === side).map((option) => {
    const column = element("section", `reason-column ${optionClass(option.key, options)}`);
    const id = `reason-side-${option.key}`;
    const heading = element("h3", "reason-column-title", optionLabel(option, langs));
    heading.id = id;
    column.setAttribute("aria-labelledby", id);
    const reasons = hall.sides[option.key] ?? [];
    const list = element("ul", "hall-list");
    list.append(...reasons.map(reasonItem));
    column.append(heading, reasons.length ? list : element("p", "hint", format("reason_none", { label: sideLabel(option, langs) })));
    return column;
  }));
  const movers = hall.movers;
  document.getElementById("hall-movers").hidden = movers.length === 0;
  document.getElementById("hall-movers-list").replaceChildren(...movers.map(reasonItem));
}

function reasonItem(reason) {
  const item = element("li", `reason-item ${optionClass(reason.choice, hall.options)}`);
  if (reason.moved) item.append(movedMark(reason.moved, hall.options, langs));
  item.append(element("p", "hall-text", reason.text));
  const count = format("qa_upvotes", { n: reason.upvotes });
  if (mine?.reason.id === reason.id) {
    item.append(element("p", "reason-upvotes", `▲ ${count} · ${format("reason_own")}`));
    return item;
  }
  const button = element("button", "qa-upvote", `▲ ${count}`);
  button.type = "button";
  button.setAttribute("aria-pressed", String(upvoted.has(reason.id)));
  button.setAttribute("aria-label", `${format("reason_upvote")} (${count})`);
  button.addEventListener("click", () => upvote(reason));
  item.append(button);
  return item;
}

function upvote(reason) {
  const up = !upvoted.has(reason.id);
  socket.timeout(10000).emit("reason_upvote", { reason: reason.id, up }, (err, reply) => {
    if (err || !reply.ok) {
      hallStatus.textContent = err ? format("offline") : errorText(reply.error);
      return;
    }
    hallStatus.textContent = "";
    if (reply.up) upvoted.add(reply.reason);
    else upvoted.delete(reply.reason);
    // The server's count, at once for this phone; the hall's list follows within seconds.
    if (known.has(reply.reason)) known.get(reply.reason).upvotes = reply.upvotes;
    renderHall();
  });
}
