// Light progressive enhancement: everything works without it.
// 1. Search as you type: fetch the results fragment and swap it in.
// 2. Copy buttons for permalinks.
(function () {
  "use strict";

  function setupSearchAsYouType() {
    var input = document.getElementById("q");
    var results = document.getElementById("results");
    if (!input || !results) return;
    var timer = null;
    var controller = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var params = new URLSearchParams(window.location.search);
        params.set("q", input.value);
        params.delete("page");
        var url = "/?" + params.toString();
        if (controller) controller.abort();
        controller = new AbortController();
        params.set("fragment", "1");
        fetch("/?" + params.toString(), { signal: controller.signal, credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            results.innerHTML = html;
            window.history.replaceState(null, "", url);
          })
          .catch(function () { /* aborted or offline: the form still works */ });
      }, 180);
    });
  }

  function setupCopyButtons() {
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.addEventListener("click", function () {
        var text = button.getAttribute("data-copy");
        var status = button.parentElement.querySelector(".copied");
        function done(ok) { if (status) status.textContent = ok ? "Copied" : "Press Ctrl+C to copy"; }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
        } else {
          var field = document.getElementById("permalink");
          field.value = text;
          field.select();
          done(document.execCommand && document.execCommand("copy"));
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupSearchAsYouType();
    setupCopyButtons();
  });
})();
