// bulkpo ui: the drop zone, and the "only rows with problems" filter kept across re-renders.
(function () {
  "use strict";
  var onlyProblems = false;

  function dropZone() {
    var zone = document.getElementById("dropzone");
    if (!zone || zone.dataset.ready) return;
    zone.dataset.ready = "1";
    var input = document.getElementById("file");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (ev) { ev.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (ev) {
      if (ev.dataTransfer && ev.dataTransfer.files.length) {
        input.files = ev.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function filter() {
    document.querySelectorAll("table.grid").forEach(function (t) {
      t.classList.toggle("only-problems", onlyProblems);
    });
    document.querySelectorAll("input.only-problems").forEach(function (box) {
      box.checked = onlyProblems;
    });
  }

  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("input.only-problems")) {
      onlyProblems = ev.target.checked;
      filter();
    }
  });
  document.addEventListener("DOMContentLoaded", function () { dropZone(); filter(); });
  document.addEventListener("htmx:afterSwap", function (ev) {
    dropZone();
    filter();
    // The import just started: bring its progress into view (it sits above the grid).
    if (ev.detail && ev.detail.target && ev.detail.target.id === "run") {
      ev.detail.target.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  });
})();
