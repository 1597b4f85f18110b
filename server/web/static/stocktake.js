// An open stock-take follows its taps: every 3 s it fetches /stocktakes/{id}/live with the
// X-Mamori-Poll header (a refresh is not someone at the screen, so the idle lock still comes) and
// swaps the list in. When the stock-take was closed elsewhere, the page reloads to its result.
(function () {
  const EVERY_MS = 3000;
  const box = document.getElementById("st-live"), status = document.getElementById("st-status");
  if (!box || !status) return;
  let updated = status.dataset.updated, busy = false;

  function say(template, error) {
    status.textContent = template.replace("{time}", updated);
    status.classList.toggle("error", !!error);
  }

  async function refresh() {
    if (busy) return;
    busy = true;
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
      if (html.indexOf('data-closed="1"') !== -1) { location.reload(); return; }
      box.innerHTML = html;
      const fresh = box.querySelector("[data-updated]");
      if (fresh) updated = fresh.dataset.updated;
      say(box.dataset.msgUpdated);
    } catch (err) {
      say(box.dataset.msgFailed, true);
    } finally {
      busy = false;
    }
  }

  setInterval(() => { if (!document.hidden) refresh(); }, EVERY_MS);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  document.addEventListener("mamori:unlocked", refresh);
})();
