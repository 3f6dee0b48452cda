/* Gallra's few behaviours on top of server-rendered pages (every page works without them).
 * - A live filter (htmx) marks its results busy while the request runs (#busy shows, the
 *   results get aria-busy) and, when they arrive, says the count ("Antal: 3") in the
 *   page's one polite live region (#announce), which stays in place while results swap.
 * - The GDPR rules table: a rule's days box is usable only while its mode is "days".
 * - The header's "Meny" (a <details>, which opens without this): Escape closes it and puts
 *   the focus back on its button.
 * - An SMS code step's "Send a new code" stays hidden until its wait (data-wait seconds)
 *   has passed; then the note saying how long to wait goes. */
(function () {
  "use strict";

  function syncDays(select) {
    var days = document.getElementById(select.getAttribute("data-days"));
    if (days && !select.disabled) {
      days.disabled = select.value !== "days";
    }
  }

  function syncAll(root) {
    var selects = (root || document).querySelectorAll("select[data-days]");
    for (var i = 0; i < selects.length; i++) { syncDays(selects[i]); }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[data-days]")) { syncDays(target); }
  });
  document.addEventListener("DOMContentLoaded", function () { syncAll(document); });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var menu = document.querySelector("header.top details.menu[open]");
    if (menu && menu.contains(document.activeElement)) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-wait]");
    for (var i = 0; i < buttons.length; i++) {
      (function (button) {
        var seconds = parseInt(button.getAttribute("data-wait"), 10) || 0;
        if (seconds <= 0) { return; }
        button.style.display = "none";  /* (a styled button ignores the hidden attribute) */
        window.setTimeout(function () {
          button.style.display = "";
          var note = document.querySelector('[data-wait-for="' + button.id + '"]');
          if (note) { note.hidden = true; }
        }, seconds * 1000);
      })(buttons[i]);
    }
  });

  function resultsOf(event) {
    var detail = event.detail || {};
    return detail.target || null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = resultsOf(event);
    if (target && target.setAttribute) { target.setAttribute("aria-busy", "true"); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = resultsOf(event);
    if (target && target.removeAttribute) { target.removeAttribute("aria-busy"); }
    var results = document.getElementById("results");
    if (results) { results.removeAttribute("aria-busy"); }
  });
  document.addEventListener("htmx:afterSettle", function () {
    syncAll(document);
    var count = document.querySelector("#results [data-announce], #results [role=status]");
    var live = document.getElementById("announce");
    if (count && live) {
      live.textContent = "";
      // a fresh text node, so the same count said twice is still announced
      window.setTimeout(function () { live.textContent = count.textContent; }, 50);
    }
  });
})();
