// mockcrm review page: the live request journal. Asks the server every
// second for the requests recorded since it last asked and puts them on
// top of the list. No other script runs on the page.
"use strict";
(function () {
  var journal = document.getElementById("journal");
  if (!journal) return;
  var status = document.getElementById("live-status");
  var after = journal.getAttribute("data-after") || "0";
  var feed = journal.getAttribute("data-feed");
  var KEEP = 500;

  function say(text, live) {
    if (!status) return;
    status.textContent = text;
    status.className = live ? "live on" : "live off";
  }

  function add(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = Array.prototype.slice.call(holder.querySelectorAll("details.request"));
    if (fresh.length === 0) return;
    var empty = document.getElementById("journal-empty");
    if (empty) empty.remove();
    // Newest first in the answer; insert oldest first so order holds.
    for (var i = fresh.length - 1; i >= 0; i--) {
      var entry = fresh[i];
      if (document.getElementById(entry.id)) continue;
      entry.classList.add("new");
      journal.insertBefore(entry, journal.firstChild);
    }
    var all = journal.querySelectorAll("details.request");
    for (var j = KEEP; j < all.length; j++) all[j].remove();
  }

  function poll() {
    fetch(feed + "?after=" + encodeURIComponent(after), {
      credentials: "same-origin",
      headers: { accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        var next = response.headers.get("x-journal-after");
        return response.text().then(function (html) {
          add(html);
          if (next) after = next;
          say("Live", true);
        });
      })
      .catch(function () {
        say("Paused: the server does not answer; retrying", false);
      })
      .then(function () {
        setTimeout(poll, 1000);
      });
  }

  setTimeout(poll, 1000);
})();
