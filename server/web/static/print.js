// The printouts' button: opens the browser's print dialog (no inline handler, for the CSP).
document.querySelectorAll("[data-print]").forEach(button => button.addEventListener("click", () => window.print()));
