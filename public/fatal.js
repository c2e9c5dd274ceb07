// The SPA's last resort, loaded before the app. A panic in the wasm ends in a
// trap (`WebAssembly.RuntimeError: unreachable`), and a wasm that cannot be
// compiled or linked fails the same way: the Rust side is then dead, so it
// cannot show anything itself. This script, which never calls into the wasm,
// notices the trap and replaces the frozen page with an explanation and a
// Reload button, instead of leaving a screen that silently stops answering.
// A plain script file (no inline code), so a strict Content-Security-Policy
// (`script-src 'self'`) allows it.
(function () {
  "use strict";
  var shown = false;

  function isWasmFailure(error) {
    return typeof WebAssembly !== "undefined" && error != null &&
      (error instanceof WebAssembly.RuntimeError ||
       error instanceof WebAssembly.CompileError ||
       error instanceof WebAssembly.LinkError);
  }

  function element(tag, text, attributes) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    return node;
  }

  function show() {
    if (shown || !document.body) return;
    shown = true;
    var page = element("main", "", { "class": "fatal", "role": "alert", "data-testid": "fatal-error" });
    page.appendChild(element("h1", "Something went wrong"));
    page.appendChild(element("p",
      "The application stopped because of an internal error and can no longer respond. " +
      "Reloading the page starts it again; you stay signed in."));
    var reload = element("button", "Reload", { "type": "button", "class": "button primary", "data-testid": "reload-button" });
    reload.addEventListener("click", function () { window.location.reload(); });
    page.appendChild(reload);
    document.body.replaceChildren(page);
    reload.focus();
  }

  window.addEventListener("error", function (event) {
    if (isWasmFailure(event.error)) show();
  });
  window.addEventListener("unhandledrejection", function (event) {
    if (isWasmFailure(event.reason)) show();
  });
})();
