/** A prediction on the page: the top five with bars, and every logit for the curious (and the test). */
import type { PredictionReport } from './protocol.js';

/** Renders the top five into `list` and the logits into `logits` (when given). */
export function showPrediction(report: PredictionReport, list: HTMLElement, logits?: HTMLElement): void {
  list.replaceChildren(
    ...report.top.map((p) => {
      const li = document.createElement('li');
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.round(p.probability * 120)}px`;
      li.append(`${p.label} ${(100 * p.probability).toFixed(1)}%`, bar);
      return li;
    }),
  );
  if (logits) logits.textContent = JSON.stringify(report.logits.map((v) => Number(v.toFixed(6))));
}
