// Go's strconv for templates: floats formatted exactly (shortest, %e/%f/%g/%x, half to even)
// and strconv.Quote / QuoteRune.
import { isPrintRune } from './values.ts';
// ---------------------------------------------------------------------------------------------
// Float digits

/** A decimal: `digits` (no leading or trailing zeros) × 10^(dp - digits.length). */
interface Decimal {
  digits: string;
  dp: number;
}

function trimZeros(d: Decimal): Decimal {
  let end = d.digits.length;
  while (end > 0 && d.digits[end - 1] === '0') end--;
  return end === 0 ? { digits: '', dp: 0 } : { digits: d.digits.slice(0, end), dp: d.dp };
}

/** The exact decimal value of a positive finite double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  if (exp >= 0) {
    const s = (mant << BigInt(exp)).toString();
    return trimZeros({ digits: s, dp: s.length });
  }
  const s = (mant * 5n ** BigInt(-exp)).toString();
  return trimZeros({ digits: s, dp: s.length + exp });
}

/** The shortest decimal that reads back as x (what Go's -1 precision uses). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const [mant = '0', exp = '0'] = x.toExponential().split('e');
  return trimZeros({ digits: mant.replace('.', ''), dp: Number(exp) + 1 });
}

/** Rounds to nd digits, exactly halfway rounding to even (strconv's decimal.Round). */
function roundDecimal(d: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next === 5 && nd + 1 === d.digits.length) {
    up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else up = next >= 5;
  if (!up) return trimZeros({ digits: d.digits.slice(0, nd), dp: d.dp });
  let i = nd - 1;
  while (i >= 0 && d.digits[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  const digits = d.digits.slice(0, i) + String.fromCharCode(d.digits.charCodeAt(i) + 1);
  return { digits, dp: d.dp };
}

function fmtE(d: Decimal, prec: number, ch: string): string {
  let s = d.digits[0] ?? '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += d.digits[i] ?? '0';
  }
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${ch}${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
}

function fmtF(d: Decimal, prec: number): string {
  let s: string;
  if (d.dp > 0) {
    const m = Math.min(d.digits.length, d.dp);
    s = d.digits.slice(0, m) + '0'.repeat(d.dp - m);
  } else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      s += j >= 0 && j < d.digits.length ? d.digits[j] : '0';
    }
  }
  return s;
}

function fmtHexFloat(x: number, prec: number, upper: boolean): string {
  let s: string;
  if (x === 0) {
    s = `0x0${prec > 0 ? `.${'0'.repeat(prec)}` : ''}p+00`;
  } else {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const hi = view.getUint32(0);
    const expBits = (hi >>> 20) & 0x7ff;
    let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
    let exp = expBits === 0 ? -1022 : expBits - 1023;
    if (expBits !== 0) mant |= 1n << 52n;
    while (mant < 1n << 52n) {
      mant <<= 1n;
      exp--;
    }
    // mant is 1.xxx with 52 fraction bits (13 hex digits).
    let frac = mant - (1n << 52n);
    let hex: string;
    if (prec >= 0 && prec < 13) {
      const shift = BigInt((13 - prec) * 4);
      const half = 1n << (shift - 1n);
      const rem = frac & ((1n << shift) - 1n);
      frac >>= shift;
      if (rem > half || (rem === half && (frac & 1n) === 1n)) frac++;
      if (frac >= 1n << BigInt(prec * 4)) {
        frac = 0n;
        exp++;
      }
      hex = prec === 0 ? '' : frac.toString(16).padStart(prec, '0');
    } else {
      hex = frac.toString(16).padStart(13, '0');
      hex = prec < 0 ? hex.replace(/0+$/, '') : hex + '0'.repeat(prec - 13);
    }
    const abs = Math.abs(exp);
    s = `0x1${hex ? `.${hex}` : ''}p${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
  }
  return upper ? s.toUpperCase() : s;
}

function fmtBinaryFloat(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let exp = expBits === 0 ? -1074 : expBits - 1075;
  if (expBits !== 0) mant |= 1n << 52n;
  if (x === 0) exp = -1074;
  return `${mant}p${exp >= 0 ? '+' : ''}${exp}`;
}

/**
 * strconv.FormatFloat(x, fmt, prec, 64) for fmt in e E f g G x X b; prec -1 is "shortest".
 */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  const sign = neg ? '-' : '';
  if (fmt === 'x' || fmt === 'X') return sign + fmtHexFloat(a, prec, fmt === 'X');
  if (fmt === 'b') return sign + fmtBinaryFloat(a);
  const shortest = prec < 0;
  let d: Decimal;
  if (shortest) {
    d = shortestDecimal(a);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(d.digits.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(d.digits.length - d.dp, 0);
    else prec = d.digits.length;
  } else {
    const exact = exactDecimal(a);
    if (fmt === 'e' || fmt === 'E') d = roundDecimal(exact, prec + 1);
    else if (fmt === 'f') d = roundDecimal(exact, exact.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDecimal(exact, prec);
    }
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return sign + fmtE(d, prec, fmt);
    case 'f':
      return sign + fmtF(d, prec);
    default: {
      // g, G
      const nd = d.digits.length;
      let eprec = prec;
      if (eprec > nd && nd >= d.dp) eprec = nd;
      if (shortest) eprec = 6;
      const exp = d.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > nd) prec = nd;
        return sign + fmtE(d, prec - 1, fmt === 'G' ? 'E' : 'e');
      }
      if (prec > d.dp) prec = nd;
      return sign + fmtF(d, Math.max(prec - d.dp, 0));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Quoting

const SHORT_ESCAPES: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
};

function escapeRune(cp: number, quote: number, asciiOnly: boolean): string {
  if (cp === quote || cp === 0x5c) return `\\${String.fromCodePoint(cp)}`;
  if (asciiOnly ? cp < 0x80 && isPrintRune(cp) : isPrintRune(cp)) return String.fromCodePoint(cp);
  const short = SHORT_ESCAPES[cp];
  if (short !== undefined) return short;
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0xfffd;
    out.push(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
  }
  return out;
}

/** strconv.Quote (or QuoteToASCII). */
export function goQuote(s: string, asciiOnly = false): string {
  return `"${codePoints(s)
    .map((cp) => escapeRune(cp, 0x22, asciiOnly))
    .join('')}"`;
}

/** strconv.QuoteRune (or QuoteRuneToASCII). */
export function goQuoteRune(cp: number, asciiOnly = false): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0) cp = 0xfffd;
  return `'${escapeRune(cp, 0x27, asciiOnly)}'`;
}

export function canBackquote(s: string): boolean {
  for (const cp of codePoints(s)) {
    if (cp === 0x60 || cp === 0xfeff || cp === 0xfffd) return false;
    if (cp < 0x20 && cp !== 9) return false;
    if (cp === 0x7f) return false;
  }
  return true;
}

/** Go's `%#U`-style rune description: `U+007D '}'`. */
export function describeRune(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrintRune(cp) ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}
