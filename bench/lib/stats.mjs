// Summaries for benchmark samples. These machines are noisy: report min / median / max over repeats and
// compare ratios measured in the same run, never single timings.

/** The q-quantile (0..1) of numbers, by nearest rank. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** `{ min, median, max, n }` of repeated measurements. */
export function summary(values) {
  return { min: Math.min(...values), median: quantile(values, 0.5), max: Math.max(...values), n: values.length };
}

/** Formats a number with a fixed number of significant figures and thousands separators. */
export function fmt(value, digits = 3) {
  if (!Number.isFinite(value)) return String(value);
  const rounded = Number(value.toPrecision(digits));
  return rounded.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** `min / median / max` as one cell. */
export function cell(s, digits = 3) {
  return `${fmt(s.min, digits)} / ${fmt(s.median, digits)} / ${fmt(s.max, digits)}`;
}
