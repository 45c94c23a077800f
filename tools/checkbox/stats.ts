/** mean ± SE over runs, as the checkbox tools print it: `+1.23 ± 0.45 (n 12)`. */
export function meanSe(a: number[]): string {
  const n = a.length;
  if (n === 0) return 'n/a (n 0)';
  const m = a.reduce((x, y) => x + y, 0) / n;
  const sd = Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / Math.max(1, n - 1));
  return `${m >= 0 ? '+' : ''}${m.toFixed(2)} ± ${(sd / Math.sqrt(n)).toFixed(2)} (n ${n})`;
}
