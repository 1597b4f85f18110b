// The header's drop-down menus (<details>): one open at a time; Escape, a click elsewhere or moving the
// focus out closes it. Without this script the menus still open and close with Enter, Space or a click.
(function () {
  const menus = Array.from(document.querySelectorAll("header.top details.group"));
  const close = (menu, refocus) => {
    if (!menu.open) return;
    menu.open = false;
    if (refocus) menu.querySelector("summary").focus();
  };
  menus.forEach(menu => {
    menu.addEventListener("toggle", () => {
      if (menu.open) menus.forEach(other => { if (other !== menu) close(other, false); });
    });
    menu.addEventListener("focusout", (event) => {
      if (!menu.contains(event.relatedTarget) && event.relatedTarget) close(menu, false);
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = menus.find(menu => menu.open);
    if (open) close(open, open.contains(document.activeElement));
  });
  document.addEventListener("click", (event) => {
    menus.forEach(menu => { if (!menu.contains(event.target)) close(menu, false); });
  });
  // The idle lock covers the page: no menu stays open over what it hides.
  document.addEventListener("mamori:locked", () => menus.forEach(menu => close(menu, false)));
})();
