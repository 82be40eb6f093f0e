// The organiser's "new event" form: an uploaded deck is checked before the form is sent, so a
// refused file stays chosen (a page reload would clear it) while its problems are listed.
const form = document.getElementById("create-form");
const box = document.getElementById("deck-problems");
const file = document.getElementById("deck-file");
let checked = false;

form.addEventListener("submit", async (event) => {
  if (checked || !file.files.length) return;
  event.preventDefault();
  let reply;
  try {
    const response = await fetch(form.dataset.check, { method: "POST", body: new FormData(form) });
    reply = await response.json();
  } catch {
    reply = { ok: true }; // no answer: let the form go, the server checks again
  }
  if (reply.ok) {
    checked = true;
    form.requestSubmit();
    return;
  }
  box.querySelector("p").textContent = reply.title;
  box.querySelector("ul").replaceChildren(...reply.problems.map((line) => {
    const item = document.createElement("li");
    item.textContent = line;
    return item;
  }));
  box.hidden = false;
});
// A new choice of file is checked again.
file.addEventListener("change", () => { checked = false; });
