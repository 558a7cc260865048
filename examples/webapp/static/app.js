// Calls /api/me with the access token the page was rendered with.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("call-api");
  const out = document.getElementById("api-result");
  if (!button || !out) return;
  button.addEventListener("click", async () => {
    out.textContent = "…";
    try {
      const res = await fetch("/api/me", {
        headers: { Authorization: "Bearer " + button.dataset.accessToken },
      });
      out.textContent = res.status + " " + res.statusText + "\n" + (await res.text());
    } catch (err) {
      out.textContent = String(err);
    }
  });
});
