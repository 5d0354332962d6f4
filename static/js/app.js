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
  if (firstError) {
    firstError.focus();
    firstError.scrollIntoView({ block: "center" });
  }

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
