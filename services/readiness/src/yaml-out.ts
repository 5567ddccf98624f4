/**
 * Writes plain data (what JSON can hold) as block-style YAML 1.2, for receipts. The `yaml`
 * library builds a document model of every node before it writes a character: in the N=2000
 * pipeline profile that was 12% of all CPU, more than any other single cost of a preflight
 * (issue 14). A receipt is a tree of maps, lists and scalars, so it is written directly here.
 *
 * A string is written plain when it cannot be read back as anything else (no indicator first, no
 * `: ` or ` #`, not a number, boolean or null in YAML 1.2 or 1.1, no control characters), else
 * double-quoted with JSON's escapes (a subset of YAML's). `yaml-out.unit.spec.ts` reads every
 * output back with the `yaml` library and compares.
 */
export function toYaml(value: unknown): string {
  const out: string[] = [];
  if (isMap(value) && Object.keys(value).some((k) => value[k] !== undefined)) writeMap(value, 0, out);
  else if (Array.isArray(value) && value.length > 0) writeSeq(value, 0, out);
  else out.push(`${scalar(value)}\n`);
  return out.join('');
}

type Plain = Record<string, unknown>;
const isMap = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);
const pad = (n: number): string => ' '.repeat(n);

/** Whether the value is written on its own lines below its key (a non-empty map or list). */
function isBlock(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return isMap(v) && Object.keys(v).some((k) => v[k] !== undefined);
}

function writeMap(m: Plain, indent: number, out: string[], firstPrefix?: string): void {
  let first = true;
  for (const k of Object.keys(m)) {
    const v = m[k];
    if (v === undefined) continue; // as JSON and the yaml library do
    const lead = first && firstPrefix !== undefined ? firstPrefix : pad(indent);
    first = false;
    const key = scalar(k);
    if (!isBlock(v)) out.push(`${lead}${key}: ${scalar(v)}\n`);
    else if (Array.isArray(v)) {
      out.push(`${lead}${key}:\n`);
      writeSeq(v, indent + 2, out);
    } else {
      out.push(`${lead}${key}:\n`);
      writeMap(v as Plain, indent + 2, out);
    }
  }
}

function writeSeq(items: unknown[], indent: number, out: string[], firstPrefix?: string): void {
  items.forEach((item, i) => {
    const lead = i === 0 && firstPrefix !== undefined ? firstPrefix : pad(indent);
    // The item's own content starts after "- " on the same line, and continues at indent + 2.
    if (!isBlock(item)) out.push(`${lead}- ${scalar(item === undefined ? null : item)}\n`);
    else if (Array.isArray(item)) writeSeq(item, indent + 2, out, `${lead}- `);
    else writeMap(item as Plain, indent + 2, out, `${lead}- `);
  });
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return plainSafe(v) ? v : quoted(v);
  if (Array.isArray(v)) return '[]';
  if (isMap(v)) return '{}';
  return 'null'; // a function or a symbol: JSON has no such value either
}

// Starts with a character that is no YAML indicator; no control characters anywhere (C0, DEL,
// C1, and the line and paragraph separators other readers treat as breaks).
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const PLAIN_CHARS = /^[A-Za-z0-9_./()$^=+;<\\][^\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]*$/;
// Read back as something other than a string by a YAML 1.2 or 1.1 reader.
const SPECIAL = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|<<)$/;
const NUMBERISH = new RegExp(
  [
    /^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/.source, // ints and floats
    /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.source, // YAML 1.1 base 60 (12:30)
    /^[-+]?0x[0-9a-fA-F_]+$|^0o[0-7_]+$|^[-+]?0b[01_]+$|^[-+]?0[0-7_]+$/.source,
    /^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/.source,
  ].join('|'),
);

function plainSafe(s: string): boolean {
  if (s === '' || s !== s.trim()) return false;
  if (!PLAIN_CHARS.test(s) || SPECIAL.test(s) || NUMBERISH.test(s)) return false;
  return !s.includes(': ') && !s.includes(' #') && !s.endsWith(':');
}

function quoted(s: string): string {
  // JSON's escapes are YAML double-quoted escapes; escape what JSON leaves raw but YAML readers
  // may take as a line break or a byte-order mark.
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
