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
      const html = await window.mamoriPoll(box.dataset.src);
      if (html === null) return;
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
