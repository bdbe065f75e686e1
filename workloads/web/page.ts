export interface PageData {
  pod: string;
  version: string;
  api: { version?: string; pod?: string; error?: string };
  prediction: { body?: unknown; error?: string };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page: what the server saw of the api, plus a form that calls /api/v1/predict through the ingress.
 * The result's `data-state` (pending, ok, error) tells a browser journey when the answer is in.
 */
export function renderPage(data: PageData): string {
  const api = data.api.error
    ? `<p class="error" id="api-error">api unavailable: ${escapeHtml(data.api.error)}</p>`
    : `<p id="api-version">api ${escapeHtml(data.api.version ?? '?')} (pod ${escapeHtml(data.api.pod ?? '?')})</p>`;
  const prediction = data.prediction.error
    ? `<p class="error" id="prediction-error">prediction unavailable: ${escapeHtml(data.prediction.error)}</p>`
    : `<pre id="prediction">${escapeHtml(JSON.stringify(data.prediction.body, null, 2))}</pre>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>AI platform</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:40rem}.error{color:#b00020}</style>
</head>
<body>
<h1>AI platform</h1>
<p id="web-version">web ${escapeHtml(data.version)} (pod ${escapeHtml(data.pod)})</p>
${api}
<h2>Server-side prediction</h2>
${prediction}
<h2>Try it</h2>
<form id="predict-form">
<label>sensor <input name="sensor" value="sensor-1"></label>
<label>value <input name="value" type="number" step="any" value="21.5"></label>
<button type="submit">predict</button>
</form>
<pre id="client-prediction"></pre>
<script>
document.getElementById('predict-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const query = new URLSearchParams({ sensor: form.get('sensor'), value: form.get('value') });
  const out = document.getElementById('client-prediction');
  out.dataset.state = 'pending';
  try {
    const res = await fetch('/api/v1/predict?' + query);
    out.textContent = res.status + ' ' + JSON.stringify(await res.json(), null, 2);
    out.dataset.state = res.ok ? 'ok' : 'error';
  } catch (e) {
    out.textContent = 'request failed: ' + e;
    out.dataset.state = 'error';
  }
});
</script>
</body>
</html>
`;
}
