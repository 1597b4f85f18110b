// The dashboard refreshes itself: every 15 s it fetches /dashboard/panels with the X-Mamori-Poll
// header (a refresh is not someone at the screen, so the idle lock still comes) and swaps the
// panels in. While someone types a note in an alert form the swap waits, so nothing typed is lost.
(function () {
  const EVERY_MS = 15000;
  const box = document.getElementById("dash-panels"), status = document.getElementById("dash-status");
  const again = document.getElementById("dash-refresh");
  if (!box || !status) return;
  let updated = status.dataset.updated, busy = false;

  function say(template, cls) {
    status.textContent = template.replace("{time}", updated);
    status.classList.toggle("error", cls === "error");
    if (again) again.hidden = cls !== "error";
  }
  function typing() {
    // Someone is writing a note, or has one half-written: do not replace their form.
    const active = document.activeElement;
    if (active && box.contains(active) && (active.tagName === "INPUT" || active.tagName === "TEXTAREA")) return true;
    return Array.from(box.querySelectorAll("input[type=text], textarea")).some(el => el.value.trim() !== "");
  }

  async function refresh() {
    if (busy) return;
    if (typing()) { say(box.dataset.msgPaused); return; }
    busy = true;
    box.setAttribute("aria-busy", "true");
    try {
      const r = await fetch(box.dataset.src, {headers: {"X-Mamori-Poll": "1"}, credentials: "same-origin",
                                              cache: "no-store", redirect: "manual"});
      if (r.status === 401) {
        const body = await r.json().catch(() => ({}));
        if (body.locked && window.mamoriLock) { window.mamoriLock(); return; }
        location.href = body.login || ("/login?next=" + encodeURIComponent(location.pathname));
        return;
      }
      if (!r.ok) throw new Error("status " + r.status);
      const html = await r.text();
      if (typing()) { say(box.dataset.msgPaused); return; }  // they started typing while we waited
      const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.id : null;
      box.innerHTML = html;
      if (focused) { const el = document.getElementById(focused); if (el) el.focus(); }
      const fresh = box.querySelector("[data-updated]");
      if (fresh) updated = fresh.dataset.updated;
      say(box.dataset.msgUpdated);
    } catch (err) {
      say(box.dataset.msgFailed, "error");
    } finally {
      busy = false;
      box.removeAttribute("aria-busy");
    }
  }

  setInterval(() => { if (!document.hidden) refresh(); }, EVERY_MS);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  document.addEventListener("mamori:unlocked", refresh);
  if (again) again.addEventListener("click", refresh);
  window.mamoriDashboardRefresh = refresh;  // for tests and the browser console
})();
