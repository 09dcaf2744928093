// Light progressive enhancement: everything works without it.
// 1. Search as you type: fetch the results fragment and swap it in.
// 2. Autocomplete: titles, error codes and tags under the search box (arrow keys + Enter).
// 3. Copy buttons: permalinks for tickets (whole article, a selected passage, a section).
// 4. "Was this helpful?" without a page reload.
// 5. Live preview: an open article notices that its file was saved.
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
            foldFiltersOnPhones(results);
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
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    input.parentElement.appendChild(list);
    // the ARIA combobox pattern: a screen reader hears that suggestions opened, how many,
    // and which one the arrow keys are on
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-controls", "suggestions");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    var announce = document.createElement("span");
    announce.className = "visually-hidden";
    announce.setAttribute("role", "status");
    input.parentElement.appendChild(announce);
    var items = [];
    var selected = -1;
    var timer = null;
    var labels = { article: "article", error_code: "error code", tag: "tag" };

    function close() {
      list.hidden = true;
      selected = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
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
      if (index >= 0) input.setAttribute("aria-activedescendant", "suggestion-" + index);
      else input.removeAttribute("aria-activedescendant");
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
      input.removeAttribute("aria-activedescendant");
      announce.textContent = found.length ? found.length + (found.length === 1 ? " suggestion" : " suggestions") + ", arrow keys to choose" : "";
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

  function copyText(text, status) {
    function done(ok) { if (status) status.textContent = ok ? "Copied" : "Press Ctrl+C to copy"; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
      return;
    }
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "offscreen";
    document.body.appendChild(field);
    field.select();
    done(document.execCommand && document.execCommand("copy"));
    document.body.removeChild(field);
  }

  // Text fragments (#:~:text=start,end) need -, & and , escaped inside each part.
  function fragmentPart(text) {
    return encodeURIComponent(text).replace(/-/g, "%2D").replace(/,/g, "%2C").replace(/&/g, "%26");
  }
  function textFragment(selected) {
    var words = selected.replace(/\s+/g, " ").trim().split(" ");
    if (words.length <= 8) return ":~:text=" + fragmentPart(words.join(" "));
    return ":~:text=" + fragmentPart(words.slice(0, 4).join(" ")) + "," + fragmentPart(words.slice(-4).join(" "));
  }

  // What to copy for a ticket: the whole article, the selected passage, or one section.
  function ticketLink(panel, kind, selected, section) {
    var url = panel.dataset.url;
    var label = panel.dataset.id + ": " + panel.dataset.title;
    if (section) {
      url += "#" + section.id;
      label += " › " + section.text;
    } else if (selected) {
      url += "#" + textFragment(selected);
    }
    return kind === "markdown" ? "[" + label + "](" + url + ")" : url;
  }

  function setupCopyButtons() {
    var panel = document.querySelector(".ticket-link[data-url]");
    var body = document.querySelector(".article .body");
    var selected = "";
    if (panel && body) {
      var remember = function () {
        var selection = window.getSelection();
        var inside = selection && selection.rangeCount && body.contains(selection.anchorNode);
        selected = inside ? selection.toString().trim() : "";
      };
      body.addEventListener("mouseup", remember);
      body.addEventListener("keyup", remember);
      body.querySelectorAll("h2[id], h3[id]").forEach(function (heading) {
        // one control per heading: the copy button takes the place of the "#" link
        var anchor = heading.querySelector(".header-anchor");
        if (anchor) anchor.remove();
        var name = heading.textContent.trim();
        var button = document.createElement("button");
        button.type = "button";
        button.className = "copy-section";
        button.textContent = "¶";
        button.title = "Copy a link to this section for a ticket";
        button.setAttribute("aria-label", "Copy link to section " + name);
        button.addEventListener("click", function () {
          var section = { id: heading.id, text: name };
          copyText(ticketLink(panel, "markdown", "", section), panel.querySelector(".copied"));
        });
        heading.appendChild(button);
      });
    }
    // a Copy button on every code block: people paste the PowerShell steps
    document.querySelectorAll(".body pre").forEach(function (block) {
      var wrap = document.createElement("div");
      wrap.className = "code-block";
      block.parentNode.insertBefore(wrap, block);
      wrap.appendChild(block);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-code";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy this code");
      var status = document.createElement("span");
      status.className = "copied";
      status.setAttribute("role", "status");
      button.addEventListener("click", function () { copyText(block.textContent, status); });
      wrap.appendChild(button);
      wrap.appendChild(status);
    });
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.addEventListener("click", function () {
        var status = button.parentElement.querySelector(".copied");
        var text = button.getAttribute("data-copy");
        if (panel && panel.contains(button)) text = ticketLink(panel, button.dataset.kind, selected, null);
        copyText(text, status);
      });
    });
  }

  // "Was this helpful?": vote at once, then offer the comment box; one vote per reader.
  function setupFeedback() {
    var form = document.querySelector("form.feedback-form");
    if (!form) return;
    var status = form.parentElement.querySelector(".feedback-status");
    var comment = form.querySelector(".comment");
    var send = form.querySelector(".send-comment");
    var answer = null;
    comment.hidden = true;
    function post(helpful, text) {
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      return fetch(form.dataset.api, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ helpful: helpful, comment: text || "" })
      }).then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      }).then(function (reply) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (!reply.ok) { status.textContent = reply.data.error ? reply.data.error.message : "Could not save."; return false; }
        return true;
      }).catch(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        status.textContent = "Could not save your feedback; check your connection.";
        return false;
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = event.submitter;
      if (button && button.value) {
        answer = button.value === "yes";
        form.querySelectorAll("button.vote").forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
        post(answer, "").then(function (ok) {
          if (!ok) return;
          status.textContent = answer ? "Thanks! Glad it helped." : "Thanks. What was missing? Add a comment for the authors, or escalate to tier 2.";
          comment.hidden = false;
          send.hidden = false;
        });
      } else if (answer !== null) {
        post(answer, form.querySelector("textarea").value).then(function (ok) {
          if (!ok) return;
          status.textContent = "Thanks, the authors will see your comment.";
          comment.hidden = true;
        });
      }
    });
  }

  // Live preview: authors' pages reload when the file is saved; readers get a notice.
  function setupLiveArticle() {
    var article = document.querySelector("article[data-version-url]");
    if (!article) return;
    var known = article.dataset.version;
    var knownProblem = article.dataset.problem || "";
    var busy = false;
    setInterval(function () {
      if (busy || document.visibilityState !== "visible") return;
      busy = true;
      fetch(article.dataset.versionUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          busy = false;
          if (!data) return;
          var problem = data.problem || "";
          if (data.version === known && problem === knownProblem) return;
          known = data.version;
          knownProblem = problem;
          if (article.dataset.live === "reload") { window.location.reload(); return; }
          article.querySelector(".changed-notice").hidden = false;
        })
        .catch(function () { busy = false; });
    }, 1000);
  }

  // An article opened from a result (?h=<the search>) shows the searched words marked, with
  // a button that clears them.
  function highlightSearchedWords() {
    var words = (new URLSearchParams(window.location.search).get("h") || "")
      .toLowerCase().split(/[^\p{L}\p{N}_.-]+/u).filter(function (w) { return w.length > 1; });
    var body = document.querySelector(".article .body");
    if (!words.length || !body) return;
    var escaped = words.map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); });
    var pattern = new RegExp("(^|[^\\p{L}\\p{N}])(" + escaped.join("|") + ")", "giu");
    var walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    var marked = 0;
    nodes.forEach(function (node) {
      if (node.parentElement.closest("pre, code, a, mark")) return;
      var text = node.nodeValue, last = 0, found, piece = document.createDocumentFragment();
      pattern.lastIndex = 0;
      while ((found = pattern.exec(text))) {
        var start = found.index + found[1].length;
        piece.appendChild(document.createTextNode(text.slice(last, start)));
        var mark = document.createElement("mark");
        mark.className = "searched";
        mark.textContent = found[2];
        piece.appendChild(mark);
        last = start + found[2].length;
        marked += 1;
      }
      if (last === 0) return;
      piece.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(piece, node);
    });
    if (!marked) return;
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "clear-highlights";
    clear.textContent = "Clear highlights (" + marked + ")";
    clear.addEventListener("click", function () {
      body.querySelectorAll("mark.searched").forEach(function (mark) {
        mark.replaceWith(document.createTextNode(mark.textContent));
      });
      body.normalize();
      clear.remove();
    });
    document.querySelector(".article header").appendChild(clear);
  }

  // Result links carry ?from=<search>.<rank> so clicks can be counted, and ?h= the words
  // to mark; keep the address clean.
  function dropTrackingParameter() {
    var params = new URLSearchParams(window.location.search);
    if (!params.has("from") && !params.has("h")) return;
    params.delete("from");
    params.delete("h");
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  }

  // On a phone the filters start folded above the results (open without JavaScript).
  function foldFiltersOnPhones(root) {
    if (!window.matchMedia("(max-width: 800px)").matches) return;
    (root || document).querySelectorAll("details.facets-panel").forEach(function (panel) { panel.open = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    foldFiltersOnPhones();
    setupSearchAsYouType();
    setupAutocomplete();
    setupCopyButtons();
    setupFeedback();
    highlightSearchedWords();
    dropTrackingParameter();
    setupLiveArticle();
  });
})();
