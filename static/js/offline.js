// The installable app, on the page's side. Registers the service worker (which keeps the
// routine pack on the device), keeps a report or a call made while the network is down in
// IndexedDB and sends it when the network is back, keeps what is typed offline, and says how
// old a kept page is. Every page works without it; its words come from the server
// (data-texts on its script tag, in the reader's language).
(function () {
  "use strict";

  var config = (document.currentScript && document.currentScript.dataset) || {};
  var DB_NAME = "runbook-offline";
  var OUTBOX = "outbox";
  var DRAFTS = "drafts";
  var REFRESH_EVERY_MS = 10 * 60 * 1000;
  var RETRY_EVERY_MS = 20 * 1000;
  // How long a form waits for the server to answer before it keeps what was typed on the device.
  var REACH_TIMEOUT_MS = 4000;
  var texts = {};
  var sent = [];
  var loginNeeded = false;
  var flushing = false;

  function t(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(values[name]);
    });
    return text;
  }

  // --- times, in the app's time zone (as the server writes them) -------------------------
  function parts(date) {
    var out = {};
    new Intl.DateTimeFormat("sv-SE", {
      timeZone: config.tz || undefined, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  function clock(date) {
    var p = parts(date);
    return p.hour + ":" + p.minute;
  }
  function stamp(date) {
    var p = parts(date);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }
  function age(ms) {
    var minutes = Math.floor(ms / 60000);
    var hours = Math.floor(minutes / 60);
    var days = Math.floor(hours / 24);
    if (minutes < 1) { return t("age_new"); }
    if (hours < 1) { return minutes === 1 ? t("minute") : t("minutes", { n: minutes }); }
    if (days < 1) { return hours === 1 ? t("hour") : t("hours", { n: hours }); }
    return days === 1 ? t("day") : t("days", { n: days });
  }

  // --- IndexedDB: the outbox and the drafts survive closing the tab ----------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(OUTBOX, { keyPath: "id" });
        request.result.createObjectStore(DRAFTS, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function store(name, mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var request = action(tx.objectStore(name));
        tx.oncomplete = function () { db.close(); resolve(request.result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function outbox() { return store(OUTBOX, "readonly", function (s) { return s.getAll(); }); }
  function keep(entry) { return store(OUTBOX, "readwrite", function (s) { return s.put(entry); }); }
  function drop(id) { return store(OUTBOX, "readwrite", function (s) { return s.delete(id); }); }

  function newId() {
    if (window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  // --- forms that work offline (form[data-offline]) ---------------------------------------
  function fieldsOf(form) {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && name !== "action" && typeof value === "string") {
        fields[name] = value;
      }
    });
    return fields;
  }
  function fill(form, fields) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in fields)) { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = el.value === fields[el.name];
      } else if (el.name !== "csrfmiddlewaretoken") {
        el.value = fields[el.name];
      }
    });
  }
  function draftKey(form) {
    var key = [config.user, form.dataset.offline, form.dataset.incident || ""].join(":");
    // Each system's report form keeps its own draft (the app's own routine's has no data-routine).
    return form.dataset.routine ? key + ":" + form.dataset.routine : key;
  }
  function say(form, text) {
    var note = form.parentNode.querySelector(".offline-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "message message-info offline-note";
      note.setAttribute("role", "status");
      form.parentNode.insertBefore(note, form);
    }
    note.textContent = text;
  }
  function missing(form, fields) {
    var empty = Array.prototype.filter.call(form.querySelectorAll("[required]"), function (el) {
      return !String(el.value || "").trim();
    });
    return empty.length > 0 || (form.dataset.offline === "incident" && !fields.scenario);
  }
  function proposeHere(form) {
    var rules = JSON.parse(form.dataset.triageRules || "[]");
    var rule = rules.find(function (r) {
      var answer = form.querySelector('input[name="' + r[0] + '"]:checked');
      return answer && answer.value === "no";
    });
    var radio = rule && document.getElementById("scenario-" + rule[1]);
    if (radio) {
      radio.checked = true;
      var label = form.querySelector('label[for="scenario-' + rule[1] + '"] strong');
      say(form, t("proposal", { title: label ? label.textContent : rule[1] }));
    }
  }

  // A form that works offline is sent as usual when the server answers; when it does not (no
  // network, or the network is up but the region's servers are not), what was typed is kept.
  var checking = [];
  var passing = null;

  function reachable() {
    if (!navigator.onLine) { return Promise.resolve(false); }
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, REACH_TIMEOUT_MS);
    return fetch(config.health, { cache: "no-store", signal: controller.signal }).then(
      function (response) { return response.ok; },
      function () { return false; }
    ).then(function (up) {
      window.clearTimeout(timer);
      return up;
    });
  }

  function keepOffline(form, submitter) {
    if (submitter && submitter.value === "propose") {
      proposeHere(form);
      return;
    }
    var fields = fieldsOf(form);
    if (missing(form, fields)) {
      say(form, t("missing"));
      return;
    }
    var now = new Date();
    var entry = {
      id: newId(), kind: form.dataset.offline, incident: form.dataset.incident || null,
      fields: fields, made_at: now.toISOString(), user: config.user, state: "waiting",
      summary: fields.summary || fields.functions || ""
    };
    keep(entry).then(function () {
      return store(DRAFTS, "readwrite", function (s) { return s.delete(draftKey(form)); });
    }).then(function () {
      form.reset();
      say(form, t("saved", { time: clock(now) }));
      show();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.offline || event.defaultPrevented) { return; }
    if (passing === form) {
      passing = null;
      store(DRAFTS, "readwrite", function (s) { return s.delete(draftKey(form)); }).catch(function () {});
      return;
    }
    event.preventDefault();
    if (checking.indexOf(form) !== -1) { return; }  // pressed twice while asking the server
    checking.push(form);
    var submitter = event.submitter;
    reachable().then(function (up) {
      checking.splice(checking.indexOf(form), 1);
      if (up) {
        passing = form;
        form.requestSubmit(submitter || undefined);
      } else {
        keepOffline(form, submitter);
      }
    });
  });

  // Without a network htmx's requests (the live list's refresh, the triage proposal) can only
  // fail: they are not sent, and the report form proposes its scenario on the device.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (navigator.onLine) { return; }
    event.preventDefault();
    var form = event.target.closest && event.target.closest("form[data-offline='incident']");
    if (form) { proposeHere(form); }
  });

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (!form || !form.dataset.offline || navigator.onLine) { return; }
    var draft = { key: draftKey(form), fields: fieldsOf(form) };
    store(DRAFTS, "readwrite", function (s) { return s.put(draft); }).catch(function () {});
  });

  function restoreDrafts() {
    document.querySelectorAll("form[data-offline]").forEach(function (form) {
      store(DRAFTS, "readonly", function (s) { return s.get(draftKey(form)); }).then(function (draft) {
        if (draft) {
          fill(form, draft.fields);
          say(form, t("draft"));
        }
      }).catch(function () {});
    });
  }

  // --- what waits on the device, shown at the top of every page ---------------------------
  function box() {
    var el = document.getElementById("offline-outbox");
    var main = document.getElementById("main");
    if (!el && main) {
      el = document.createElement("div");
      el.id = "offline-outbox";
      el.className = "card offline-outbox";
      el.setAttribute("role", "status");
      el.setAttribute("aria-live", "polite");
      main.insertBefore(el, main.firstChild);
    }
    return el;
  }
  function line(text) {
    var li = document.createElement("li");
    li.textContent = text;
    return li;
  }
  function describe(entry) {
    var what = entry.kind === "incident"
      ? t("incident", { summary: entry.summary })
      : t("caller_report", { incident: entry.incident, summary: entry.summary });
    return what + " (" + t("made", { time: stamp(new Date(entry.made_at)) }) + ")";
  }
  function show() {
    return outbox().then(function (entries) {
      var el = box();
      if (!el) { return; }
      var mine = entries.filter(function (e) { return e.user === config.user; });
      var others = entries.length - mine.length;
      el.textContent = "";
      el.hidden = !mine.length && !others && !sent.length;
      if (mine.length) {
        var heading = document.createElement("p");
        heading.textContent = loginNeeded ? t("login") : t("waiting");
        el.appendChild(heading);
        var list = document.createElement("ul");
        mine.forEach(function (entry) {
          var li = line(describe(entry));
          if (entry.state === "confirm") {
            // The server asks the person to confirm (a start so early that the reserve
            // routine begins at once, a text that looks like a personnummer).
            li.appendChild(document.createElement("br"));
            li.appendChild(document.createTextNode(entry.message));
            var confirm = document.createElement("button");
            confirm.type = "button";
            confirm.className = "button-small";
            confirm.textContent = t("confirm");
            confirm.addEventListener("click", function () {
              entry.confirmed = (entry.confirmed || []).concat(entry.warnings || []);
              entry.state = "waiting";
              keep(entry).then(flush);
            });
            li.appendChild(document.createTextNode(" "));
            li.appendChild(confirm);
          }
          if (entry.state === "refused" || entry.state === "confirm") {
            if (entry.state === "refused") {
              li.appendChild(document.createElement("br"));
              li.appendChild(document.createTextNode(t("refused", { message: entry.message })));
            }
            var remove = document.createElement("button");
            remove.type = "button";
            remove.className = "button-small";
            remove.textContent = t("remove");
            remove.addEventListener("click", function () { drop(entry.id).then(show); });
            li.appendChild(document.createTextNode(" "));
            li.appendChild(remove);
          }
          list.appendChild(li);
        });
        el.appendChild(list);
      }
      if (others) { el.appendChild(line(t("other_user", { n: others }))); }
      sent.forEach(function (item) {
        var p = document.createElement("p");
        p.className = "offline-sent";
        p.textContent = t("sent", { what: describe(item.entry) }) + " ";
        var link = document.createElement("a");
        link.href = item.url;
        link.textContent = t("open");
        p.appendChild(link);
        el.appendChild(p);
      });
    }).catch(function () {});
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name='csrfmiddlewaretoken']");
    return input ? input.value : "";
  }

  // Send what waits, oldest first. The server knows each entry by its id, so an entry sent
  // twice (the answer was lost) is registered once.
  function flush() {
    if (flushing || !navigator.onLine || !config.user || !config.submit) { return Promise.resolve(); }
    flushing = true;
    return outbox().then(function (entries) {
      var waiting = entries.filter(function (e) { return e.user === config.user && e.state === "waiting"; });
      waiting.sort(function (a, b) { return a.made_at < b.made_at ? -1 : 1; });
      return waiting.reduce(function (previous, entry) {
        return previous.then(function (go) {
          return go && send(entry);
        });
      }, Promise.resolve(true));
    }).catch(function () {}).then(function () {
      flushing = false;
      return show();
    });
  }
  function send(entry) {
    return fetch(config.submit, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({
        client_id: entry.id, kind: entry.kind, made_at: entry.made_at,
        incident: entry.incident, fields: entry.fields, confirmed: entry.confirmed || []
      })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          loginNeeded = false;
          sent.push({ entry: entry, url: body.url });
          return drop(entry.id).then(function () { return true; });
        }
        if (response.status === 401 || !body.code) {
          loginNeeded = true;  // signed out, or the page's session is gone: keep it, stop here
          return false;
        }
        if (response.status === 429 || response.status >= 500) { return false; }
        entry.state = body.code === "needs_confirmation" ? "confirm" : "refused";
        entry.message = body.message;
        entry.warnings = (body.warnings || []).map(function (w) { return w.key; });
        return keep(entry).then(function () { return true; });
      });
    }, function () {
      return false;  // no network after all: try again later
    });
  }

  // --- how old a kept page is ---------------------------------------------------------------
  function showAge() {
    var el = document.querySelector(".copy-age[data-saved-at]");
    if (!el || !("serviceWorker" in navigator)) { return; }
    var saved = new Date(el.dataset.savedAt);
    var ms = Date.now() - saved.getTime();
    var text = t("age", { time: stamp(saved), age: age(Math.max(ms, 0)) });
    if (ms > Number(el.dataset.staleAfterHours || 24) * 3600 * 1000) {
      el.classList.add("copy-stale");
      text += " " + t("stale");
    }
    el.textContent = text;
  }

  function showOffline() {
    var copy = document.getElementById("kopia");
    if (navigator.onLine) {
      document.querySelectorAll(".offline-banner").forEach(function (b) { b.remove(); });
      return;
    }
    var text = null;
    if (copy && copy.dataset.packPath !== window.location.pathname) {
      text = t("offline_page");
    } else if (document.querySelector("form[data-offline]")) {
      text = t("offline_form");
    }
    var main = document.getElementById("main");
    if (text && main && !document.querySelector(".offline-banner")) {
      var banner = document.createElement("p");
      banner.className = "banner banner-warning offline-banner";
      banner.setAttribute("role", "alert");
      banner.textContent = text;
      main.insertBefore(banner, main.firstChild);
    }
  }

  function register() {
    if (!("serviceWorker" in navigator) || !config.sw) { return; }
    navigator.serviceWorker.register(config.sw).then(function () {
      var last = Number(window.localStorage.getItem("runbook-refreshed-at") || 0);
      if (config.user && navigator.onLine && Date.now() - last > REFRESH_EVERY_MS) {
        window.localStorage.setItem("runbook-refreshed-at", String(Date.now()));
        return navigator.serviceWorker.ready.then(function (registration) {
          registration.active.postMessage("refresh");
        });
      }
    }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    texts = JSON.parse(config.texts || "{}");
    register();
    showAge();
    showOffline();
    if (!("indexedDB" in window)) { return; }
    restoreDrafts();
    show().then(flush);
    window.addEventListener("online", function () { showOffline(); flush(); });
    window.addEventListener("offline", showOffline);
    window.setInterval(flush, RETRY_EVERY_MS);
    window.setInterval(showAge, 60 * 1000);
  });
}());
