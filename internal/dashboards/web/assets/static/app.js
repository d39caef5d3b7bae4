// twitchd serve: pick a subject or site and the page reloads with it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("pick");
  if (!form) { return; }
  var subject = form.elements.namedItem("subject");
  var site = form.elements.namedItem("site");
  if (subject) {
    subject.addEventListener("change", function () {
      // Another subject has other sites and another time range.
      if (site) { site.disabled = true; }
      form.elements.namedItem("from").disabled = true;
      form.elements.namedItem("to").disabled = true;
      form.submit();
    });
  }
  if (site) {
    site.addEventListener("change", function () { form.submit(); });
  }
});
