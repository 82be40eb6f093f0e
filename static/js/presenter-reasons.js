// The projector's Redenen and Woorden views of the statement on screen, switched by the
// moderator: the reasons the moderator picked, side by side per option (from round 2 also
// those of people who changed their mind), or each side's most used words sized by how often
// they were used. The tally stays below, the join box beside it.
import { element, fitSize, format, languages, optionLabel, statementText } from "./common.js";
import { movedMark, optionClass, syncReasons } from "./reasons-common.js";
import { socket } from "./presenter.js";

const app = document.getElementById("app");
const langs = languages(app);
const section = document.getElementById("reasons-screen");
const board = document.getElementById("reason-board");
const VIEWS = ["reasons", "words"];
// Type sizes in px of a 1920x1080 screen, scaled like the stylesheet's --px: the largest a
// reason (or the least used word) gets, and the floor it may shrink to, still read from the
// back of a hall. The most used word is WORD_SCALE times the least used.
const SIZES = { reasons: { high: 44, low: 28 }, words: { high: 72, low: 28 } };
const WORD_SCALE = 2.4;

let screen; // the projector's reasons payload: undefined until asked, null without a round on screen
let state = null;
let asked = null; // the statement and round the payload was last asked for
let drawn = null; // what the board was last built from: redrawn only when that changes

const resync = syncReasons(socket, show);
socket.on("reasons_screen", show);
socket.on("state", (next) => {
  state = next;
  // A new statement or round on screen: its reasons, asked for once.
  const key = `${next.statement?.id ?? ""}:${next.round?.number ?? ""}`;
  if (screen !== undefined && key !== `${screen?.statement ?? ""}:${screen?.round ?? ""}` && key !== asked) {
    asked = key;
    resync();
  }
  render();
});
// The tally below or the screen itself changed size: fit again.
new ResizeObserver(() => fit()).observe(section);

function show(next) {
  screen = next;
  render();
}

function render() {
  if (!state || screen === undefined) return;
  const wanted = VIEWS.includes(screen?.view);
  const on = wanted && screen.statement === state.statement?.id;
  section.hidden = !on;
  // The statements' and questions' views are presenter-questions.js's to set; leaving a
  // reasons view (or having no round to show the reasons of), the statement is back.
  if (on) app.dataset.view = screen.view;
  else if (VIEWS.includes(app.dataset.view)) app.dataset.view = "statements";
  if (!on) {
    drawn = null;
    return;
  }
  // Most states change only the tally below: the board stays as it is, not rebuilt and fitted
  // again (a hall's votes bring a few states a second).
  const statement = statementText(state.statement, "statement", langs);
  const key = JSON.stringify([screen, statement]);
  if (key === drawn) return;
  drawn = key;
  document.getElementById("reasons-screen-title").textContent = format(screen.view === "words" ? "ws_title" : "rs_title");
  document.getElementById("reasons-statement").textContent = statement;
  board.dataset.view = screen.view;
  board.replaceChildren(...(screen.view === "words" ? wordColumns() : reasonColumns()));
  fit();
}

function column(title, className, id) {
  const node = element("section", `reason-column ${className}`);
  const heading = element("h3", "reason-column-title");
  heading.append(element("span", "swatch"), element("span", "", title));
  heading.id = id;
  node.setAttribute("aria-labelledby", id);
  node.append(heading);
  return node;
}

/** A column per option (two always; of three to six only those with a picked reason, so each
 * stays wide enough to read), and "Van mening veranderd" once someone changed their mind. */
function reasonColumns() {
  const { options, sides } = screen;
  const movers = screen.movers ?? [];
  let shown = options;
  if (options.length > 2 && options.some((option) => sides[option.key]?.length)) {
    shown = options.filter((option) => sides[option.key]?.length);
  }
  const columns = shown.map((option) =>
    reasonColumn(optionLabel(option, langs), optionClass(option.key, options), `rs-${option.key}`, sides[option.key] ?? []));
  if (movers.length) columns.push(reasonColumn(format("reason_movers"), "movers", "rs-movers", movers));
  board.style.setProperty("--columns", String(columns.length));
  return columns;
}

function reasonColumn(title, className, id, reasons) {
  const node = column(title, className, id);
  if (!reasons.length) {
    node.append(element("p", "reason-none", format("rs_none")));
    return node;
  }
  const list = element("ul", "reason-cards");
  list.setAttribute("aria-labelledby", id);
  for (const reason of reasons) {
    const card = element("li", `reason-card ${optionClass(reason.choice, screen.options)}`);
    if (reason.moved) card.append(movedMark(reason.moved, screen.options, langs));
    // The support at the end of the text, not on a line of its own: the room is for words.
    const text = element("p", "reason-card-text", reason.text);
    text.append(element("span", "reason-card-upvotes", ` ▲ ${reason.upvotes}`));
    card.append(text);
    list.append(card);
  }
  const more = element("p", "reason-more");
  more.hidden = true;
  node.append(list, more);
  return node;
}

/** Each side's most used words, the most used largest; sizes compare across sides. */
function wordColumns() {
  const words = screen.words ?? {};
  const counts = Object.values(words).flat().map(([, count]) => count);
  const most = Math.max(1, ...counts);
  const least = Math.min(most, ...counts);
  board.style.setProperty("--columns", String(screen.options.length));
  return screen.options.map((option) => {
    const node = column(optionLabel(option, langs), optionClass(option.key, screen.options), `ws-${option.key}`);
    const side = words[option.key] ?? [];
    if (!side.length) {
      node.append(element("p", "reason-none", format("ws_none")));
      return node;
    }
    const cloud = element("ul", "word-cloud");
    cloud.setAttribute("aria-labelledby", `ws-${option.key}`);
    for (const [word, count] of side) {
      const item = element("li", "cloud-word", word);
      const weight = most === least ? 0 : Math.sqrt((count - least) / (most - least));
      item.style.setProperty("--weight", (1 + (WORD_SCALE - 1) * weight).toFixed(3));
      item.append(element("span", "visually-hidden", ` (${format("ws_count", { n: count })})`));
      cloud.append(item);
    }
    node.append(cloud);
    return node;
  });
}

const overflows = (node) => node.scrollHeight > node.clientHeight + 1;

/**
 * The largest type at which every column holds its reasons (or words), down to the floor.
 * If the floor is not enough, the statement above takes one line instead of two; if that is
 * not enough either, a column's last reasons (or least used words) wait off screen, and the
 * column says how many ("en nog 2 gekozen").
 */
function fit() {
  if (section.hidden || !screen) return;
  const title = section.querySelector(".reasons-screen-title");
  for (const node of board.querySelectorAll(".reason-card, .cloud-word, .reason-more")) node.hidden = node.matches(".reason-more");
  for (const node of board.querySelectorAll(".reason-card-text")) node.style.removeProperty("-webkit-line-clamp");
  title.classList.remove("short");
  if (fitType()) return;
  title.classList.add("short");
  if (fitType()) return;
  for (const node of board.children) {
    const items = [...node.querySelectorAll(".reason-card, .cloud-word")];
    const more = node.querySelector(".reason-more");
    let waiting = 0;
    while (overflows(node) && items.length > 1) {
      items.pop().hidden = true;
      waiting += 1;
      if (more) {
        more.hidden = false;
        more.textContent = format("rs_more", { n: waiting });
      }
    }
    if (overflows(node) && items[0]?.matches(".reason-card")) clamp(node, items[0]);
  }
}

/** Set the largest type (in steps down to the floor) at which nothing overflows; false if
 * the columns overflow even at the floor. */
function fitType() {
  const unit = Math.min(innerWidth / 1600, innerHeight / 1080);
  const { high, low } = SIZES[board.dataset.view] ?? SIZES.reasons;
  const columns = [...board.children];
  const size = (px) => board.style.setProperty("--reason-size", `${px}px`);
  return fitSize(size, () => !columns.some(overflows), high * unit, low * unit);
}

/** The last resort (six sides and their longest reasons on a small screen): the one reason a
 * column still shows ends in "…" where the column does, rather than run under the tally. */
function clamp(column, card) {
  const text = card.querySelector(".reason-card-text");
  const lineHeight = parseFloat(getComputedStyle(text).lineHeight);
  const padding = card.getBoundingClientRect().bottom - text.getBoundingClientRect().bottom;
  const room = column.getBoundingClientRect().bottom - padding - text.getBoundingClientRect().top;
  text.style.setProperty("-webkit-line-clamp", String(Math.max(1, Math.floor(room / lineHeight))));
}
