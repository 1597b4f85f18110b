// Enrolment: "tap the new card on reader X now". Starts a wait on the server, then asks every
// second (for up to 60 s) for the first unregistered card that reader has read, and fills the
// field with it. Without this script the box stays hidden and the ID can be typed.
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  document.querySelectorAll("[data-enrol]").forEach((box) => {
    const target = document.getElementById(box.dataset.target);
    const select = box.querySelector("[data-enrol-reader]");
    const start = box.querySelector("[data-enrol-start]");
    const status = box.querySelector("[data-enrol-status]");
    let timer = null;
    box.hidden = false;

    function say(message) { status.hidden = false; status.textContent = message; }
    function done() { clearTimeout(timer); timer = null; start.disabled = false; }
    function locked(r) {
      if (r.status !== 401) return false;
      done();
      if (window.mamoriLock) window.mamoriLock();
      return true;
    }

    start.addEventListener("click", async () => {
      done();
      start.disabled = true;
      const reader = select.value;
      let wait;
      try {
        const r = await fetch("/admin/enrol", {
          method: "POST", body: new URLSearchParams({reader}),
          headers: {"X-CSRF-Token": csrf, "X-Requested-With": "fetch"},
        });
        if (locked(r)) return;
        if (!r.ok) throw new Error(r.status);
        wait = await r.json();
      } catch (e) { say(box.dataset.msgFailed); done(); return; }
      say(box.dataset.msgWait.replace("{reader}", wait.reader_name));
      const until = Date.now() + 60000;
      const url = "/admin/enrol/" + encodeURIComponent(wait.reader) + "?since=" + encodeURIComponent(wait.since) +
        "&want=" + encodeURIComponent(box.dataset.want || "unknown");
      async function ask() {
        try {
          const r = await fetch(url, {headers: {"X-Mamori-Poll": "1"}});
          if (locked(r)) return;
          if (r.ok) {
            const answer = await r.json();
            if (answer.uid) {
              target.value = answer.uid;
              target.dispatchEvent(new Event("input", {bubbles: true}));
              say(box.dataset.msgGot.replace("{uid}", answer.uid));
              done();
              target.focus();
              return;
            }
          }
        } catch (e) { /* a dropped request: ask again */ }
        if (Date.now() >= until) { say(box.dataset.msgTimeout); done(); return; }
        timer = setTimeout(ask, 1000);
      }
      timer = setTimeout(ask, 1000);
    });
  });
})();
