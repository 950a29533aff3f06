// A page opened from disk (file://) loads no ES module and no model, so the
// widgets would wait forever: say in each of them what to do instead. A classic
// script, because it is the only kind a page opened that way still runs.
(function () {
  "use strict";
  if (location.protocol !== "file:") return;
  var MESSAGE = "This widget needs the site served over HTTP: a page opened from a file " +
    "(file://) cannot load its model. Run `mkdocs serve`, or `python3 -m http.server` in " +
    "the built site folder and open http://localhost:8000/.";
  function explain() {
    var widgets = document.querySelectorAll(".tfjs-widget");
    for (var i = 0; i < widgets.length; i++) {
      widgets[i].setAttribute("data-state", "error");
      widgets[i].setAttribute("aria-busy", "false");
      var status = widgets[i].querySelector(".tfjs-status");
      if (status) status.textContent = MESSAGE;
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", explain);
  else explain();
})();
