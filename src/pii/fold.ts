// The text the built-in recognizers read: the separators and digits people (and forms, and attackers) write
// in many ways folded onto the few the patterns know, with a map back to the original text.

/**
 * What folding changes: whitespace other than a plain space (tab, line breaks, no-break and thin spaces),
 * two spaces in a row, dashes other than `-` (en dash, minus sign), what does not show on its own (format
 * characters such as zero-width spaces, joiners, soft hyphens and direction marks, variation selectors,
 * fillers, tags, and combining marks), full-width ASCII (`＋４９`) and decimal digits of other scripts (`٤٩`).
 * Text without any is read as it is.
 */
const FOLDABLE =
  /[\t-\r\u00a0\u1680\u2000-\u200a\u2010-\u2015\u2028\u2029\u202f\u205f\u2212\u3000\ufe58\ufe63\uff01-\uff5e\p{Default_Ignorable_Code_Point}\p{M}]| {2}|(?![0-9])\p{Nd}/u;

const SPACE = /[\t-\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const DASH = /[\u2010-\u2015\u2212\ufe58\ufe63]/u;
// What does not show, or shows only as part of the character before it: format characters, variation
// selectors, fillers, tags (Unicode's default-ignorable code points) and combining marks (`4\u0301`).
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{M}]/u;
const DIGIT = /\p{Nd}/u;

export interface FoldedText {
  text: string;
  /** For each character of `text`, where the original characters it stands for begin and end. */
  begins: Int32Array;
  ends: Int32Array;
}

/** `text` folded for the recognizers, or `undefined` when there is nothing to fold. Linear. */
export function foldText(text: string): FoldedText | undefined {
  if (!FOLDABLE.test(text)) return undefined;
  const parts: string[] = [];
  const begins = new Int32Array(text.length);
  const ends = new Int32Array(text.length);
  let lastIsSpace = false;
  for (let index = 0; index < text.length;) {
    const codePoint = text.codePointAt(index)!;
    const width = codePoint > 0xffff ? 2 : 1;
    const char = text.slice(index, index + width);
    let into: string | undefined;
    if (codePoint === 0x20 || (codePoint >= 0x09 && codePoint <= 0x0d) || (codePoint > 0x7e && SPACE.test(char))) {
      // A run of spaces of any kind is one space.
      into = lastIsSpace ? undefined : ' ';
    } else if (codePoint <= 0x7e) into = char;
    else if (DASH.test(char)) into = '-';
    else if (INVISIBLE.test(char)) into = undefined;
    else if (codePoint >= 0xff01 && codePoint <= 0xff5e) into = String.fromCharCode(codePoint - 0xfee0);
    else if (DIGIT.test(char)) into = String.fromCharCode(48 + digitValue(codePoint));
    else into = char;
    if (into !== undefined) {
      begins[parts.length] = index;
      ends[parts.length] = index + width;
      parts.push(into);
      lastIsSpace = into === ' ';
    } else if (parts.length > 0) {
      // A space run's other spaces, or an invisible character, go with the character before them, so a
      // match around them covers them too.
      ends[parts.length - 1] = index + width;
    }
    index += width;
  }
  return { text: parts.join(''), begins: begins.subarray(0, parts.length), ends: ends.subarray(0, parts.length) };
}

/**
 * A decimal digit's value: Unicode encodes every script's digits as runs of ten, zero first, and never
 * changes that (its stability policy), so the value is the distance from the run's start, modulo ten.
 */
function digitValue(codePoint: number): number {
  let value = digitValues.get(codePoint);
  if (value === undefined) {
    let start = codePoint;
    while (start > 0 && codePoint - start < 100 && DIGIT.test(String.fromCodePoint(start - 1))) start--;
    digitValues.set(codePoint, (value = (codePoint - start) % 10));
  }
  return value;
}

// Bounded by Unicode: fewer than a thousand decimal digits outside ASCII.
const digitValues = new Map<number, number>();
