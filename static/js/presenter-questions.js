// The projector's question view: the question on screen large (number, support, name, panel
// member), the next few by support smaller. The moderator switches it on and off.
import { element, format } from "./common.js";
import { questionMeta, syncQuestions } from "./questions-common.js";
import { socket } from "./presenter.js";

const app = document.getElementById("app");
const current = document.getElementById("qa-current");

syncQuestions(socket, render);
socket.on("questions_screen", render);

function render(screen) {
  const { view } = screen.settings;
  const on = view === "questions" && screen.settings.mode !== "off";
  // The reasons' and words' views are presenter-reasons.js's to set.
  if (view === "questions" || view === "statements") app.dataset.view = on ? "questions" : "statements";
  document.getElementById("qa-screen").hidden = !on;
  const question = screen.on_screen;
  if (question) {
    current.replaceChildren(
      element("p", "qa-current-meta", questionMeta(question)),
      element("p", "qa-current-text", question.text),
      element("p", "qa-current-upvotes", `▲ ${format("qa_upvotes", { n: question.upvotes })}`),
    );
  } else {
    current.replaceChildren(element("p", "qa-current-text muted", format("qa_screen_empty")));
  }
  document.getElementById("qa-next-title").hidden = screen.next.length === 0;
  document.getElementById("qa-next").replaceChildren(...screen.next.map((item) => {
    const row = element("li", "qa-next-item");
    row.append(
      element("span", "qa-next-upvotes", `▲ ${item.upvotes}`),
      element("span", "qa-next-text", item.text),
      element("span", "qa-next-meta", questionMeta(item)),
    );
    return row;
  }));
}
