// ovp's API docs page (GET /docs): Swagger UI over the OpenAPI document this server serves.
// A file rather than an inline script, so that the page's Content-Security-Policy can forbid inline scripts.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "v2/openapi.json", // relative to /docs, so the page also works behind a path prefix
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no badge from an online validator: the page loads nothing from outside
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
