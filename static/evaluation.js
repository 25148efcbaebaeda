// The tests and the survey. When an answer could not be sent (the signal dropped), the line
// that counts the saved answers says so. Nothing is lost: the next change, "Simpan" or "Kirim"
// sends every answer of the page again, and a successful save puts the count back.
(function () {
  "use strict";
  // with JavaScript each answer is sent as it is given: the page says so instead of "Simpan"
  function saysSaved() {
    document.querySelectorAll("[data-js-text]").forEach(function (element) {
      element.textContent = element.dataset.jsText;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", saysSaved);
  else saysSaved();
  document.addEventListener("htmx:error", function () {
    var note = document.getElementById("tersimpan");
    if (!note || !note.dataset.gagal) return;
    note.textContent = note.dataset.gagal;
    note.classList.add("error");
  });
})();
