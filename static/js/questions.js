// The phone's Vragen tab: ask a question, see your own (pending ones too), support others',
// sort Populair / Nieuw. Loaded by questions-tabs.js when the tab is first opened.
import { element, format, strings } from "./common.js";
import { questionBody } from "./questions-common.js";
import { syncQuestions } from "./questions-common.js";
import { socket } from "./vote.js";

const form = document.getElementById("qa-form");
const textField = document.getElementById("qa-text");
const nameField = document.getElementById("qa-name");
const memberField = document.getElementById("qa-panel-member");
const formStatus = document.getElementById("qa-form-status");
const announce = document.getElementById("qa-announce");
const MAX = 300;

let hall = null; // the hall's lists: {settings, total, on_screen, popular, newest} of questions
const known = new Map(); // question id -> the question, as last sent
let mine = []; // this phone's own questions
const upvoted = new Set();
let sort = "popular";
let sending = false;

const resync = syncQuestions(socket, (questions) => {
  for (const question of [...questions.popular, ...questions.newest, questions.on_screen]) {
    if (question) known.set(question.id, question);
  }
  hall = questions;
  mine = questions.mine;
  upvoted.clear();
  for (const id of questions.upvoted) upvoted.add(id);
  render();
});
// The hall's update names the lists by id and sends only new or changed questions in full.
socket.on("questions", (update) => {
  for (const question of update.changed) known.set(question.id, question);
  for (const [id, upvotes] of update.upvotes) {
    if (known.has(id)) known.get(id).upvotes = upvotes;
  }
  const ids = [...update.popular, ...update.newest, ...(update.on_screen ? [update.on_screen] : [])];
  if (ids.some((id) => !known.has(id))) {
    resync(); // missed an update (e.g. while reconnecting): ask for everything
    return;
  }
  const before = hall?.on_screen?.id;
  hall = {
    settings: update.settings,
    total: update.total,
    on_screen: update.on_screen ? known.get(update.on_screen) : null,
    popular: update.popular.map((id) => known.get(id)),
    newest: update.newest.map((id) => known.get(id)),
  };
  if (hall.on_screen && hall.on_screen.id !== before) {
    say(format("qa_announce_on_screen", { n: hall.on_screen.number }));
  }
  render();
});
socket.on("questions_mine", ({ mine: next }) => {
  for (const question of next) {
    const old = mine.find((item) => item.id === question.id);
    if (old?.state === "pending" && question.state === "visible") {
      say(format("qa_announce_approved", { n: question.number }));
    }
  }
  mine = next;
  render();
});

function say(text) {
  announce.textContent = text;
}

for (const button of document.querySelectorAll("[data-sort]")) {
  button.addEventListener("click", () => {
    sort = button.dataset.sort;
    render();
  });
}

textField.addEventListener("input", renderCount);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (sending) return;
  const text = textField.value.trim();
  if (text.length < 3) return problem("qa_error_too_short");
  if (text.length > MAX) return problem("qa_error_too_long");
  const payload = { text, name: nameField.value.trim() || null };
  if (memberField && memberField.value !== "") payload.panel = Number(memberField.value);
  sending = true;
  formStatus.textContent = format("qa_sending");
  socket.timeout(10000).emit("question_ask", payload, (err, reply) => {
    sending = false;
    if (err) {
      formStatus.textContent = format("offline");
    } else if (reply.ok) {
      mine = [...mine.filter((item) => item.id !== reply.question.id), reply.question];
      textField.value = "";
      renderCount();
      formStatus.textContent = format(reply.question.state === "pending" ? "qa_sent_pending" : "qa_sent_visible");
      render();
    } else if (reply.error === "duplicate") {
      formStatus.textContent = reply.number
        ? format("qa_error_duplicate", { n: reply.number })
        : format("qa_error_duplicate_pending");
    } else {
      formStatus.textContent = strings[`qa_error_${reply.error}`] ?? reply.message;
    }
  });
});

function problem(key) {
  formStatus.textContent = format(key);
}

function upvote(question) {
  const up = !upvoted.has(question.id);
  socket.timeout(10000).emit("question_upvote", { question: question.id, up }, (err, reply) => {
    if (err || !reply.ok) {
      say(err ? format("offline") : reply.message);
      return;
    }
    if (reply.up) upvoted.add(reply.question);
    else upvoted.delete(reply.question);
    // The server's count, at once for this phone; the hall's list follows within a second.
    if (known.has(reply.question)) known.get(reply.question).upvotes = reply.upvotes;
    render();
  });
}

function renderCount() {
  const n = textField.value.trim().length;
  const counter = document.getElementById("qa-count");
  counter.textContent = format("qa_count", { n, max: MAX });
  counter.classList.toggle("over", n > MAX);
}

function questionItem(question, { own = false } = {}) {
  const item = element("li", "qa-item");
  const extra = [];
  if (question.state === "pending") extra.push(format("qa_pending"));
  if (question.state === "answered") extra.push(format("qa_answered"));
  if (own) extra.push(format("qa_own"));
  item.append(...questionBody(question, extra));
  if (question.state === "pending") item.classList.add("pending");
  const canUpvote = !own && ["visible", "on_screen"].includes(question.state)
    && ["open", "upvotes"].includes(hall.settings.mode);
  const count = format("qa_upvotes", { n: question.upvotes });
  if (canUpvote) {
    const button = element("button", "qa-upvote", `▲ ${count}`);
    button.type = "button";
    button.setAttribute("aria-pressed", String(upvoted.has(question.id)));
    button.setAttribute("aria-label", `${format("qa_upvote", { n: question.number })} (${count})`);
    button.addEventListener("click", () => upvote(question));
    item.append(button);
  } else if (question.state !== "pending") {
    item.append(element("p", "qa-upvotes", `▲ ${count}`));
  }
  return item;
}

function render() {
  if (!hall) return;
  const { mode, names } = hall.settings;
  const notes = { closed: "qa_closed", upvotes: "qa_upvotes_only", off: "qa_off" };
  document.getElementById("qa-mode-note").textContent = notes[mode] ? format(notes[mode]) : "";
  form.hidden = mode !== "open";
  document.getElementById("qa-name-field").hidden = names === "off";
  document.getElementById("qa-name-label").textContent = format(names === "required" ? "qa_name_required" : "qa_name");
  nameField.required = names === "required";

  const onScreen = hall.on_screen;
  document.getElementById("qa-on-screen").hidden = !onScreen;
  if (onScreen) {
    const own = mine.some((item) => item.id === onScreen.id);
    document.getElementById("qa-on-screen-body").replaceChildren(questionItem(onScreen, { own }));
  }

  const ownIds = new Set(mine.map((item) => item.id));
  document.getElementById("qa-mine-section").hidden = mine.length === 0;
  document.getElementById("qa-mine").replaceChildren(
    ...mine.filter((item) => item.state !== "merged").map((item) => questionItem(item, { own: true })),
  );

  for (const button of document.querySelectorAll("[data-sort]")) {
    button.setAttribute("aria-pressed", String(button.dataset.sort === sort));
  }
  const list = (sort === "popular" ? hall.popular : hall.newest).filter((item) => !onScreen || item.id !== onScreen.id);
  document.getElementById("qa-list").replaceChildren(
    ...list.map((item) => questionItem(item, { own: ownIds.has(item.id) })),
  );
  document.getElementById("qa-empty").hidden = list.length > 0 || Boolean(onScreen);
}

renderCount();
