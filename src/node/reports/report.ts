/**
 * Self-contained HTML reports of runs: spec, environment, metric tables and plots (inline SVG,
 * inline CSS, no scripts, no external resources). Pure: the same function serves the CLI,
 * the web host and the Electron app.
 */
import type { RunDetail } from '../../common/contract';
import { reportSectionOf } from '../experiments/registry';
import type { ReportArtifacts } from '../experiments/shared/kind';
import { escapeHtml, formatTime } from '../../common/format';
import { pictureBytesBySize } from '../../common/experiments/shared/dataSource';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde2ea;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}
th,td{border-bottom:1px solid #e6e9ef;padding:4px 8px;text-align:right}th{background:#f4f6f9}
td:nth-child(2),th:nth-child(2){text-align:left}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}
dt{color:#5b6475}dd{margin:0}pre{background:#f4f6f9;padding:.8rem;overflow:auto;font-size:12px}
.muted{color:#5b6475;font-size:12px}.plots{display:flex;flex-wrap:wrap;gap:16px}.plots svg{max-width:100%;height:auto}
.banner{padding:.6rem .8rem;border-radius:6px;background:#fff4e5;border:1px solid #f0b35b}
.status-done{color:#1a7f37}.status-failed,.status-interrupted{color:#c0362c}.status-cancelled{color:#8a6d00}`;

export type RunReportOptions = ReportArtifacts;

export function renderRunReport(run: RunDetail, generatedMs: number = Date.now(), options: RunReportOptions = {}): string {
  const section = reportSectionOf(run, options);
  const incomplete =
    run.status === 'done'
      ? ''
      : `<p class="banner">This run is <b>${escapeHtml(run.status)}</b>${run.error ? `: ${escapeHtml(run.error)}` : ''}. The results below are partial and not a complete run.</p>`;
  const env = Object.entries(run.versions)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  const params = Object.entries(run.params)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  const duration = run.startedMs !== null && run.finishedMs !== null ? `${((run.finishedMs - run.startedMs) / 1000).toFixed(1)} s` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Run ${run.id}: ${escapeHtml(run.experimentName)} — Attention Workbench</title>
<style>${STYLE}</style></head>
<body>
<h1>Run ${run.id}: ${escapeHtml(run.experimentName)}</h1>
<p class="muted">Attention Workbench report, generated ${escapeHtml(formatTime(generatedMs))}</p>
${incomplete}
<h2>Run</h2>
<dl>
<dt>kind</dt><dd>${escapeHtml(run.kind)}</dd>
<dt>status</dt><dd class="status-${escapeHtml(run.status)}">${escapeHtml(run.status)}</dd>
<dt>created</dt><dd>${escapeHtml(formatTime(run.createdMs))}</dd>
<dt>started</dt><dd>${escapeHtml(formatTime(run.startedMs))}</dd>
<dt>finished</dt><dd>${escapeHtml(formatTime(run.finishedMs))}</dd>
<dt>duration</dt><dd>${escapeHtml(duration)}</dd>
<dt>execution provider</dt><dd>${escapeHtml(run.executionProvider ?? 'unknown')}</dd>
<dt>seed</dt><dd>${run.seed ?? ''}</dd>
<dt>spec hash</dt><dd><code>${escapeHtml(run.specHash)}</code></dd>
${run.tags.length ? `<dt>tags</dt><dd>${run.tags.map(escapeHtml).join(', ')}</dd>` : ''}
</dl>
${section}
<h2>Spec</h2>
<pre>${escapeHtml(JSON.stringify(run.spec, pictureBytesBySize, 2))}</pre>
<h2>Environment</h2>
<dl>${env}</dl>
<h2>Parameters</h2>
<dl>${params}</dl>
</body></html>
`;
}
