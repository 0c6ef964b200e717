/** The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network); see ../report.ts. */
import { renderRunReport } from '../report';
import type { ReportWriter } from './writer';

export const htmlReport: ReportWriter = {
  write: (run, data) => renderRunReport(run, data.generatedMs, data),
};
