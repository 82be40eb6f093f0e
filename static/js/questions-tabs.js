// The phone's two tabs, Stemming and Vragen, at any phase. An open vote is never hidden: on the
// Vragen tab a banner leads straight back to it. The questions' script loads on first use, so
// a phone that never asks or supports loads nothing more.
import { socket } from "./vote.js";

const app = document.getElementById("app");
const tabs = document.getElementById("qa-tabs");
const TAB_KEY = `qa-tab-${app.dataset.code}`;
let phase = null;
let mode = tabs.dataset.mode;
let questions = null;

socket.on("state", (state) => {
  phase = state.phase;
  render();
});
socket.on("questions_mode", (update) => {
  mode = update.mode;
  render();
});

function setTab(tab) {
  app.dataset.tab = tab;
  sessionStorage.setItem(TAB_KEY, tab);
  render();
}

for (const button of tabs.querySelectorAll("[data-tab]")) {
  button.addEventListener("click", () => setTab(button.dataset.tab));
}
document.getElementById("qa-back-to-vote").addEventListener("click", () => setTab("vote"));

function render() {
  tabs.hidden = mode === "off";
  const tab = mode === "off" ? "vote" : app.dataset.tab;
  app.dataset.tab = tab;
  if (tab === "questions") questions ??= import("./questions.js");
  for (const button of tabs.querySelectorAll("[data-tab]")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === tab));
  }
  document.getElementById("qa-panel").hidden = tab !== "questions";
  const voteOpen = phase === "open";
  document.getElementById("qa-vote-banner").hidden = !(voteOpen && tab === "questions");
  document.getElementById("qa-vote-dot").hidden = !voteOpen;
}

app.dataset.tab = sessionStorage.getItem(TAB_KEY) ?? "vote";
render();
