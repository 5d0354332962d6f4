// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  // Ask before irreversible actions (buttons carry data-confirm).
  document.body.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // After a form came back with errors, take the person to the first one: on a long page
  // (or a phone) the error may otherwise sit far below where the page opens.
  var firstError = document.querySelector(".error-summary, [aria-invalid='true']");
  var confirmation = document.querySelector(".messages");
  if (firstError) {
    firstError.focus();
    firstError.scrollIntoView({ block: "center" });
  } else if (confirmation) {
    // After an action, focus moves to its confirmation: a screen reader reads it out, and
    // the next Tab goes on from there rather than from the top of the page.
    confirmation.focus();
  }

  // A field with a length limit (data-limit) counts what is typed or pasted. Nothing is cut:
  // a text over the limit is refused by the server with a message and kept as typed.
  document.querySelectorAll("[data-limit]").forEach(function (field) {
    var limit = parseInt(field.dataset.limit, 10);
    var counter = document.createElement("p");
    counter.className = "help char-count";
    counter.id = field.id + "_count";
    field.insertAdjacentElement("afterend", counter);
    field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + counter.id).trim());
    function count() {
      var n = field.value.length;
      var template = n > limit ? field.dataset.overText : field.dataset.countText;
      counter.textContent = template.replace(/%\((\w)\)d/g, function (_all, key) {
        return String({ n: n, l: limit, o: n - limit }[key]);
      });
      counter.classList.toggle("overdue-text", n > limit);
    }
    field.addEventListener("input", count);
    count();
  });

  // Open a collapsed section when a link points into it (e.g. "Registrera samtal").
  function openTarget() {
    var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (target && target.tagName === "DETAILS") {
      target.open = true;
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // The live list refreshes itself. Say so to screen readers when the number changes, and
  // which incident changed state to what.
  var liveStatus = document.getElementById("live-status");
  var lastCount = null;
  var lastStates = null;
  function statesOf(list) {
    var states = {};
    list.querySelectorAll("tr[data-incident]").forEach(function (row) { states[row.dataset.incident] = row.dataset.state; });
    return states;
  }
  function announceCount() {
    var list = document.getElementById("live-list");
    if (!liveStatus || !list) {
      return;
    }
    var said = [];
    var count = list.dataset.count;
    if (lastCount !== null && count !== lastCount) {
      var n = parseInt(count, 10);
      said.push(n === 0 ? liveStatus.dataset.templateNone
        : n === 1 ? liveStatus.dataset.templateOne
        : n + " " + liveStatus.dataset.templateMany);
    }
    var states = statesOf(list);
    if (lastStates !== null) {
      list.querySelectorAll("tr[data-incident]").forEach(function (row) {
        var before = lastStates[row.dataset.incident];
        if (before !== undefined && before !== row.dataset.state) { said.push(row.dataset.announce); }
      });
    }
    if (said.length) {
      liveStatus.textContent = said.join(". ");
    }
    lastCount = count;
    lastStates = states;
  }
  announceCount();
  document.body.addEventListener("htmx:afterSettle", announceCount);

  // Relative times ("om 3 min", "2 h 05 min") beside absolute ones: a refreshed part may
  // come from the server's cache, rendered minutes ago, so the words are worked out here
  // from data-until / data-since and the page's own words on <body> (runbook.polling).
  var words = document.body.dataset;
  function fill(template, values) {
    return template.replace(/%\((\w)\)d/g, function (_all, key) { return String(values[key]); });
  }
  function untilText(seconds) {
    if (seconds <= 0) { return words.relDue; }
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) { return fill(words.relUntilHm, { h: h, m: m }); }
    if (m) { return fill(words.relUntilM, { m: m }); }
    return fill(words.relUntilS, { s: s });
  }
  function sinceText(seconds) {
    // As incidents.reports.format_duration: "1 d 2 h 05 min", "2 h 05 min", "14 min", "30 s".
    var minutesTotal = Math.floor((seconds + 30) / 60);
    var d = Math.floor(minutesTotal / 1440), h = Math.floor((minutesTotal % 1440) / 60), m = minutesTotal % 60;
    var mm = (m < 10 ? "0" : "") + m;
    if (d) { return d + " d " + h + " h " + mm + " min"; }
    if (h) { return h + " h " + mm + " min"; }
    if (minutesTotal === 0 && seconds) { return seconds + " s"; }
    return m + " min";
  }
  function refreshRelativeTimes() {
    var now = Date.now();
    if (words.relDue) {
      document.querySelectorAll("[data-until]").forEach(function (el) {
        el.textContent = untilText(Math.floor((Date.parse(el.dataset.until) - now) / 1000));
      });
    }
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = sinceText(Math.max(0, Math.floor((now - Date.parse(el.dataset.since)) / 1000)));
    });
  }
  function markChecked(root) {
    var stamp = new Date().toLocaleTimeString("sv-SE");
    (root || document).querySelectorAll("[data-poll-checked]").forEach(function (el) {
      el.textContent = stamp;
    });
  }
  refreshRelativeTimes();
  window.setInterval(refreshRelativeTimes, 15000);
  document.body.addEventListener("htmx:afterSettle", function () {
    refreshRelativeTimes();
    markChecked(null);
  });
  // An unchanged part is answered with an empty 204 and not swapped: it was still current.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 204) {
      markChecked(event.detail.elt);
    }
  });

  // The incident page follows the incident by itself (#incident-page polls, runbook.polling).
  // A form the person is typing in, has focus in or got back with errors is kept as it is:
  // the fresh page's copy of that form is replaced by the one on screen. Should such a form
  // have no place in the fresh page (its action is no longer offered), nothing is swapped and
  // the change is only said, until the form is sent or emptied.
  function formKey(form) { return form.getAttribute("action") || ""; }
  function isBusy(form) {
    if (form.contains(document.activeElement) && document.activeElement !== form) { return true; }
    if (form.querySelector(".error-summary, [aria-invalid='true']")) { return true; }
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
      if (el.tagName === "SELECT") {
        return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return "defaultValue" in el && el.type !== "hidden" && el.value !== el.defaultValue;
    });
  }
  function findForm(root, key) {
    return Array.prototype.find.call(root.querySelectorAll("form"), function (f) { return formKey(f) === key; });
  }
  function detailsKey(details) {
    var summary = details.querySelector("summary");
    return details.id || (summary ? summary.textContent.trim() : "");
  }
  var announcer = document.getElementById("incident-announce");
  function announceState(oldState, fresh) {
    if (!announcer || !fresh || fresh.dataset.state === oldState) { return; }
    announcer.textContent = announcer.dataset.template.replace("%(state)s", fresh.dataset.stateLabel);
  }
  var kept = null;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var page = event.detail.elt;
    if (!page || page.id !== "incident-page" || !event.detail.xhr || event.detail.xhr.status !== 200) { return; }
    var fresh = new DOMParser().parseFromString(event.detail.serverResponse, "text/html").getElementById("incident-page");
    if (!fresh) { return; }
    var busy = Array.prototype.filter.call(page.querySelectorAll("form"), isBusy);
    var homeless = busy.filter(function (form) { return !findForm(fresh, formKey(form)); });
    if (homeless.length) {
      event.detail.shouldSwap = false;  // tried again at the next poll: the page keeps its old ETag
      announceState(page.dataset.state, fresh);
      return;
    }
    var active = document.activeElement;
    kept = {
      state: page.dataset.state,
      forms: busy,
      active: page.contains(active) ? active : null,
      selection: active && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null,
      open: Array.prototype.filter.call(page.querySelectorAll("details"), function (d) { return d.open; }).map(detailsKey),
      closed: Array.prototype.filter.call(page.querySelectorAll("details"), function (d) { return !d.open; }).map(detailsKey),
    };
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var page = document.getElementById("incident-page");
    if (!kept || !page) { return; }
    var was = kept;
    kept = null;
    was.forms.forEach(function (form) {
      var place = findForm(page, formKey(form));
      if (place) { place.replaceWith(form); }
    });
    page.querySelectorAll("details").forEach(function (d) {
      var key = detailsKey(d);
      if (was.open.indexOf(key) !== -1) { d.open = true; } else if (was.closed.indexOf(key) !== -1) { d.open = false; }
    });
    if (was.active && page.contains(was.active)) {
      was.active.focus({ preventScroll: true });
      if (was.selection) {
        try { was.active.setSelectionRange(was.selection[0], was.selection[1]); } catch (e) { /* not a text field */ }
      }
    }
    announceState(was.state, page);
  });

  // A refresh that was sent to the login page (the session ended) must not put the login
  // form inside the list: load the whole page again, which shows the login.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/logga-in/") !== -1) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });
});
