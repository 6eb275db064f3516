// The console's only script: live parts over server-sent events, and a
// confirmation before a form that cannot be undone. Pages work without it
// (they show the state at load; reload for more).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-live]").forEach(function (el) {
    if (!window.EventSource) return;
    var source = new EventSource(el.getAttribute("data-live"));
    // The server renders (and escapes) the fragment; it replaces the old one.
    source.addEventListener("update", function (e) {
      el.innerHTML = e.data;
      el.setAttribute("data-updated", String(Date.now()));
      // A new status (paused elsewhere, completed) changes the buttons: reload.
      var now = el.querySelector("[data-status]");
      var shown = document.querySelector("[data-page-status]");
      if (now && shown && now.getAttribute("data-status") !== shown.getAttribute("data-page-status")) {
        source.close();
        window.location.reload();
      }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
});
