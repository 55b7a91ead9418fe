/**
 * Parsers of the plain value kinds config keys take (booleans, words, strings, lists, counts).
 * Each returns the parsed value or throws an Error whose message says what is expected; the
 * loader prefixes the key's name.
 */
import { parseAddress } from './values.js';

/** true/false, or from the environment also 1/0. */
export const boolean = (value: unknown): boolean => {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
};

/** One of the given words. */
export const oneOf =
  <T extends string>(...values: T[]) =>
  (value: unknown): T => {
    if (typeof value === 'string' && (values as string[]).includes(value)) return value as T;
    throw new Error(`expected one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
  };

/** A string with something in it. */
export const nonEmptyString = (value: unknown): string => {
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new Error(`expected a non-empty string, got ${JSON.stringify(value)}`);
};

/** An absolute URL path outside /v2, such as /metrics. */
export const urlPath = (value: unknown): string => {
  if (typeof value === 'string' && /^\/[A-Za-z0-9/_.-]*$/.test(value) && !value.startsWith('/v2'))
    return value;
  throw new Error(`expected an absolute URL path outside /v2 such as /metrics, got ${JSON.stringify(value)}`);
};

/** A listen address, host:port or :port. */
export const address = (value: unknown): string => {
  parseAddress(value);
  return String(value).trim();
};

/** A string, possibly empty (empty means unset). */
export const optionalString = (value: unknown): string => {
  if (typeof value === 'string') return value.trim();
  throw new Error(`expected a string, got ${JSON.stringify(value)}`);
};

/** A YAML list of strings, or (from the environment) a comma-separated string. */
export const stringList = (value: unknown): string[] => {
  const list = typeof value === 'string' ? value.split(',') : value;
  if (Array.isArray(list) && list.every((item) => typeof item === 'string'))
    return list.map((item) => item.trim()).filter((item) => item !== '');
  throw new Error(`expected a list of strings, got ${JSON.stringify(value)}`);
};

/** An http(s) URL, or empty for unset. */
export const httpUrlOrEmpty = (value: unknown): string => {
  const text = optionalString(value);
  if (text === '' || /^https?:\/\/[^\s/]+/.test(text)) return text;
  throw new Error(`expected an http:// or https:// URL, got ${JSON.stringify(value)}`);
};

/** A whole number >= 0. */
export const count = (value: unknown): number => {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number === 'number' && Number.isInteger(number) && number >= 0) return number;
  throw new Error(`expected a whole number >= 0, got ${JSON.stringify(value)}`);
};

/** A whole number >= 1. */
export const positiveCount = (value: unknown): number => {
  const number = count(value);
  if (number >= 1) return number;
  throw new Error(`expected a whole number >= 1, got ${JSON.stringify(value)}`);
};
