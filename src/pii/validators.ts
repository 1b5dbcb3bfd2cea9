// Checksums and range rules that turn a pattern match into a confident detection (Luhn, IBAN, US SSN).

/** Luhn (mod 10) over the digits of `text`; separators are ignored. */
export function luhnValid(text: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) continue;
    digits++;
    let value = code;
    if (double) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
    double = !double;
  }
  return digits > 0 && sum % 10 === 0;
}

/** A payment card number: 13 to 19 digits, Luhn-valid, not one repeated digit. */
export function cardValid(text: string): boolean {
  const digits = text.replace(/[ ./_-]/g, '');
  if (digits.length < 13 || digits.length > 19 || /^(\d)\1+$/.test(digits)) return false;
  return luhnValid(digits);
}

// Lengths of IBANs by country (ISO 13616 registry, the commonly used part).
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BI: 27,
  BY: 28,
  DJ: 27,
  FK: 18,
  IQ: 23,
  LC: 32,
  LY: 25,
  MN: 20,
  NI: 28,
  OM: 23,
  RU: 33,
  SC: 31,
  SD: 18,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  VA: 22,
  YE: 30,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TN: 24,
  TR: 26,
  UA: 29,
  VG: 24,
  XK: 20,
};

/** An IBAN: known country length (15–34 for unknown countries) and ISO 7064 mod 97 equal to 1. */
export function ibanValid(text: string): boolean {
  const iban = text.replace(/[ .-]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected !== undefined ? iban.length !== expected : iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

/**
 * A US social security number written `AAA-GG-SSSS` (or with spaces): never issued are area 000, 666 and
 * 900–999, group 00 and serial 0000.
 */
export function ssnValid(text: string): boolean {
  const match = /^(\d{3})[- ](\d{2})[- ](\d{4})$/.exec(text);
  if (!match) return false;
  const area = Number(match[1]);
  if (area === 0 || area === 666 || area >= 900) return false;
  return match[2] !== '00' && match[3] !== '0000';
}

const isAlphanumeric = (code: number) => (code >= 48 && code <= 57) || ((code | 0x20) >= 97 && (code | 0x20) <= 122);

/**
 * The length of the IBAN at the start of `text` (separated as people write them: spaces, dots or dashes
 * anywhere), or 0. For a country of the registry above the length is known, so the IBAN ends where it must,
 * whatever words follow; elsewhere it is the longest run of 15 to 34 letters and digits ending before a
 * separator that passes the check. Either way at least half of what follows the check digits is digits, as
 * in every country's account numbers, so a sentence's words are not taken for one, and an IBAN glued to
 * more letters or digits is part of a longer token (an id, a hash), not an IBAN.
 */
export function ibanPrefix(text: string): number {
  // One pass, each candidate length checked in constant time (a scan may ask at every letter of a long text):
  // the remainder mod 97 of the account number so far, times 10^6, plus the country and check digits'.
  let count = 0;
  let digits = 0;
  let country = '';
  let head = 0;
  let remainder = 0;
  let found = 0;
  let expected: number | undefined;
  for (let index = 0; index < text.length && count < 34; index++) {
    const code = text.charCodeAt(index);
    if (!isAlphanumeric(code)) continue;
    const value = code <= 57 ? code - 48 : (code | 0x20) - 87;
    count++;
    if (count <= 2) {
      country += String.fromCharCode(code & ~0x20);
      head = head * 100 + value;
      if (count === 2) expected = IBAN_LENGTHS[country];
      continue;
    }
    if (count <= 4) {
      head = head * 10 + value;
      continue;
    }
    if (code <= 57) digits++;
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
    if (count < 15 || (expected !== undefined && count !== expected)) continue;
    if (digits * 2 >= count - 4 && !isAlphanumeric(text.charCodeAt(index + 1))) {
      // 10^6 ≡ 27 (mod 97): the country's letters are two digits each, then the two check digits.
      if ((remainder * 27 + head) % 97 === 1) found = index + 1;
    }
    if (expected !== undefined) break;
  }
  return found > 0 && ibanValid(text.slice(0, found)) ? found : 0;
}

/**
 * The length of the longest card number at the start of `text`, or 0: a number followed by its security
 * code or expiry date (`4111 1111 1111 1111 123`, `4111111111111111 12/27`) is still one. One pass, no
 * allocation (a scan may ask it at every group of a long run of digits): the Luhn sums of every prefix are
 * kept for both parities, since which digits are doubled depends on the prefix's length.
 */
export function cardPrefix(text: string): number {
  let digits = 0;
  let longest = 0;
  // The Luhn sums with the digits at even (resp. odd) positions from the left doubled.
  let evenDoubled = 0;
  let oddDoubled = 0;
  let first = -1;
  let allSame = true;
  for (let index = 0; index < text.length && digits < 19; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) continue;
    const doubled = digit > 4 ? digit * 2 - 9 : digit * 2;
    if (digits % 2 === 0) {
      evenDoubled += doubled;
      oddDoubled += digit;
    } else {
      evenDoubled += digit;
      oddDoubled += doubled;
    }
    if (first === -1) first = digit;
    else if (digit !== first) allSame = false;
    digits++;
    // The last digit is never doubled, so the digits of the other parity are.
    if (digits >= 13 && !allSame && ((digits - 1) % 2 === 0 ? oddDoubled : evenDoubled) % 10 === 0) longest = index + 1;
  }
  return longest;
}
