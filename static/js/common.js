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
/**
 * The largest size from `high` down to `low` (px) at which `fits()` holds, found in eight
 * halvings and left applied by `apply(px)`; `low` if none holds. Returns whether it fits.
 */
export function fitSize(apply, fits, high, low) {
  apply(high);
  if (fits()) return true;
  for (let step = 0; step < 8; step += 1) {
    const middle = (low + high) / 2;
    apply(middle);
    if (fits()) low = middle;
    else high = middle;
  }
  apply(low);
  return fits();
}

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
export function connect(auth, { onState, onTally, onPresence, onOnline, onRefused }) {
  const socket = io({
    auth,
    // WebSocket at once: a join is two requests instead of five (handshake, connect and poll
    // by long-polling, then the upgrade), which is what a hall scanning the QR code costs the
    // server. Where a network blocks WebSockets, the client falls back to long-polling.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    // Read by admission control at the handshake: the projector and the moderator always get
    // in, and a phone coming back (below) before new ones.
    query: { role: auth.role ?? "audience" },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
    randomizationFactor: 0.5,
  });
  socket.on("connect", () => {
    socket.io.opts.query = { ...socket.io.opts.query, back: "1" };
    onOnline(true);
  });
  socket.on("disconnect", () => onOnline(false));
  socket.on("connect_error", (err) => {
    onOnline(false);
    // Network errors retry by themselves; a refusal by the server (bad code or key) is final,
    // except "busy_retry": the server is full for now and says when to come back.
    if (socket.active) {
      // A handshake turned away (HTTP 401: the server is full or busy for now) is retried by
      // socket.io-client with its back-off; meanwhile the phone says why.
      if (err.description === 401) showBusy();
      return;
    }
    const reason = err.data ?? { error: "refused", message: err.message };
    if (reason.error === "busy_retry") {
      showBusy();
      // The server's delay is random already; up to half of it again on top, so phones that
      // were refused together do not come back together.
      const seconds = Number(reason.retry_after) > 0 ? Number(reason.retry_after) : 5;
      setTimeout(() => socket.connect(), seconds * 1000 * (1 + Math.random() / 2));
    } else if (onRefused) {
      onRefused(reason);
    }
  });
  socket.on("state", onState);
  // The organiser deleted the event: the reloaded page says it does not exist.
  socket.on("event_deleted", () => {
    socket.disconnect();
    location.reload();
  });
  if (onTally) socket.on("tally", onTally);
  if (onPresence) socket.on("presence", onPresence);
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

/** Say in the connection banner that the server is busy and the page will try again. */
function showBusy() {
  document.getElementById("connection").textContent = format("busy_retry");
}

/** Show or hide the "no connection" banner. */
export function showOnline(online) {
  const banner = document.getElementById("connection");
  banner.hidden = online;
  // Back online: the next loss of connection says so again, not "one moment".
  if (online) banner.textContent = format("offline");
}

/**
 * The results of a round, updated in place so the bars grow with a transition instead of
 * being rebuilt: one stacked bar when asked for and there are two options (the projector),
 * otherwise one row per option (label, bar, "62% (31)") in the deck's order. A round without
 * votes shows empty bars and says so, rather than a split that reads like a result.
 */
export function renderResults(container, statement, results, langs, { stacked = false, ownChoice = null } = {}) {
  const layout = stacked && statement.options.length === 2 ? "stacked" : "rows";
  const built = `${statement.id}:${layout}:${langs.lang}`;
  if (container.dataset.built !== built) {
    container.replaceChildren(...(layout === "stacked" ? buildStacked(statement, langs) : buildRows(statement, langs)));
    container.dataset.built = built;
  }
  const empty = results.voters === 0;
  container.classList.toggle("empty", empty);
  container.querySelector(".results-empty").hidden = !empty;
  statement.options.forEach((option, index) => {
    const count = results.counts[option.key] ?? 0;
    const percent = results.percentages[option.key] ?? 0;
    if (layout === "stacked") {
      const segment = container.querySelector(`.segment.option-${index + 1}`);
      segment.style.flexGrow = String(empty ? 0 : Math.max(percent, 0.0001));
      segment.textContent = !empty && percent >= 8 ? `${percent}%` : "";
      container.querySelector(`.legend.option-${index + 1} .legend-value`).textContent = `${percent}% · ${count}`;
    } else {
      const row = container.querySelector(`.result-row.option-${index + 1}`);
      row.classList.toggle("own", option.key === ownChoice);
      row.querySelector(".result-fill").style.width = `${percent}%`;
      row.querySelector(".result-value").textContent = `${percent}% (${count})`;
    }
  });
}

function buildRows(statement, langs) {
  const list = element("ul", "result-rows");
  list.classList.toggle("many", statement.options.length > 2);
  statement.options.forEach((option, index) => {
    const row = element("li", `result-row option-${index + 1}`);
    const track = element("span", "result-track");
    track.setAttribute("aria-hidden", "true");
    track.append(element("span", "result-fill"));
    row.append(element("span", "result-label", optionLabel(option, langs)), track, element("span", "result-value"));
    list.append(row);
  });
  return [list, element("p", "results-empty", format("no_votes_yet"))];
}

function buildStacked(statement, langs) {
  const bar = element("div", "stacked");
  bar.setAttribute("aria-hidden", "true");
  const legend = element("ul", "stacked-legend");
  statement.options.forEach((option, index) => {
    bar.append(element("div", `segment option-${index + 1}`));
    const item = element("li", `legend option-${index + 1}`);
    item.append(element("span", "swatch"), element("span", "legend-label", optionLabel(option, langs)),
      element("span", "legend-value"));
    legend.append(item);
  });
  bar.append(element("p", "results-empty", format("no_votes_yet")));
  return [legend, bar];
}

/**
 * Show a round's countdown in `node` ("0:27"), counting down from the time left the server
 * sent (never from a clock time: phones' clocks are often off). Hidden without a countdown.
 */
export function showCountdown(node, round) {
  clearInterval(node.countdownTimer);
  const remaining = round?.open ? round.remaining_ms : null;
  node.hidden = remaining === null || remaining === undefined;
  if (node.hidden) return;
  const end = performance.now() + remaining;
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((end - performance.now()) / 1000));
    node.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    node.setAttribute("aria-label", format("countdown_label", { seconds }));
    node.classList.toggle("ending", seconds <= 5);
    if (seconds === 0) clearInterval(node.countdownTimer);
  };
  tick();
  node.countdownTimer = setInterval(tick, 250);
}

/** "Ronde 2" from the second round on: a re-vote must not look like the first vote. */
export function roundText(round) {
  return round && round.number > 1 ? `· ${format("round", { n: round.number })}` : "";
}

/** "87 van 120 hebben gestemd", and whether more joined than the organiser expected. */
export function turnoutText(turnout) {
  if (!turnout) return "";
  const text = format(turnout.voters === 1 ? "voted_of_one" : "voted_of", turnout);
  return turnout.over_expected ? `${text} · ${format("over_expected", turnout)}` : text;
}
