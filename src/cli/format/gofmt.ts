// The parts of Go's fmt and strconv that templates print with: `%v` for every value kind,
// Sprint / Sprintln / Sprintf (flags, width, precision, `*`, `[n]` argument indexes and Go's
// `%!verb(...)` error annotations), floats formatted like strconv (exactly rounded, half to even),
// and strconv.Quote. See values.ts for how JS values map onto Go kinds.
import { canBackquote, describeRune, formatFloat, goQuote, goQuoteRune } from './gostrconv.ts';
import { goKind, goTypeName, isPrintRune, mapEntries, runeCount, sliceItems, utf8Bytes } from './values.ts';

export { describeRune, formatFloat, goQuote, goQuoteRune };

// ---------------------------------------------------------------------------------------------
// Printer (Go's pp + fmt)

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function clearFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    widPresent: false,
    prec: 0,
    precPresent: false,
  };
}

function toBigInt(v: unknown): bigint {
  return typeof v === 'bigint' ? v : BigInt(v as number);
}

function timeString(d: Date): string {
  if (Number.isNaN(d.getTime())) return '<invalid time>';
  const iso = d.toISOString(); // 2024-01-02T03:04:05.120Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

class Printer {
  buf = '';
  f: Flags = clearFlags();
  /** Lists and maps being printed, to cut cycles (which Go values rarely have; JS objects can). */
  private readonly printing = new Set<object>();

  private writePadding(n: number): void {
    if (n > 0) this.buf += (this.f.zero && !this.f.minus ? '0' : ' ').repeat(n);
  }

  private pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += s;
      return;
    }
    const n = this.f.wid - runeCount(s);
    if (this.f.minus) {
      this.buf += s;
      this.writePadding(n);
    } else {
      this.writePadding(n);
      this.buf += s;
    }
  }

  private withoutZero(fn: () => void): void {
    const old = this.f.zero;
    this.f.zero = false;
    fn();
    this.f.zero = old;
  }

  private truncate(s: string): string {
    if (!this.f.precPresent) return s;
    let out = '';
    let n = 0;
    for (const ch of s) {
      if (n++ >= this.f.prec) break;
      out += ch;
    }
    return out;
  }

  // --- basic kinds

  private fmtInteger(v: bigint, base: number, verb: string, upper: boolean): void {
    const f = this.f;
    const negative = v < 0n;
    const u = negative ? -v : v;
    let prec = 0;
    if (f.precPresent) {
      prec = f.prec;
      if (prec === 0 && u === 0n) {
        this.withoutZero(() => this.writePadding(f.wid));
        return;
      }
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid;
      if (negative || f.plus || f.space) prec--;
    }
    let s = u.toString(base);
    if (upper) s = s.toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (f.sharp) {
      if (base === 2) s = `0b${s}`;
      else if (base === 8 && s[0] !== '0') s = `0${s}`;
      else if (base === 16) s = (upper ? '0X' : '0x') + s;
    }
    if (verb === 'O') s = `0o${s}`;
    if (negative) s = `-${s}`;
    else if (f.plus) s = `+${s}`;
    else if (f.space) s = ` ${s}`;
    this.withoutZero(() => this.pad(s));
  }

  private fmtC(v: bigint): void {
    const cp = v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn) ? 0xfffd : Number(v);
    this.pad(String.fromCodePoint(cp));
  }

  private fmtUnicode(v: bigint): void {
    let s = `U+${(v < 0n ? -v : v)
      .toString(16)
      .toUpperCase()
      .padStart(this.f.precPresent ? this.f.prec : 4, '0')}`;
    if (v < 0n) s = `U+-${s.slice(2)}`;
    if (this.f.sharp && v >= 0n && v <= 0x10ffffn && isPrintRune(Number(v))) {
      s += ` '${String.fromCodePoint(Number(v))}'`;
    }
    this.withoutZero(() => this.pad(s));
  }

  private printInt(v: bigint, verb: string): void {
    switch (verb) {
      case 'v':
      case 'd':
        this.fmtInteger(v, 10, verb, false);
        return;
      case 'b':
        this.fmtInteger(v, 2, verb, false);
        return;
      case 'o':
      case 'O':
        this.fmtInteger(v, 8, verb, false);
        return;
      case 'x':
        this.fmtInteger(v, 16, verb, false);
        return;
      case 'X':
        this.fmtInteger(v, 16, verb, true);
        return;
      case 'c':
        this.fmtC(v);
        return;
      case 'q':
        this.pad(goQuoteRune(v > 0x10ffffn || v < 0n ? 0xfffd : Number(v), this.f.plus));
        return;
      case 'U':
        this.fmtUnicode(v);
        return;
      default:
        this.badVerb(verb, v, true);
        return;
    }
  }

  private fmtFloat(v: number, verb: string, prec: number): void {
    const f = this.f;
    if (f.precPresent) prec = f.prec;
    let num = formatFloat(v, verb, prec);
    if (num[0] !== '-' && num[0] !== '+') num = `+${num}`;
    if (f.space && num[0] === '+' && !f.plus) num = ` ${num.slice(1)}`;
    if (num[1] === 'I' || num[1] === 'N') {
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
      this.withoutZero(() => this.pad(num));
      return;
    }
    if (f.plus || num[0] !== '+') {
      if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
        this.buf += num[0];
        this.writePadding(f.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  private printFloat(v: number, verb: string): void {
    switch (verb) {
      case 'v':
        this.fmtFloat(v, 'g', -1);
        return;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        this.fmtFloat(v, verb, -1);
        return;
      case 'f':
      case 'F':
        this.fmtFloat(v, 'f', 6);
        return;
      case 'e':
      case 'E':
        this.fmtFloat(v, verb, 6);
        return;
      default:
        this.badVerb(verb, v, true);
        return;
    }
  }

  private fmtSbx(bytes: Uint8Array, upper: boolean): void {
    const f = this.f;
    let length = bytes.length;
    if (f.precPresent && f.prec < length) length = f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (f.space) {
        if (f.sharp) width *= 2;
        width += length - 1;
      } else if (f.sharp) width += 2;
    } else {
      if (f.widPresent) this.writePadding(f.wid);
      return;
    }
    if (f.widPresent && f.wid > width && !f.minus) this.writePadding(f.wid - width);
    const prefix = upper ? '0X' : '0x';
    let s = f.sharp ? prefix : '';
    for (let i = 0; i < length; i++) {
      if (f.space && i > 0) s += f.sharp ? ` ${prefix}` : ' ';
      const h = (bytes[i] ?? 0).toString(16).padStart(2, '0');
      s += upper ? h.toUpperCase() : h;
    }
    this.buf += s;
    if (f.widPresent && f.wid > width && f.minus) this.writePadding(f.wid - width);
  }

  private fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.f.sharp && canBackquote(s)) this.pad(`\`${s}\``);
    else this.pad(goQuote(s, this.f.plus));
  }

  private printString(s: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) {
          this.fmtQ(s);
          return;
        }
        this.pad(this.truncate(s));
        return;
      case 's':
        this.pad(this.truncate(s));
        return;
      case 'x':
      case 'X':
        this.fmtSbx(utf8Bytes(s), verb === 'X');
        return;
      case 'q':
        this.fmtQ(s);
        return;
      default:
        this.badVerb(verb, s, true);
        return;
    }
  }

  private printBool(b: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.pad(b ? 'true' : 'false');
    else this.badVerb(verb, b, true);
  }

  private badVerb(verb: string, value: unknown, hasValue: boolean): void {
    this.buf += `%!${verb}(`;
    if (!hasValue || value === null || value === undefined) this.buf += '<nil>';
    else {
      this.buf += `${goTypeName(value)}=`;
      this.printArg(value, 'v');
    }
    this.buf += ')';
  }

  // --- any value

  printArg(arg: unknown, verb: string): void {
    if (arg === null || arg === undefined) {
      if (verb === 'T' || verb === 'v')
        this.pad(this.f.sharpV && verb === 'v' ? 'interface {}(nil)' : '<nil>');
      else this.badVerb(verb, arg, false);
      return;
    }
    if (verb === 'T') {
      this.pad(this.truncate(goTypeName(arg)));
      return;
    }
    this.printValue(arg, verb, 0);
  }

  private printValue(v: unknown, verb: string, depth: number): void {
    const f = this.f;
    switch (goKind(v)) {
      case 'nil':
        this.buf += f.sharpV ? 'interface {}(nil)' : '<nil>';
        return;
      case 'bool':
        this.printBool(v as boolean, verb);
        return;
      case 'int':
        // A JS number has no int/float distinction: float verbs format it as a float.
        if (typeof v === 'number' && 'eEfFgG'.includes(verb)) this.printFloat(v, verb);
        else this.printInt(toBigInt(v), verb);
        return;
      case 'float':
        this.printFloat(v as number, verb);
        return;
      case 'string':
        this.printString(v as string, verb);
        return;
      case 'time': {
        if (verb === 'v' || verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') {
          this.printString(timeString(v as Date), verb === 'v' ? 's' : verb);
          return;
        }
        this.badVerb(verb, timeString(v as Date), true);
        return;
      }
      case 'func':
        if (verb === 'v' || verb === 'p') {
          this.pad(typeof v === 'symbol' ? String(v) : '0x0');
          return;
        }
        this.badVerb(verb, v, true);
        return;
      case 'bytes':
        if (verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') {
          const bytes = v as Uint8Array;
          if (verb === 'x' || verb === 'X') {
            this.fmtSbx(bytes, verb === 'X');
            return;
          }
          this.printString(new TextDecoder().decode(bytes), verb);
          return;
        }
        break;
      default:
        break;
    }
    const container = v as object;
    if (this.printing.has(container)) {
      this.buf += '<cycle>';
      return;
    }
    this.printing.add(container);
    try {
      this.printContainer(v, verb, depth);
    } finally {
      this.printing.delete(container);
    }
  }

  private printContainer(v: unknown, verb: string, depth: number): void {
    const f = this.f;
    if (goKind(v) === 'map') {
      const entries = mapEntries(v as object);
      if (f.sharpV) {
        this.buf += `${goTypeName(v)}{`;
        entries.forEach(([k, x], i) => {
          if (i > 0) this.buf += ', ';
          this.printValue(k, verb, depth + 1);
          this.buf += ':';
          this.printValue(x, verb, depth + 1);
        });
        this.buf += '}';
        return;
      }
      this.buf += 'map[';
      entries.forEach(([k, x], i) => {
        if (i > 0) this.buf += ' ';
        this.printValue(k, verb, depth + 1);
        this.buf += ':';
        this.printValue(x, verb, depth + 1);
      });
      this.buf += ']';
      return;
    }
    // slices
    const items = sliceItems(v);
    if (f.sharpV) {
      this.buf += `${goTypeName(v)}{`;
      items.forEach((x, i) => {
        if (i > 0) this.buf += ', ';
        this.printValue(x, verb, depth + 1);
      });
      this.buf += '}';
      return;
    }
    this.buf += '[';
    items.forEach((x, i) => {
      if (i > 0) this.buf += ' ';
      this.printValue(x, verb, depth + 1);
    });
    this.buf += ']';
  }

  // --- Sprintf

  doPrintf(format: string, args: readonly unknown[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;

    const parsenum = (i: number): { num: number; isnum: boolean; next: number } => {
      let num = 0;
      let isnum = false;
      while (i < end && format.charCodeAt(i) >= 48 && format.charCodeAt(i) <= 57) {
        num = num * 10 + (format.charCodeAt(i) - 48);
        if (num > 1e6) return { num: 0, isnum: false, next: end };
        isnum = true;
        i++;
      }
      return { num, isnum, next: i };
    };

    const argNumber = (i: number): { argNum: number; next: number; found: boolean } => {
      if (i >= end || format[i] !== '[') return { argNum, next: i, found: false };
      reordered = true;
      // parseArgNumber
      let index = 0;
      let wid = 1;
      let ok = false;
      if (end - i >= 3) {
        for (let j = i + 1; j < end; j++) {
          if (format[j] === ']') {
            const p = parsenum(i + 1);
            if (!p.isnum || p.next !== j) {
              wid = j - i + 1;
              ok = false;
            } else {
              index = p.num - 1;
              wid = j - i + 1;
              ok = true;
            }
            break;
          }
        }
      }
      if (ok && index >= 0 && index < args.length) return { argNum: index, next: i + wid, found: true };
      goodArgNum = false;
      return { argNum, next: i + wid, found: ok };
    };

    const intFromArg = (): { num: number; isInt: boolean } => {
      if (argNum >= args.length) return { num: 0, isInt: false };
      const a = args[argNum++];
      if (goKind(a) === 'int') {
        const n = Number(a);
        if (Math.abs(n) > 1e6) return { num: 0, isInt: false };
        return { num: n, isInt: true };
      }
      return { num: 0, isInt: false };
    };

    let i = 0;
    while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      this.f = clearFlags();
      const f = this.f;
      let simple = false;
      flags: for (; i < end; i++) {
        const c = format[i];
        switch (c) {
          case '#':
            f.sharp = true;
            break;
          case '0':
            f.zero = !f.minus;
            break;
          case '+':
            f.plus = true;
            break;
          case '-':
            f.minus = true;
            f.zero = false;
            break;
          case ' ':
            f.space = true;
            break;
          default:
            if (c !== undefined && c >= 'a' && c <= 'z' && argNum < args.length) {
              if (c === 'v') {
                f.sharpV = f.sharp;
                f.sharp = false;
                f.plusV = f.plus;
                f.plus = false;
              }
              this.printArg(args[argNum], c);
              argNum++;
              i++;
              simple = true;
            }
            break flags;
        }
      }
      if (simple) continue;

      let r = argNumber(i);
      argNum = r.argNum;
      i = r.next;
      afterIndex = r.found;

      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg();
        f.wid = w.num;
        f.widPresent = w.isInt;
        if (!w.isInt) this.buf += '%!(BADWIDTH)';
        if (f.wid < 0) {
          f.wid = -f.wid;
          f.minus = true;
          f.zero = false;
        }
        afterIndex = false;
      } else {
        const p = parsenum(i);
        f.wid = p.num;
        f.widPresent = p.isnum;
        i = p.next;
        if (afterIndex && f.widPresent) goodArgNum = false;
      }

      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        r = argNumber(i);
        argNum = r.argNum;
        i = r.next;
        afterIndex = r.found;
        if (i < end && format[i] === '*') {
          i++;
          const p = intFromArg();
          f.prec = p.num;
          f.precPresent = p.isInt;
          if (f.prec < 0) {
            f.prec = 0;
            f.precPresent = false;
          }
          if (!p.isInt) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          const p = parsenum(i);
          f.prec = p.num;
          f.precPresent = true;
          i = p.next;
        }
      }

      if (!afterIndex) {
        r = argNumber(i);
        argNum = r.argNum;
        i = r.next;
        afterIndex = r.found;
      }

      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i) ?? 0xfffd);
      i += verb.length;
      if (verb === '%') {
        this.buf += '%';
      } else if (!goodArgNum) {
        this.buf += `%!${verb}(BADINDEX)`;
      } else if (argNum >= args.length) {
        this.buf += `%!${verb}(MISSING)`;
      } else {
        if (verb === 'v') {
          f.sharpV = f.sharp;
          f.sharp = false;
          f.plusV = f.plus;
          f.plus = false;
        }
        this.printArg(args[argNum], verb);
        argNum++;
      }
    }

    if (!reordered && argNum < args.length) {
      this.f = clearFlags();
      this.buf += '%!(EXTRA ';
      args.slice(argNum).forEach((arg, k) => {
        if (k > 0) this.buf += ', ';
        if (arg === null || arg === undefined) this.buf += '<nil>';
        else {
          this.buf += `${goTypeName(arg)}=`;
          this.printArg(arg, 'v');
        }
      });
      this.buf += ')';
    }
  }
}

/** fmt.Sprintf. */
export function sprintf(format: string, ...args: unknown[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
}

/** fmt.Sprint: operands formatted with %v, a space between operands when neither is a string. */
export function sprint(...args: unknown[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.f = clearFlags();
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: operands formatted with %v, always space-separated, newline appended. */
export function sprintln(...args: unknown[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.buf += ' ';
    p.f = clearFlags();
    p.printArg(arg, 'v');
  });
  return `${p.buf}\n`;
}

/** A value as Go's `%v` prints it (null → `<nil>`). */
export function formatGoValue(v: unknown): string {
  return sprint(v === undefined ? null : v);
}
