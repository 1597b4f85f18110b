// Print buttons: <button data-print> prints the page (no inline handlers: the CSP runs only these files).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
