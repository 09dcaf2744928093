// Light progressive enhancement: everything works without it.
// 1. Search as you type: fetch the results fragment and swap it in.
// 2. Autocomplete: titles, error codes and tags under the search box (arrow keys + Enter).
// 3. Copy buttons for permalinks.
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

  function setupAutocomplete() {
    var input = document.getElementById("q");
    if (!input) return;
    var list = document.createElement("ul");
    list.className = "suggest";
    list.id = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentElement.appendChild(list);
    input.setAttribute("aria-controls", "suggestions");
    input.setAttribute("aria-autocomplete", "list");
    var items = [];
    var selected = -1;
    var timer = null;
    var labels = { article: "article", error_code: "error code", tag: "tag" };

    function close() { list.hidden = true; selected = -1; input.setAttribute("aria-expanded", "false"); }
    function choose(item) {
      if (item.url) { window.location.href = item.url; return; }
      if (item.kind === "tag") { window.location.href = "/?tag=" + encodeURIComponent(item.text); return; }
      input.value = item.text;
      close();
      input.form.submit();
    }
    function highlight(index) {
      selected = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
    }
    function show(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "suggestion-" + i;
        var kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = labels[item.kind] || item.kind;
        var text = document.createElement("span");
        text.textContent = item.text;
        li.appendChild(kind);
        li.appendChild(text);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(item); });
        list.appendChild(li);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      selected = -1;
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var text = input.value;
      if (text.trim().length < 2) { close(); return; }
      timer = setTimeout(function () {
        fetch("/api/autocomplete?q=" + encodeURIComponent(text), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) { if (input.value === text) show(data.suggestions || []); })
          .catch(function () { close(); });
      }, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(selected + 1, items.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(selected - 1, -1)); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && selected >= 0) { event.preventDefault(); choose(items[selected]); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
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
    setupAutocomplete();
    setupCopyButtons();
  });
})();
