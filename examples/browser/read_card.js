// A minimal page reading a card through the cancuoc daemon's WebSocket endpoint
// ([web] in the daemon's configuration; protocol in docs/api.md). Plain JavaScript.
"use strict";

// Where the daemon listens; the page's own origin must be in a [[web_client]] rule.
const DAEMON = "ws://127.0.0.1:8470/api";
// The rule's token, if it has one (never hard-code a real token in a public page).
const TOKEN = new URLSearchParams(location.hash.slice(1)).get("token");

let socket;
let nextId = 1;
const pending = new Map();

function connect() {
  socket = new WebSocket(DAEMON, TOKEN ? ["cancuoc", "cancuoc.token." + TOKEN] : []);
  socket.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.event === "read-progress") {
      document.getElementById("progress").value = m.percent;
    } else if (m.event === "read-partial") {
      // Verified against the signed data, but no verdict yet: show it as such.
      const vn = m.vn || {};
      document.getElementById("name").textContent = vn.full_name || (m.holder || {}).full_name || "";
    } else if (!m.event && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  };
  socket.onclose = () => setTimeout(connect, 2000);
}

// Sends a request and resolves with its answer.
function request(message) {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    socket.send(JSON.stringify({ ...message, id }));
  });
}

document.getElementById("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("access");
  const text = input.value.trim().split("|")[0]; // a QR scan: the ID number comes first
  input.value = "";
  const access = /^\d{12}$/.test(text) ? { id_number: text } : { can: text };
  const answer = await request({ cmd: "read", access, face: "jpeg", wait: 30 });
  const verdict = document.getElementById("verdict");
  if (answer.error) {
    verdict.textContent = `${answer.error.code}: ${answer.error.message}`;
    return;
  }
  const r = answer.result;
  document.getElementById("name").textContent = (r.vn || {}).full_name || (r.holder || {}).full_name || "";
  verdict.textContent = r.verification.verdict; // genuine, not-verified or forged
  if (r.face) {
    document.getElementById("face").src = `data:image/${r.face.format};base64,${r.face.data}`;
  }
});

connect();
