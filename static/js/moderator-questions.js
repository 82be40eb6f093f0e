// The moderator's questions: the queue (approve, edit, dismiss), the list (on screen, answered,
// hide), restore anything, Volgende vraag, mute a phone, merge look-alikes, the settings.
import { element, format } from "./common.js";
import { questionBody, syncQuestions } from "./questions-common.js";
import { socket } from "./moderator.js";

const status = document.getElementById("qm-status");
const filter = document.getElementById("qm-filter");
let board = null;
let editing = null; // the id of the question whose text is being edited

syncQuestions(socket, show);
socket.on("questions_moderator", show);

function show(next) {
  board = next;
  // The reasons' panel (moderator-reasons.js) shows the projector's view from these settings.
  document.dispatchEvent(new CustomEvent("qa-settings", { detail: next.settings }));
  render();
}

/** The Q&A settings as last sent (the projector's view among them), or null before. */
export function questionSettings() {
  return board?.settings ?? null;
}

function send(name, payload) {
  status.textContent = "";
  socket.timeout(10000).emit(name, payload, (err, reply) => {
    if (err) status.textContent = format("offline");
    else if (!reply.ok) status.textContent = reply.message;
  });
}

function act(question, action, extra = {}) {
  send("question_moderate", { question: question.id, action, ...extra });
}

for (const field of document.querySelectorAll("[data-setting]")) {
  field.addEventListener("change", () => {
    const name = field.dataset.setting;
    const value = name === "view" ? (field.checked ? "questions" : "statements")
      : field.type === "checkbox" ? field.checked : field.value;
    send("question_settings", { [name]: value });
  });
}
document.getElementById("qm-next").addEventListener("click", () => send("question_next", {}));
filter?.addEventListener("change", render);

function button(label, onClick, className = "button small") {
  const node = element("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function editor(question) {
  const box = element("div", "qm-editor");
  const id = `qm-edit-${question.id}`;
  const label = element("label", "", format("qa_edit_label", { n: question.number }));
  label.htmlFor = id;
  const area = element("textarea");
  area.id = id;
  area.rows = 3;
  area.maxLength = 300;
  area.value = question.text;
  box.append(label, area, element("div", "qm-actions"));
  box.lastChild.append(
    button(format("qa_save_approve"), () => {
      editing = null;
      act(question, question.state === "pending" ? "approve" : "edit", { text: area.value });
    }, "button small primary"),
    button(format("qa_cancel"), () => {
      editing = null;
      render();
    }),
  );
  return box;
}

function item(question) {
  const extra = [format("qa_upvotes", { n: question.upvotes })];
  if (question.held === "blocklist") extra.push(format("qa_held_blocklist"));
  if (question.muted) extra.push(format("qa_muted"));
  if (["dismissed", "hidden", "answered"].includes(question.state)) extra.push(format(`qa_state_${question.state}`));
  if (question.state === "merged") extra.push(format("qa_state_merged", { n: question.merged_into }));
  const node = element("li", `qa-item qm-${question.state}`);
  node.dataset.number = question.number;
  node.append(...questionBody(question, extra));
  if (question.original_text) node.append(element("p", "hint", format("qa_edited", { text: question.original_text })));
  if (editing === question.id) {
    node.append(editor(question));
    return node;
  }
  const actions = element("div", "qm-actions");
  const add = (key, handler, primary = false) =>
    actions.append(button(format(key), handler, primary ? "button small primary" : "button small"));
  if (question.state === "pending") {
    add("qa_approve", () => act(question, "approve"), true);
    add("qa_edit", () => { editing = question.id; render(); });
    add("qa_dismiss", () => act(question, "dismiss"));
  } else if (question.state === "visible") {
    add("qa_put_on_screen", () => act(question, "on_screen"), true);
    add("qa_mark_answered", () => act(question, "answered"));
    add("qa_hide", () => act(question, "hide"));
  } else if (question.state === "on_screen") {
    add("qa_mark_answered", () => act(question, "answered"), true);
    add("qa_hide", () => act(question, "hide"));
  } else if (question.state !== "merged") {
    add("qa_restore", () => act(question, "restore"));
    if (question.state === "answered") add("qa_put_on_screen", () => act(question, "on_screen"));
  }
  if (question.state !== "merged") {
    add(question.muted ? "qa_unmute" : "qa_mute", () => act(question, question.muted ? "unmute" : "mute"));
  }
  if (question.similar_to) {
    node.append(element("p", "qm-similar", format("qa_similar", question.similar_to)));
    add("qa_merge", () => send("question_merge", { question: question.id, into: question.similar_to.id }));
  }
  node.append(actions);
  return node;
}

function render() {
  if (!board) return;
  const { settings } = board;
  document.getElementById("qm-mode").value = settings.mode;
  document.getElementById("qm-names").value = settings.names;
  document.getElementById("qm-premoderation").checked = settings.premoderation;
  document.getElementById("qm-view").checked = settings.view === "questions";

  const member = filter?.value ?? "";
  const shown = board.questions.filter((q) => !member || q.panel_member === member);
  const queue = shown.filter((q) => q.state === "pending").sort((a, b) => a.number - b.number);
  const visible = shown.filter((q) => q.state === "visible");
  const done = shown.filter((q) => ["answered", "hidden", "dismissed", "merged"].includes(q.state));
  const onScreen = board.questions.find((q) => q.state === "on_screen");

  document.getElementById("qm-on-screen").replaceChildren(
    onScreen ? element("ul", "qa-list") : element("p", "hint", format("qa_nothing_on_screen")),
  );
  if (onScreen) document.getElementById("qm-on-screen").firstChild.append(item(onScreen));
  for (const [name, list, key] of [["queue", queue, "qa_queue"], ["visible", visible, "qa_visible"], ["done", done, "qa_done"]]) {
    document.getElementById(`qm-${name}-title`).textContent = format(key, { n: list.length });
    document.getElementById(`qm-${name}`).replaceChildren(...list.map(item));
  }
}
