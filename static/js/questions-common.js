// Shared by the phone's Vragen tab, the moderator's queue and the projector's question view.
// A question's texts come from the hall: they are only ever set as text, never as HTML.
import { element, format } from "./common.js";

/** "Vraag 12 · voor Dr. X · Anna" */
export function questionMeta(question) {
  const parts = [format("qa_number", { n: question.number })];
  if (question.panel_member) parts.push(format("qa_for_member", { name: question.panel_member }));
  if (question.name) parts.push(question.name);
  return parts.join(" · ");
}

/** The number, meta line and text of a question, as elements. */
export function questionBody(question, extra = []) {
  const meta = element("p", "qa-meta", [questionMeta(question), ...extra].join(" · "));
  const text = element("p", "qa-text", question.text);
  return [meta, text];
}

/** Ask the server for this connection's view of the questions (after every connect);
 * returns the function that asks again. */
export function syncQuestions(socket, onQuestions) {
  const ask = () => socket.timeout(8000).emit("questions_sync", {}, (err, reply) => {
    if (!err && reply?.ok) onQuestions(reply.questions);
  });
  socket.on("connect", ask);
  if (socket.connected) ask();
  return ask;
}
