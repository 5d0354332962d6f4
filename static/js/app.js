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

  // The live list refreshes itself. Say so to screen readers only when the number changes.
  var liveStatus = document.getElementById("live-status");
  var lastCount = null;
  function announceCount() {
    var list = document.getElementById("live-list");
    if (!liveStatus || !list) {
      return;
    }
    var count = list.dataset.count;
    if (lastCount !== null && count !== lastCount) {
      var n = parseInt(count, 10);
      var text = n === 0 ? liveStatus.dataset.templateNone
        : n === 1 ? liveStatus.dataset.templateOne
        : n + " " + liveStatus.dataset.templateMany;
      liveStatus.textContent = text;
    }
    lastCount = count;
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
