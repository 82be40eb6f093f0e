// Shared by the phone, presenter and moderator pages: strings, the socket, result bars.
import { io } from "/static/vendor/socket.io/socket.io.esm.min.js";

export const strings = JSON.parse(document.getElementById("strings").textContent);

/** Fill {name} placeholders of a UI string. */
export function format(key, values = {}) {
  const template = strings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

/** The page's language, and the event's as fallback for texts the deck lacks. */
export function languages(app) {
  return { lang: app.dataset.language, fallback: app.dataset.eventLanguage };
}

export function statementText(statement, field, { lang, fallback }) {
  const texts = statement.texts[lang] ?? statement.texts[fallback] ?? {};
  return texts[field] ?? "";
}

/** A deck text given per language ({nl: ..., en: ...}), in the page's language if it has it. */
export function localised(texts, { lang, fallback }) {
  return texts?.[lang] ?? texts?.[fallback] ?? "";
}

export function optionLabel(option, { lang, fallback }) {
  return option.labels[lang] ?? option.labels[fallback] ?? option.key;
}

/** Make an element with a class and text. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Connect to the event. Reconnection uses exponential backoff with jitter (randomization),
 * so a restarted server is not hit by every phone in the same second.
 */
export function connect(auth, { onState, onTally, onOnline, onRefused }) {
  const socket = io({
    auth,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
    randomizationFactor: 0.5,
  });
  socket.on("connect", () => onOnline(true));
  socket.on("disconnect", () => onOnline(false));
  socket.on("connect_error", (err) => {
    onOnline(false);
    // A refusal by the server (bad code or key) is final; network errors retry by themselves.
    if (!socket.active && onRefused) onRefused(err.data ?? { error: "refused", message: err.message });
  });
  socket.on("state", onState);
  // The organiser deleted the event: the reloaded page says it does not exist.
  socket.on("event_deleted", () => {
    socket.disconnect();
    location.reload();
  });
  if (onTally) socket.on("tally", onTally);
  // A phone waking from a locked screen may hold a dead connection: ask for the state, and
  // if no answer comes soon, reconnect.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || !socket.connected) return;
    socket.timeout(4000).emit("sync", {}, (err, reply) => {
      if (err) {
        socket.disconnect().connect();
      } else if (reply?.ok) {
        onState(reply.state);
      }
    });
  });
  return socket;
}

/** Show or hide the "no connection" banner. */
export function showOnline(online) {
  document.getElementById("connection").hidden = online;
}

/** Result rows: label, bar and "62% (31)", for each option in the deck's order. */
export function renderResultRows(container, statement, results, langs, ownChoice = null) {
  const list = element("ul", "result-rows");
  statement.options.forEach((option, index) => {
    const count = results.counts[option.key] ?? 0;
    const percent = results.percentages[option.key] ?? 0;
    const label = optionLabel(option, langs);
    const row = element("li", `result-row option-${index + 1}`);
    if (option.key === ownChoice) row.classList.add("own");
    const name = element("span", "result-label", label);
    const track = element("span", "result-track");
    track.setAttribute("aria-hidden", "true");
    const fill = element("span", "result-fill");
    fill.style.width = `${percent}%`;
    track.append(fill);
    const value = element("span", "result-value", `${percent}% (${count})`);
    row.append(name, track, value);
    list.append(row);
  });
  container.replaceChildren(list);
}

/** One stacked bar across the screen, for the projector. */
export function renderStackedBar(container, statement, results, langs) {
  const bar = element("div", "stacked");
  const legend = element("ul", "stacked-legend");
  statement.options.forEach((option, index) => {
    const count = results.counts[option.key] ?? 0;
    const percent = results.percentages[option.key] ?? 0;
    const label = optionLabel(option, langs);
    const segment = element("div", `segment option-${index + 1}`);
    segment.style.flexGrow = String(Math.max(percent, 0.0001));
    if (percent >= 8) segment.textContent = `${percent}%`;
    segment.setAttribute("aria-hidden", "true");
    bar.append(segment);
    const item = element("li", `legend option-${index + 1}`);
    item.append(element("span", "swatch"), element("span", "legend-label", label),
      element("span", "legend-value", `${percent}% · ${count}`));
    legend.append(item);
  });
  if (results.voters === 0) bar.classList.add("empty");
  container.replaceChildren(legend, bar);
}

/** "87 van 120 hebben gestemd", and whether more joined than the organiser expected. */
export function turnoutText(turnout) {
  if (!turnout) return "";
  const text = format("voted_of", turnout);
  return turnout.over_expected ? `${text} · ${format("over_expected", turnout)}` : text;
}
