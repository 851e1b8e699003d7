/* Executable edition of "Rewarding KAM performance": page behaviour.
 * - Replaces each figure's static SVG with the interactive Vega chart (tooltips:
 *   option, count, percentage, base, 95% interval), using the Vega bundle served
 *   from this site's own _static folder. Without JavaScript, or if the chart
 *   fails, the static SVG stays; print always uses it (kam.css).
 * - Tells readers of an older edition where the latest edition is, from the
 *   site-level editions.js (written when an edition is published), so earlier
 *   editions' pages never need rebuilding to stay current.
 * - Shows and runs the buttons that copy a reference ("Cite this figure", the
 *   How to cite page).
 */
(function () {
  "use strict";
  document.documentElement.classList.add("kam-js");

  /* Each figure holds one chart per layout (wide, narrow: kam.css shows the one that fits); each is drawn
   * from its own spec, and the figure is ready when all are. */
  function embedCharts() {
    if (typeof window.vegaEmbed !== "function") {
      return; /* no bundle: the static SVG stays in place */
    }
    document.querySelectorAll(".kam-figure").forEach(function (figure) {
      var layouts = Array.from(figure.querySelectorAll(".kam-layout"));
      var views = {};
      Promise.all(layouts.map(function (layout) {
        var specNode = layout.querySelector("script.kam-spec");
        var target = layout.querySelector(".kam-interactive");
        if (!specNode || !target) {
          return Promise.reject(new Error("a figure layout without its spec"));
        }
        /* SVG, not canvas: scaled down to the width available by CSS, an SVG chart still
         * maps the pointer to the right bar, so tooltips stay correct. */
        return window
          .vegaEmbed(target, JSON.parse(specNode.textContent),
                     { renderer: "svg", actions: false, tooltip: { theme: "light" } })
          .then(function (result) {
            views[layout.getAttribute("data-kam-layout")] = result.view;
          });
      }))
        .then(function () {
          figure.kamViews = views; /* for the browser tests: each chart's scenegraph */
          figure.classList.add("kam-ready");
        })
        .catch(function (error) {
          figure.classList.add("kam-failed");
          console.warn("Interactive chart unavailable; showing the static chart.", error);
        });
    });
  }

  /* This book's root: the address of this script without "_static/kam.js" (null if
   * the script is not found). Inside an edition it ends with "editions/<wave>/". */
  function bookRoot() {
    var script = /_static\/kam\.js(\?.*)?$/;
    var scripts = document.querySelectorAll("script[src]");
    for (var i = 0; i < scripts.length; i++) {
      if (script.test(scripts[i].src)) {
        return scripts[i].src.replace(script, "");
      }
    }
    return null;
  }

  function editionOfPage() {
    var meta = document.querySelector('meta[name="kam-edition"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function showEditions(info, root) {
    var edition = editionOfPage();
    var latest = info.latest;
    if (edition && latest && edition !== latest) {
      var banner = document.createElement("div");
      banner.className = "kam-edition-banner";
      banner.setAttribute("role", "note");
      var link = document.createElement("a");
      link.href = root + "editions/" + encodeURIComponent(latest) + "/index.html";
      link.textContent = "Read the latest edition (" + latest + " survey)";
      banner.appendChild(document.createTextNode("You are reading the " + edition + " edition. "));
      banner.appendChild(link);
      banner.appendChild(document.createTextNode("."));
      var article = document.querySelector("main") || document.body;
      article.insertBefore(banner, article.firstChild);
    }
    var list = document.getElementById("kam-editions-list");
    if (list) {
      list.textContent = "";
      info.editions.forEach(function (item) {
        var entry = document.createElement("li");
        var a = document.createElement("a");
        a.href = root + "editions/" + encodeURIComponent(item.wave) + "/index.html";
        a.textContent = item.title;
        entry.appendChild(a);
        if (item.wave === latest) {
          entry.appendChild(document.createTextNode(" (latest)"));
        }
        list.appendChild(entry);
      });
    }
  }

  /* Every build has editions.js at its root (kamsurvey.sphinx_ext writes it; the site's
   * own is at the site root), but only a page inside editions/<wave>/ (an older edition
   * shows the banner) or one that lists the editions has a use for it: any other page
   * is the latest edition at the site root, so it asks for nothing. */
  function loadEditions() {
    var book = bookRoot();
    if (book === null) {
      return;
    }
    var edition = /editions\/[^\/]+\/$/;
    if (!document.getElementById("kam-editions-list") && !edition.test(book)) {
      return;
    }
    var root = book.replace(edition, ""); /* the site root: a book built on its own is its own */
    window.kamEditionsLoaded = function (info) {
      showEditions(info, root);
    };
    var script = document.createElement("script");
    script.src = root + "editions.js";
    script.onerror = function () {
      /* no editions index at the site root: the static list stays, and no banner */
    };
    document.head.appendChild(script);
  }

  /* Copy buttons: each copies the reference in the element its data-kam-copy names. They
   * are hidden in the HTML (without JavaScript a page shows no control that does nothing)
   * and shown here. Copying tries the Clipboard API (the reference as HTML, keeping the
   * style's italics, and as plain text), then the selection (execCommand, which also works
   * from file://, where the Clipboard API may be refused); the block's status line
   * (role="status") says "Copied", or, if neither worked, that the reference is selected
   * for the reader to copy. */
  function announce(button, message) {
    var block = button.closest(".kam-cite-forms");
    var status = block ? block.querySelector(".kam-copy-status") : null;
    if (!status) {
      return;
    }
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = message; /* emptied first, so that a second copy is announced again */
    }, 50);
  }

  function copyBySelection(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copyReference(button) {
    var node = document.getElementById(button.getAttribute("data-kam-copy"));
    if (!node) {
      return;
    }
    function bySelection() {
      if (copyBySelection(node)) {
        announce(button, "Copied");
      } else {
        announce(button, "Selected: press Ctrl+C (\u2318C on a Mac) to copy");
      }
    }
    var clipboard = navigator.clipboard;
    if (!clipboard || !window.isSecureContext) {
      bySelection();
      return;
    }
    var plain = node.textContent.replace(/\s+/g, " ").trim();
    var written;
    try {
      written = typeof window.ClipboardItem === "function" && clipboard.write
        ? clipboard.write([new window.ClipboardItem({
            "text/plain": new Blob([plain], { type: "text/plain" }),
            "text/html": new Blob([node.innerHTML], { type: "text/html" })
          })])
        : clipboard.writeText(plain);
    } catch (error) {
      bySelection();
      return;
    }
    written.then(function () {
      announce(button, "Copied");
    }, bySelection);
  }

  function copyButtons() {
    document.querySelectorAll("button.kam-copy[data-kam-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        copyReference(button);
      });
    });
  }

  function start() {
    embedCharts();
    loadEditions();
    copyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
