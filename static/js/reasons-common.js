// Shared by the phone's "Waarom?", the moderator's reasons and the projector's reasons and words.
// A reason's text comes from the hall: it is only ever set as text, never as HTML.
import { element, optionLabel } from "./common.js";

/**
 * An option's label as it reads inside a sentence: "Waarom eens?", "eens → oneens". Only a
 * capitalised word loses its capital ("Eens", "Weet niet"); "AI" or "NL-breed" keep theirs.
 */
export function sideLabel(option, langs) {
  const label = optionLabel(option, langs);
  const [first, second = ""] = label;
  const capitalised = first !== first.toLocaleLowerCase(langs.lang) && second === second.toLocaleLowerCase(langs.lang);
  return capitalised ? first.toLocaleLowerCase(langs.lang) + label.slice(1) : label;
}

/** The side of an option key, as above; the key itself if the deck no longer has it. */
export function sideOf(key, options, langs) {
  const option = options.find((item) => item.key === key);
  return option ? sideLabel(option, langs) : key;
}

/** The class that gives an option's colour (option-1 ... option-6), by its place in the deck. */
export function optionClass(key, options) {
  const index = options.findIndex((item) => item.key === key);
  return index < 0 ? "" : `option-${index + 1}`;
}

/** "eens → oneens", each side in its option's colour. */
export function movedMark(moved, options, langs) {
  const mark = element("p", "moved-mark");
  mark.append(
    element("span", `moved-side ${optionClass(moved.from, options)}`, sideOf(moved.from, options, langs)),
    element("span", "moved-arrow", " → "),
    element("span", `moved-side ${optionClass(moved.to, options)}`, sideOf(moved.to, options, langs)),
  );
  return mark;
}

/** The function that asks the server for this connection's view of the reasons. */
export function askReasons(socket, onReasons) {
  return () => socket.timeout(8000).emit("reasons_sync", {}, (err, reply) => {
    if (!err && reply?.ok) onReasons(reply.reasons);
  });
}

/** Ask for the reasons after every connect (the screens: one page each); returns the
 * function that asks again. */
export function syncReasons(socket, onReasons) {
  const ask = askReasons(socket, onReasons);
  socket.on("connect", ask);
  if (socket.connected) ask();
  return ask;
}
