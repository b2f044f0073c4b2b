// Latency histogram: exact counts in 0.1 ms buckets up to 60 s (beyond: the last bucket), exact max.
// Millions of samples per window cost a few hundred KiB instead of an array of every sample.
const BUCKET_MS = 0.1;
const BUCKETS = 600_000;

export class Histogram {
  counts = new Uint32Array(BUCKETS);
  n = 0;
  max = -Infinity;
  min = Infinity;

  record(ms) {
    this.counts[Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)))]++;
    this.n++;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  /** The q-quantile in ms (upper edge of its bucket). */
  quantile(q) {
    if (this.n === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min((i + 1) * BUCKET_MS, this.max);
    }
    return this.max;
  }

  summary() {
    return { n: this.n, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.n ? this.max : NaN, min: this.n ? this.min : NaN };
  }
}
