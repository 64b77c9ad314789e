// Small progressive enhancements only; every page works without JavaScript.
// No inline script or event handler anywhere (the Content-Security-Policy forbids them): behaviour is
// attached here, to elements marked with data- attributes.
document.addEventListener("DOMContentLoaded", () => {
  // Auto-submit the queue filter form when a select changes.
  document.querySelectorAll("form.filters select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.requestSubmit());
  });
  // Ask before irreversible actions.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Print buttons (the monthly report).
  document.querySelectorAll("button[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
});
