// The dialer's live part: the agent's call events (Server-Sent Events, relayed by the UI) open
// the ringing call's records above the dialer. No build step, no other host.
(function () {
  "use strict";
  var box = document.getElementById("incoming");
  if (!box || !window.EventSource) {
    return;
  }
  var source = new EventSource("/ui/dialer/events");
  source.addEventListener("ready", function () {
    box.setAttribute("data-ready", "1");
  });
  source.addEventListener("call", function (message) {
    var call = JSON.parse(message.data);
    if (call.state !== "ringing" && call.state !== "answered") {
      return;
    }
    if (box.getAttribute("data-call-id") === call.call_id) {
      return;
    }
    box.setAttribute("data-call-id", call.call_id);
    var url = "/ui/dialer/calls/" + encodeURIComponent(call.call_id);
    window.htmx.ajax("GET", url, { target: "#incoming", swap: "innerHTML" });
  });
})();
