// Just enough of Kubernetes resource quantities to resolve `resourceFieldRef` env vars (istiod's GOMAXPROCS):
// "500m", "2", "2048Mi", "1G", "1e3".

const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(quantity: string): number | undefined {
  const match = /^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+)|([a-zA-Z]*))$/.exec(quantity.trim());
  if (!match) return undefined;
  const [, number = '', exponent, suffix = ''] = match;
  const base = Number(number);
  if (Number.isNaN(base)) return undefined;
  if (exponent !== undefined) return base * 10 ** Number(exponent);
  const multiplier = SUFFIXES[suffix];
  return multiplier === undefined ? undefined : base * multiplier;
}
