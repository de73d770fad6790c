// The operator page: a client of the daemon's WebSocket API like any other, with only
// the fields its [[web_client]] rule allows. Everything shown from the card is set as
// text (never as markup).
"use strict";

const TEXT = {
  vi: {
    title: "Đọc thẻ căn cước",
    connecting: "Đang kết nối…",
    connected: "Đã kết nối",
    disconnected: "Mất kết nối — đang thử lại…",
    "access-label": "CAN (6 số) hoặc số định danh (12 số), hoặc quét mã QR",
    read: "Đọc thẻ",
    name: "Họ và tên",
    "id-number": "Số định danh",
    birth: "Ngày sinh",
    issue: "Ngày cấp",
    expiry: "Có giá trị đến",
    card: "có thẻ",
    "no-card": "không có thẻ",
    "no-readers": "Không có đầu đọc",
    "bad-access": "Nhập CAN (4–12 số) hoặc số định danh 12 số.",
    reading: "Đang đọc",
    genuine: "Thẻ thật — chữ ký và chip đã được xác minh",
    "not-verified": "Chưa xác minh được",
    forged: "Giả mạo",
    error: "Không đọc được thẻ",
    pending: "Đang xác minh…",
  },
  en: {
    title: "ID card reader",
    connecting: "Connecting…",
    connected: "Connected",
    disconnected: "Disconnected — retrying…",
    "access-label": "CAN (6 digits) or ID number (12 digits), or scan the QR code",
    read: "Read card",
    name: "Full name",
    "id-number": "ID number",
    birth: "Date of birth",
    issue: "Date of issue",
    expiry: "Valid until",
    card: "card present",
    "no-card": "no card",
    "no-readers": "No readers",
    "bad-access": "Enter the CAN (4–12 digits) or the 12-digit ID number.",
    reading: "Reading",
    genuine: "Genuine — signatures and chip verified",
    "not-verified": "Not verified",
    forged: "Forged",
    error: "The card could not be read",
    pending: "Verifying…",
  },
};

let lang = "vi";
let socket = null;
let nextId = 1;
let fields = [];
let readId = null;
const readers = new Map();
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key] || key;

function setLang(l) {
  lang = l;
  document.documentElement.lang = l;
  $("lang-vi").setAttribute("aria-pressed", String(l === "vi"));
  $("lang-en").setAttribute("aria-pressed", String(l === "en"));
  for (const el of document.querySelectorAll("[data-t]")) {
    el.textContent = t(el.dataset.t);
  }
  const link = $("link");
  link.textContent = t({ open: "connected", closed: "disconnected" }[link.dataset.state] || "connecting");
  renderReaders();
  const verdict = $("verdict");
  if (verdict.dataset.verdict && verdict.dataset.verdict !== "pending") {
    verdict.textContent = t(verdict.dataset.verdict);
  } else if (!$("result").hidden) {
    verdict.textContent = t("pending");
  }
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(message));
  }
}

function renderReaders() {
  const list = $("readers");
  list.replaceChildren();
  if (readers.size === 0) {
    const li = document.createElement("li");
    li.textContent = t("no-readers");
    list.append(li);
  }
  for (const [name, present] of readers) {
    const li = document.createElement("li");
    li.dataset.card = String(present);
    li.textContent = `${name} — ${t(present ? "card" : "no-card")}`;
    list.append(li);
  }
}

function connect() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const protocols = token ? ["cancuoc", "cancuoc.token." + token] : [];
  socket = new WebSocket(scheme + location.host + "/api", protocols);
  socket.onopen = () => {
    $("link").dataset.state = "open";
    $("link").textContent = t("connected");
    send({ id: "info", cmd: "info" });
    send({ id: "readers", cmd: "readers" });
    send({ id: "subscribe", cmd: "subscribe" });
  };
  socket.onclose = () => {
    $("link").dataset.state = "closed";
    $("link").textContent = t("disconnected");
    $("read").disabled = false;
    setTimeout(connect, 2000);
  };
  socket.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    onMessage(m);
  };
}

function onMessage(m) {
  if (m.event) {
    switch (m.event) {
      case "reader-added": readers.set(m.reader, false); break;
      case "reader-removed": readers.delete(m.reader); break;
      case "card-inserted": readers.set(m.reader, true); break;
      case "card-removed": readers.set(m.reader, false); break;
      case "read-progress":
        if (m.id === readId) {
          $("progress").value = m.percent;
          $("step").textContent = `${t("reading")}: ${m.step} (${m.percent}%)`;
        }
        return;
      case "read-partial":
        if (m.id === readId) showIdentity(m);
        return;
      default: return;
    }
    renderReaders();
    return;
  }
  if (m.id === "info" && m.fields) {
    fields = m.fields;
  } else if (m.id === "readers" && m.readers) {
    readers.clear();
    for (const r of m.readers) readers.set(r.name, !!r.card_present);
    renderReaders();
  } else if (m.id === readId) {
    readId = null;
    $("read").disabled = false;
    if (m.error) {
      showVerdict("error", [m.error.message]);
    } else {
      $("progress").value = 100;
      showIdentity(m.result);
      showFace(m.result.face);
      const v = m.result.verification || {};
      showVerdict(v.verdict || "not-verified", reasons(v));
    }
  }
}

function reasons(v) {
  const out = [];
  for (const part of [v.passive, v.chip]) {
    for (const p of (part && part.problems) || []) out.push(p.message);
  }
  if (v.access_fallback) out.push(v.access_fallback);
  return out;
}

function showIdentity(r) {
  if (!r) return;
  const vn = r.vn || {};
  const holder = r.holder || {};
  const doc = r.document || {};
  $("result").hidden = false;
  $("name").textContent = vn.full_name || holder.full_name || "";
  $("id-number").textContent = vn.id_number || doc.number || "";
  $("birth").textContent = vn.birth_date || holder.birth_date || "";
  $("issue").textContent = vn.issue_date || "";
  $("expiry").textContent = vn.expiry_date || doc.expiry_date || "";
}

function showFace(face) {
  const img = $("face");
  if (face && face.data) {
    img.src = `data:image/${face.format};base64,${face.data}`;
  } else {
    img.removeAttribute("src");
  }
}

function showVerdict(verdict, why) {
  $("result").hidden = false;
  const badge = $("verdict");
  badge.dataset.verdict = verdict;
  badge.textContent = t(verdict);
  const list = $("reasons");
  list.replaceChildren();
  if (verdict !== "genuine") {
    for (const w of why) {
      const li = document.createElement("li");
      li.textContent = w;
      list.append(li);
    }
  }
}

// What the operator typed: a CAN, a 12-digit ID number, or a CCCD QR code's text
// ("ID|old ID|name|birth|sex|address|issue date"), whose first field is the ID number.
function accessOf(text) {
  const first = text.trim().split("|")[0].trim();
  if (/^\d{12}$/.test(first)) return { id_number: first };
  if (/^\d{4,12}$/.test(first)) return { can: first };
  return null;
}

function startRead(e) {
  e.preventDefault();
  const input = $("access");
  const access = accessOf(input.value);
  input.value = "";
  if (!access) {
    $("form-error").textContent = t("bad-access");
    return;
  }
  $("form-error").textContent = "";
  $("result").hidden = true;
  for (const id of ["name", "id-number", "birth", "issue", "expiry"]) $(id).textContent = "";
  showFace(null);
  const badge = $("verdict");
  badge.dataset.verdict = "pending";
  badge.textContent = t("pending");
  $("reasons").replaceChildren();
  $("progress-box").hidden = false;
  $("progress").value = 0;
  $("step").textContent = "";
  $("read").disabled = true;
  readId = "read-" + nextId++;
  const request = { id: readId, cmd: "read", access, wait: 30 };
  if (fields.includes("face")) request.face = "jpeg";
  send(request);
}

document.addEventListener("DOMContentLoaded", () => {
  $("lang-vi").addEventListener("click", () => setLang("vi"));
  $("lang-en").addEventListener("click", () => setLang("en"));
  $("read-form").addEventListener("submit", startRead);
  setLang("vi");
  connect();
});
