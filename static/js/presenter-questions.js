// The projector's question view: the question on screen large (number, support, name, panel
// member), the next few by support smaller. The moderator switches it on and off.
import { element, fitSize, format } from "./common.js";
import { questionMeta, syncQuestions } from "./questions-common.js";
import { socket } from "./presenter.js";

const app = document.getElementById("app");
const section = document.getElementById("qa-screen");
const current = document.getElementById("qa-current");
const nextTitle = document.getElementById("qa-next-title");

syncQuestions(socket, render);
socket.on("questions_screen", render);
window.addEventListener("resize", fit);

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
  document.getElementById("qa-next").replaceChildren(...screen.next.map((item) => {
    const row = element("li", "qa-next-item");
    row.append(
      element("span", "qa-next-upvotes", `▲ ${item.upvotes}`),
      element("span", "qa-next-text", item.text),
      element("span", "qa-next-meta", questionMeta(item)),
    );
    return row;
  }));
  fit();
}

const overflows = () => section.scrollHeight > section.clientHeight + 1;

/**
 * Everything inside the screen: the hall's questions may be as long as allowed. The next
 * questions wait off screen from the last one up, whole or not at all; if the question on
 * screen still does not fit, its type shrinks, down to a floor read from the back of a hall.
 */
function fit() {
  if (section.hidden) return;
  const text = current.querySelector(".qa-current-text");
  text?.style.removeProperty("font-size");
  const items = [...section.querySelectorAll(".qa-next-item")];
  for (const item of items) item.hidden = false;
  while (overflows() && items.length > 0) items.pop().hidden = true;
  nextTitle.hidden = items.length === 0;
  if (!text || !overflows()) return;
  const unit = Math.min(innerWidth / 1600, innerHeight / 1080);
  fitSize(
    (px) => { text.style.fontSize = `${px}px`; },
    () => !overflows(),
    parseFloat(getComputedStyle(text).fontSize),
    36 * unit,
  );
}
