// Keeps the countdowns current between page loads; the page states them correctly without it.
(function () {
  function text(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000), days = Math.floor(minutes / 1440),
        hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    var span = days ? days + " d " + hours + " h" : hours ? hours + " h " + mins + " min" : mins + " min";
    return ms <= 0 ? "overdue by " + span : "in " + span;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-due")) - now;
      el.textContent = text(ms);
      el.classList.toggle("late", ms <= 0);
    });
  }
  setInterval(tick, 30000);
})();
