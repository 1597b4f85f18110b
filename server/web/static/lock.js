// The idle screen lock: after the lock's data-idle-ms without a key, click or touch, the page is covered and
// asks for the password again; what was on the page (and any half-filled form) stays under the cover.
(function () {
  const lock = document.getElementById("lock"), main = document.getElementById("main");
  const cfg = {idleMs: Number(lock.dataset.idleMs),
               csrf: document.querySelector('meta[name="csrf-token"]').content};
  let last = Date.now(), reported = Date.now(), locked = false;
  const heartbeatMs = Math.min(60000, cfg.idleMs / 4);

  function activity() {
    if (locked) return;
    last = Date.now();
    if (last - reported > heartbeatMs) {  // tell the server someone is here, now and then
      reported = last;
      fetch("/activity", {method: "POST", headers: {"X-CSRF-Token": cfg.csrf}, redirect: "manual"})
        .then(r => { if (r.status !== 204) show(); });
    }
  }
  // Everything but the lock itself: the header's links must not be reachable with Tab either.
  const behind = () => Array.from(document.body.children).filter(el => el !== lock && el.tagName !== "SCRIPT");
  function show() {
    if (locked) return;
    locked = true;
    behind().forEach(el => { el.inert = true; });
    main.classList.add("covered");
    lock.hidden = false;
    document.getElementById("lock-password").focus();
    document.dispatchEvent(new Event("mamori:locked"));
  }
  function hide() {
    locked = false;
    behind().forEach(el => { el.inert = false; });
    main.classList.remove("covered");
    lock.hidden = true;
    last = reported = Date.now();
  }
  ["keydown", "mousedown", "mousemove", "touchstart", "wheel"].forEach(e => addEventListener(e, activity, {passive: true}));
  setInterval(() => { if (!locked && Date.now() - last > cfg.idleMs) show(); }, 1000);
  window.mamoriLock = show;  // pages call it when the server answers a refresh with "locked"

  document.getElementById("lock-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = new FormData(event.target);
    body.append("csrf", cfg.csrf);
    const r = await fetch("/unlock", {method: "POST", body, headers: {"X-Requested-With": "fetch"}});
    event.target.reset();
    if (r.status === 204) { hide(); document.dispatchEvent(new Event("mamori:unlocked")); }
    else if (r.status === 401) { document.getElementById("lock-error").hidden = false; }
    else { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }
  });
})();
