// Browsers without module scripts cannot run the offline outbox: say so instead of failing silently.
(function () {
  var line = document.getElementById("offline-unsupported");
  if (line) line.hidden = false;
})();
