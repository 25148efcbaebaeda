// The tests and the survey: when an answer could not be sent (the signal dropped), the line
// that counts the saved answers says so. Nothing is lost: the next change, "Simpan" or "Kirim"
// sends every answer of the page again, and a successful save puts the count back.
(function () {
  "use strict";
  document.addEventListener("htmx:error", function () {
    var note = document.getElementById("tersimpan");
    if (!note || !note.dataset.gagal) return;
    note.textContent = note.dataset.gagal;
    note.classList.add("error");
  });
})();
