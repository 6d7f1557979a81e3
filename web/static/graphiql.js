// The GraphQL console: posts the query with the login session (and its CSRF token).
(function () {
  "use strict";
  const root = document.getElementById("graphiql");
  if (!root) return;
  const query = document.getElementById("gql-query");
  const variables = document.getElementById("gql-variables");
  const result = document.getElementById("gql-result");

  async function run() {
    let vars;
    try { vars = JSON.parse(variables.value || "{}"); } catch (e) {
      result.textContent = "Variables are not valid JSON: " + e.message;
      return;
    }
    result.textContent = "…";
    const started = performance.now();
    try {
      const response = await fetch("/api/graphql", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf || "" },
        body: JSON.stringify({ query: query.value, variables: vars }),
      });
      const text = await response.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
      result.textContent = response.status + " · " + Math.round(performance.now() - started) + " ms\n" + shown;
    } catch (e) {
      result.textContent = "Request failed: " + e.message;
    }
  }

  document.getElementById("gql-run").addEventListener("click", run);
  query.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
  });
})();
