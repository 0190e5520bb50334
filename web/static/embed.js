/* yure embed loader: <script src="https://yure.example/embed.js" data-prefs="13,14" async></script>
 * Inserts a read-only yure frame right after its own <script> tag. Attributes (all
 * optional): data-prefs (codes or regions), data-kinds, data-theme (light|dark),
 * data-mode (list|map), data-lang (ja|en), data-height (px, 120-2000).
 * The frame gets no cookies it could use, cannot navigate this page, and sends no Referer. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="/embed.js"]:not([data-yure-done])');
    script = all[all.length - 1];
  }
  if (!script || script.hasAttribute("data-yure-done")) return;
  script.setAttribute("data-yure-done", "");
  var rules = {
    prefs: /^[a-z0-9]{1,16}(,[a-z0-9]{1,16}){0,63}$/,
    kinds: /^[a-z]{1,16}(,[a-z]{1,16}){0,15}$/,
    theme: /^(light|dark)$/,
    mode: /^(list|map)$/,
    lang: /^(ja|en)$/,
    palette: /^(jma|cb)$/
  };
  var query = [];
  for (var name in rules) {
    var value = (script.getAttribute("data-" + name) || "").replace(/\s+/g, "").toLowerCase();
    if (rules[name].test(value)) query.push(name + "=" + value);
  }
  var height = parseInt(script.getAttribute("data-height"), 10);
  if (!(height >= 120 && height <= 2000)) height = 420;
  var frame = document.createElement("iframe");
  frame.src = new URL(script.src, location.href).origin + "/embed" + (query.length ? "?" + query.join("&") : "");
  frame.title = /^en$/.test(script.getAttribute("data-lang") || "") ? "yure: earthquake and tsunami information" : "yure 地震・津波情報";
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox");
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.setAttribute("credentialless", "");
  frame.className = "yure-embed";
  frame.style.width = "100%";
  frame.style.height = height + "px";
  frame.style.border = "0";
  frame.style.display = "block";
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
