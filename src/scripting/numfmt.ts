// printf's %g for doubles, as the C Lua and Redis format numbers: "%.14g"
// (Lua's tostring, cjson) and "%.17g" (numbers given to redis.call).

/** printf("%.<digits>g", n). */
export function fmtG(n: number, digits: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  let s = n.toExponential(digits - 1); // d.ddde±x, rounded as printf rounds
  let [m, e] = s.split('e');
  const x = Number(e);
  if (x < -4 || x >= digits) {
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
    return `${m}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  }
  s = n.toFixed(Math.max(0, digits - 1 - x));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** printf("%.14g", n): Lua 5.1's number format. */
export function fmt14g(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e14) return String(n);
  return fmtG(n, 14);
}
