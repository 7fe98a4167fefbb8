// Light enhancement of the staff's page; everything works without it.
(function () {
  "use strict";
  // Times follow the browser's zone unless one was chosen on the page: tell
  // the server the zone once (a cookie), and show the page again in it.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var body = document.body;
    if (zone && document.cookie.indexOf("ivr_browser_tz=") < 0) {
      document.cookie = "ivr_browser_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
      if (body.dataset.zoneChosen !== "true" && body.dataset.zone !== zone) {
        location.reload();
        return;
      }
    }
  } catch (e) { /* an old browser: the stored zone stays */ }

  // A button that removes something asks first.
  document.addEventListener("submit", function (ev) {
    var b = ev.submitter;
    if (b && b.dataset.confirm && !window.confirm(b.dataset.confirm)) {
      ev.preventDefault();
    }
  });

  // A page's live state: reload while nobody is typing.
  var live = parseInt(document.body.dataset.live || "0", 10);
  if (live > 0) {
    setInterval(function () {
      var a = document.activeElement;
      if (!a || (a.tagName !== "INPUT" && a.tagName !== "SELECT" && a.tagName !== "TEXTAREA")) {
        location.reload();
      }
    }, live * 1000);
  }
})();
