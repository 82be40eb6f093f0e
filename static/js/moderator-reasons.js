// The moderator's reasons for the statement on screen, beside the tally: grouped by option,
// newest or most supported first; approve, dismiss, hide, restore, put on the projector (pick)
// or take off, mute a phone; Toon redenen lets the hall read them; the projector's Redenen and
// Woorden views; reasons open or off, and pre-moderation.
import { element, format, languages, optionLabel } from "./common.js";
import { movedMark, optionClass, syncReasons } from "./reasons-common.js";
import { socket } from "./moderator.js";
import { questionSettings } from "./moderator-questions.js";

const app = document.getElementById("app");
const langs = languages(app);
const status = document.getElementById("rm-status");
let board; // the moderator's reasons payload: undefined until asked, null without a round on screen
let settings = questionSettings(); // the Q&A settings: the projector's view
let state = null; // the event's state: the statement on screen and whether its reasons are shown
let asked = null; // the statement and round the board was last asked for
let sort = "newest";

const resync = syncReasons(socket, show);
socket.on("reasons_moderator", show);
socket.on("state", (next) => {
  state = next;
  // A new statement or round on screen: its reasons, asked for once.
  const key = `${next.statement?.id ?? ""}:${next.round?.number ?? ""}`;
  const showing = `${board?.statement ?? ""}:${board?.round ?? ""}`;
  if (board !== undefined && key !== showing && key !== asked) {
    asked = key;
    resync();
  }
  render();
});
document.addEventListener("qa-settings", ({ detail }) => {
  settings = detail;
  render();
});

function show(next) {
  board = next;
  render();
}

function send(name, payload) {
  status.textContent = "";
  socket.timeout(10000).emit(name, payload, (err, reply) => {
    if (err) status.textContent = format("offline");
    else if (!reply.ok) status.textContent = reply.message;
  });
}

function shown() {
  return state?.reasons?.shown ?? board?.shown ?? false;
}

function view() {
  return board?.view ?? settings?.view ?? "statements";
}

document.getElementById("rm-show").addEventListener("click", () => send("reasons_show", { shown: !shown() }));
document.getElementById("rm-open").addEventListener("change", (event) => {
  send("question_settings", { reasons: event.target.checked ? "open" : "off" });
});
document.getElementById("rm-premoderation").addEventListener("change", (event) => {
  send("question_settings", { reasons_premoderation: event.target.checked });
});
for (const button of document.querySelectorAll("[data-reason-view]")) {
  // Pressed again, the projector goes back to the statement.
  button.addEventListener("click", () => {
    const wanted = button.dataset.reasonView;
    send("question_settings", { view: view() === wanted ? "statements" : wanted });
  });
}
for (const button of document.querySelectorAll("[data-reason-sort]")) {
  button.addEventListener("click", () => {
    sort = button.dataset.reasonSort;
    render();
  });
}

function act(reason, action) {
  send("reason_moderate", { reason: reason.id, action });
}

function button(key, onClick, primary = false) {
  const node = element("button", primary ? "button small primary" : "button small", format(key));
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString(langs.lang, { hour: "2-digit", minute: "2-digit" }) : "";
}

function item(reason) {
  const node = element("li", `qa-item rm-item rm-${reason.state} ${optionClass(reason.choice, board.options)}`);
  node.classList.toggle("picked", reason.picked);
  node.dataset.reason = String(reason.id);
  const meta = [`▲ ${format("qa_upvotes", { n: reason.upvotes })}`, clock(reason.written_at)];
  if (reason.picked) meta.push(format("rm_picked"));
  if (reason.state !== "visible") meta.push(format(`rm_state_${reason.state}`));
  if (reason.held === "blocklist") meta.push(format("qa_held_blocklist"));
  if (reason.muted) meta.push(format("qa_muted"));
  if (reason.moved) node.append(movedMark(reason.moved, board.options, langs));
  node.append(element("p", "qa-text", reason.text), element("p", "qa-meta", meta.filter(Boolean).join(" · ")));
  if (reason.original_text) node.append(element("p", "hint", format("qa_edited", { text: reason.original_text })));
  const actions = element("div", "qm-actions");
  if (reason.state === "pending") {
    actions.append(
      button("rm_approve", () => act(reason, "approve"), true),
      button("rm_pick", () => act(reason, "pick")),
      button("rm_dismiss", () => act(reason, "dismiss")),
    );
  } else if (reason.state === "visible") {
    actions.append(
      reason.picked
        ? button("rm_unpick", () => act(reason, "unpick"), true)
        : button("rm_pick", () => act(reason, "pick"), true),
      button("rm_hide_reason", () => act(reason, "hide")),
    );
  } else {
    actions.append(button("rm_restore", () => act(reason, "restore")));
  }
  actions.append(button(reason.muted ? "qa_unmute" : "qa_mute", () => act(reason, reason.muted ? "unmute" : "mute")));
  node.append(actions);
  return node;
}

function sorted(reasons) {
  const newest = (a, b) => (b.written_at ?? "").localeCompare(a.written_at ?? "") || b.id - a.id;
  const popular = (a, b) => b.upvotes - a.upvotes || newest(a, b);
  return [...reasons].sort(sort === "popular" ? popular : newest);
}

function render() {
  // The switches from the Q&A settings (sent after every change), else from the reasons.
  const open = settings ? settings.reasons === "open" : board?.mode === "open";
  document.getElementById("rm-open").checked = open;
  document.getElementById("rm-premoderation").checked = settings?.reasons_premoderation ?? board?.premoderation ?? false;
  // No round on screen yet (before the first vote, or between statements): no reasons.
  const onScreen = Boolean(board);
  document.getElementById("rm-no-statement").hidden = onScreen || (!settings && !board);
  document.getElementById("rm-board").hidden = !onScreen;
  if (!onScreen) return;

  const isShown = shown();
  const toggle = document.getElementById("rm-show");
  toggle.textContent = format(isShown ? "rm_hide" : "rm_show");
  document.getElementById("rm-show-note").textContent = format(isShown ? "rm_shown" : "rm_not_shown");
  for (const choice of document.querySelectorAll("[data-reason-view]")) {
    choice.setAttribute("aria-pressed", String(choice.dataset.reasonView === view()));
  }
  for (const choice of document.querySelectorAll("[data-reason-sort]")) {
    choice.setAttribute("aria-pressed", String(choice.dataset.reasonSort === sort));
  }
  // A full hall's reasons come in part (the queue, the picked, each side's best and newest);
  // the counts are of all.
  const total = board.counts?.total ?? board.reasons.length;
  const picked = board.reasons.filter((reason) => reason.picked).length;
  document.getElementById("rm-summary").textContent =
    format(total === 1 ? "rm_summary_one" : "rm_summary", { n: total, round: board.round, picked });

  document.getElementById("rm-sides").replaceChildren(...board.options.map((option) => {
    const reasons = sorted(board.reasons.filter((reason) => reason.choice === option.key));
    const group = element("section", `rm-side ${optionClass(option.key, board.options)}`);
    const n = board.counts?.sides?.[option.key] ?? reasons.length;
    const heading = element("h3", "", format("rm_side", { label: optionLabel(option, langs), n }));
    heading.id = `rm-side-${option.key}`;
    group.setAttribute("aria-labelledby", heading.id);
    const list = element("ul", "qa-list");
    list.append(...reasons.map(item));
    group.append(heading, reasons.length ? list : element("p", "hint", format("rm_none")));
    return group;
  }));
}
