// Summary statistics over repeated runs (mean ± sample standard deviation).

export interface Stat {
  mean: number;
  sd: number;
}

export function summarize(values: number[]): Stat {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { mean: NaN, sd: NaN };
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const variance = finite.length > 1 ? finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1) : 0;
  return { mean, sd: Math.sqrt(variance) };
}

export function formatStat(s: Stat, digits = 4): string {
  if (!Number.isFinite(s.mean)) return '—';
  return s.sd > 0 ? `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}` : s.mean.toFixed(digits);
}
