// Canonical JSON (docs/bindings.md, "Differential mode") of JS values, byte for byte what
// pennon_core::json::canonical writes: keys sorted by their UTF-8 bytes, no whitespace,
// non-ASCII as is, strings escaped as JSON.stringify does, integral numbers within ±2^53
// without fraction, other numbers in the shortest round-trip form that core's serde_json
// writes (fixed notation for decimal exponents -5…15, else `1.5e+16` / `1e-7`; an
// integral value above 2^53 in fixed notation keeps a `.0`).

const utf8 = new TextEncoder();

function compareUtf8(a, b) {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function canonicalNumber(n) {
  if (!Number.isFinite(n)) throw new TypeError(`${n} has no JSON form`);
  if (Number.isInteger(n) && Math.abs(n) <= 2 ** 53) return String(n === 0 ? 0 : n);
  const exponential = n.toExponential();
  const exponent = Number(exponential.slice(exponential.indexOf('e') + 1));
  if (exponent < -5 || exponent > 15) return exponential;
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

/** The canonical JSON text of a JSON-like JS value. */
export function canonical(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return canonicalNumber(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
      const keys = Object.keys(value).sort(compareUtf8);
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} has no JSON form`);
  }
}
