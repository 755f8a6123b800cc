/* Shuhui page behaviour that every page shares. Each part is an enhancement: without scripts the
   menu is a plain list and tables still scroll, so nothing here is needed to use a page. */
(function () {
  "use strict";

  /* The header's menu button (phones): shown only when this script runs; it folds the modules and
     the account links away and says whether they are open (aria-expanded). */
  function setUpMenu() {
    var bar = document.querySelector("header.topbar");
    var button = bar && bar.querySelector(".menu-toggle");
    var menu = document.getElementById("site-menu");
    if (!bar || !button || !menu) { return; }
    button.hidden = false;
    bar.classList.add("has-toggle");
    function show(open) {
      bar.classList.toggle("open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("open")) {
        show(false);
        button.focus();
      }
    });
  }

  /* Every data table sits in a wrapper that scrolls sideways. Templates write the wrapper; a table
     that lacks one gets it here. A wrapper that does scroll can be reached and scrolled with the
     keyboard (tabindex), and a screen reader hears what it holds. */
  function wrapTables() {
    document.querySelectorAll("table.grid").forEach(function (table) {
      var parent = table.parentElement;
      if (parent && parent.classList.contains("table-wrap")) { return; }
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
  }

  function tableLabel(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption) { return caption.textContent.trim(); }
    var node = wrap;
    while (node && node !== document.body) {
      var previous = node.previousElementSibling;
      while (previous) {
        if (/^H[1-6]$/.test(previous.tagName)) { return previous.textContent.trim(); }
        previous = previous.previousElementSibling;
      }
      node = node.parentElement;
      if (node && node.tagName === "SECTION") {
        var heading = node.querySelector("h1, h2, h3");
        if (heading) { return heading.textContent.trim(); }
      }
    }
    return document.documentElement.lang === "en" ? "Table" : "表格";
  }

  function markScrollable() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) { wrap.setAttribute("aria-label", tableLabel(wrap)); }
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
      }
    });
  }

  /* A search box with data-suggest="<url>" and a <datalist>: as the person types, the titles
     the URL returns (?q=…, JSON {suggestions: [{title}]}) become the list's options, asked at most
     once per pause in typing (debounced) and ignored when an older answer arrives late. */
  function setUpSuggestions() {
    document.querySelectorAll("input[data-suggest][list]").forEach(function (input) {
      var list = document.getElementById(input.getAttribute("list"));
      if (!list) { return; }
      var timer = 0;
      var asked = "";
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          var q = input.value.trim();
          if (q === asked) { return; }
          asked = q;
          if (!q || q.length > 40) { list.replaceChildren(); return; }
          fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q), {
            headers: { Accept: "application/json" }, credentials: "same-origin"
          }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
            .then(function (body) {
              if (asked !== q) { return; }
              list.replaceChildren.apply(list, body.suggestions.map(function (s) {
                var option = document.createElement("option");
                option.value = s.title;
                return option;
              }));
            }).catch(function () { /* the box still searches without suggestions */ });
        }, 200);
      });
    });
  }

  function ready() {
    setUpMenu();
    setUpSuggestions();
    wrapTables();
    markScrollable();
    var pending = 0;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(markScrollable, 150);
    });
    // htmx swaps in fragments that may carry tables.
    document.body.addEventListener("htmx:afterSettle", function () { wrapTables(); markScrollable(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
