/* Executable edition of "Rewarding KAM performance": page behaviour.
 * - Replaces each figure's static SVG with the interactive Vega chart (tooltips),
 *   using the Vega bundle served from this site's own _static folder.
 * - Tells readers of an older edition where the latest edition is, from the
 *   site-level editions.js (written when an edition is published), so earlier
 *   editions' pages never need rebuilding to stay current.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("kam-js");

  function embedCharts() {
    if (typeof window.vegaEmbed !== "function") {
      return; /* no bundle: the static SVG stays in place */
    }
    document.querySelectorAll(".kam-figure").forEach(function (figure) {
      var specNode = figure.querySelector("script.kam-spec");
      var target = figure.querySelector(".kam-interactive");
      if (!specNode || !target) {
        return;
      }
      var spec = JSON.parse(specNode.textContent);
      window
        .vegaEmbed(target, spec, { renderer: "canvas", actions: false, tooltip: { theme: "light" } })
        .then(function () {
          figure.classList.add("kam-ready");
        })
        .catch(function (error) {
          figure.classList.add("kam-failed");
          console.warn("Interactive chart unavailable; showing the static chart.", error);
        });
    });
  }

  function thisScript() {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = 0; i < scripts.length; i++) {
      if (/_static\/kam\.js(\?.*)?$/.test(scripts[i].src)) {
        return scripts[i].src;
      }
    }
    return null;
  }

  /* Site root: strip "_static/kam.js" and, inside an edition, "editions/<wave>/". */
  function siteRoot() {
    var src = thisScript();
    if (!src) {
      return null;
    }
    var bookRoot = src.replace(/_static\/kam\.js(\?.*)?$/, "");
    return bookRoot.replace(/editions\/[^\/]+\/$/, "");
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

  function loadEditions() {
    var root = siteRoot();
    if (root === null) {
      return;
    }
    window.kamEditionsLoaded = function (info) {
      showEditions(info, root);
    };
    var script = document.createElement("script");
    script.src = root + "editions.js";
    script.onerror = function () {
      /* a single edition built on its own has no site index: nothing to show */
    };
    document.head.appendChild(script);
  }

  function start() {
    embedCharts();
    loadEditions();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
